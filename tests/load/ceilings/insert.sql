-- pgbench script of the durable-insert ceiling (tables: insert_schema.sql): one post and its
-- audit event committed in one transaction, as Socle's create does. The values have the sizes
-- of a real create's (a 15-character id, a change list of the record's fields, SHA-256 hex
-- hashes); the id is random, the event's lane one of 64 as in Socle's trail. pgbench reads
-- :name as a variable, hence the space after each colon inside the JSON texts.
\set lane random(0, 63)
BEGIN;
INSERT INTO posts (id, title, body, views, published, author, created, updated)
  VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 15), 'Load',
          'Lorem ipsum dolor sit amet', 7, true, 'authorid0000001', now(), now());
INSERT INTO audit (lane, seq, at, org_id, project_id, actor_kind, actor_id, action, target_kind,
                   target_collection, target_id, outcome, request_id, reason, changes,
                   actor_personal, target_personal, prev_hash, hash, actor_data, target_data)
  VALUES (:lane, nextval('audit_seq'), clock_timestamp(), 'orgid0000000001', 'projid000000001',
          'guest', '', 'record.create', 'record', 'pbc_0678455928',
          substr(md5(random()::text), 1, 15), 'success', substr(md5(random()::text), 1, 15), '',
          '[{"field": "id","before": null,"after": "kba8zch51qtp1pj"},{"field": "title","before": null,"after": "Load"},{"field": "body","before": null,"after": "Lorem ipsum dolor sit amet"},{"field": "views","before": null,"after": 7},{"field": "published","before": null,"after": true}]',
          md5(random()::text) || md5(random()::text), '',
          md5(random()::text) || md5(random()::text), md5(random()::text) || md5(random()::text),
          '{"clientAddress": "127.0.0.1","salt": "6f2701eb9200467a9b75beb14c188a58","userAgent": "wrk"}',
          '');
END;
