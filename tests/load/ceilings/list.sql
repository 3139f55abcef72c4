-- pgbench script of the list ceiling (tables: insert_schema.sql, data: list_seed.sql): W2's
-- two statements as Socle's PostgreSQL store sends them for
-- ?page=1&perPage=20&filter=(published=true)&sort=-views (its statement log), with the same
-- parameters: the page, sorted by the filter's index, and the total of matching records.
\set published true
\set limit 20
\set offset 0
SELECT t0.id, t0.title, t0.body, t0.views, t0.published, t0.author, t0.created, t0.updated
  FROM posts AS t0 WHERE (t0.published = (:published)::boolean)
  ORDER BY t0.views DESC, t0.id ASC LIMIT (:limit)::int8 OFFSET (:offset)::int8;
SELECT count(*) FROM posts AS t0 WHERE (t0.published = (:published)::boolean);
