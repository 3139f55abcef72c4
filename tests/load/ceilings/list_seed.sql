-- The list ceiling's data (after insert_schema.sql): the 10,000 posts every target holds, with
-- the values the targets seed (tests/load/targets/socle/target.sh): post i is published when i
-- is even, has views (i * 7919) % 10000 and author i % 100. The benchmark then runs vacuumdb
-- on it, as on every PostgreSQL target after its bulk load, so that the count is an index-only
-- scan here as there.
INSERT INTO posts (id, title, body, views, published, author, created, updated)
  SELECT lpad(to_hex(i), 15, '0'), 'Post ' || i, 'Body of post ' || i, (i * 7919) % 10000,
         i % 2 = 0, lpad(to_hex(i % 100), 15, 'a'), now(), now()
    FROM generate_series(0, 9999) AS i;
