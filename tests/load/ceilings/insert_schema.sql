-- The durable-insert ceiling's tables, shaped like what Socle's PostgreSQL store creates for the
-- benchmark's posts collection and for a project's audit trail
-- (adapters/postgres/src/postgres_schema_ddl.cpp, postgres_audit_trail.cpp):
-- * posts: the record table with its columns, types, "C" collation, primary key and the index
--   the collection declares (tests/load/targets/socle/collections.json);
-- * audit: the event table with the same columns and indexes, partitioned by range of `at` as
--   Socle's is, with one default partition standing for the month's partition.
-- Left out: the append-only triggers (they fire on UPDATE and DELETE only), the lane's advisory
-- lock and the read of the chain's head that Socle makes before appending, and the hashing.
DROP TABLE IF EXISTS posts;
DROP TABLE IF EXISTS audit;
DROP SEQUENCE IF EXISTS audit_seq;

CREATE TABLE posts (
  id TEXT COLLATE "C" NOT NULL,
  title TEXT COLLATE "C" NOT NULL DEFAULT '',
  body TEXT COLLATE "C" NOT NULL DEFAULT '',
  views DOUBLE PRECISION NOT NULL DEFAULT 0,
  published BOOLEAN NOT NULL DEFAULT false,
  author TEXT COLLATE "C" NOT NULL DEFAULT '',
  created TIMESTAMPTZ,
  updated TIMESTAMPTZ,
  CONSTRAINT posts_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_posts_list ON posts (published, views DESC, id);

CREATE SEQUENCE audit_seq;
CREATE TABLE audit (
  lane BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL,
  org_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C" NOT NULL,
  actor_kind TEXT COLLATE "C" NOT NULL,
  actor_id TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  target_kind TEXT COLLATE "C" NOT NULL,
  target_collection TEXT COLLATE "C" NOT NULL,
  target_id TEXT COLLATE "C" NOT NULL,
  outcome TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  reason TEXT COLLATE "C" NOT NULL,
  changes TEXT COLLATE "C" NOT NULL,
  actor_personal TEXT COLLATE "C" NOT NULL,
  target_personal TEXT COLLATE "C" NOT NULL,
  prev_hash TEXT COLLATE "C" NOT NULL,
  hash TEXT COLLATE "C" NOT NULL,
  actor_data TEXT COLLATE "C",
  target_data TEXT COLLATE "C",
  PRIMARY KEY (lane, seq, at)
) PARTITION BY RANGE (at);
CREATE INDEX audit_newest ON audit (at, lane, seq);
CREATE INDEX audit_actor ON audit (actor_id, at);
CREATE INDEX audit_target ON audit (target_id, at);
CREATE TABLE audit_default PARTITION OF audit DEFAULT;
