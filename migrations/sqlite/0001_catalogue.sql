-- The platform catalogue: regions, organisations and projects.
-- Timestamps are INTEGER microseconds since the Unix epoch so that they round-trip exactly.
-- STRICT tables make SQLite refuse a value of the wrong type instead of silently storing it.
-- Deletions are explicit in the adapter (it must also remove each project's data), so the
-- foreign keys only refuse orphans; they never cascade.

CREATE TABLE regions (
  name      TEXT NOT NULL PRIMARY KEY,
  store_url TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE organisations (
  id      TEXT NOT NULL PRIMARY KEY
          CHECK (length(id) = 15 AND id NOT GLOB '*[^a-z0-9]*'),
  slug    TEXT NOT NULL UNIQUE,
  name    TEXT NOT NULL,
  region  TEXT NOT NULL REFERENCES regions (name),
  tier    TEXT NOT NULL CHECK (tier IN ('shared', 'dedicated')),
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
) STRICT;
-- Listing by slug uses the UNIQUE index on slug; this one keeps the region foreign key cheap.
CREATE INDEX organisations_region ON organisations (region);

CREATE TABLE projects (
  -- The id names the project's own database file, hence the strict shape.
  id      TEXT NOT NULL PRIMARY KEY
          CHECK (length(id) = 15 AND id NOT GLOB '*[^a-z0-9]*'),
  slug    TEXT NOT NULL UNIQUE,
  name    TEXT NOT NULL,
  org_id  TEXT NOT NULL REFERENCES organisations (id),
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
) STRICT;
-- Listing one organisation's projects in slug order, and the organisation foreign key check.
CREATE INDEX projects_org_slug ON projects (org_id, slug);

INSERT INTO regions (name, store_url) VALUES ('local', '');
