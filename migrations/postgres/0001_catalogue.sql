-- The platform catalogue: regions, organisations and projects, in schema socle (created by the
-- migrator) so that the per-project schemas p_<project id> never collide with it.
-- Slugs and ids use the "C" collation: list order must be byte order, the same on every
-- server whatever its locale, and the same as the other stores.
-- Deletions are explicit in the adapter (it must also drop each project's schema), so the
-- foreign keys only refuse orphans; they never cascade.

CREATE TABLE socle.regions (
  name      text COLLATE "C" NOT NULL,
  store_url text NOT NULL DEFAULT '',
  CONSTRAINT regions_pkey PRIMARY KEY (name)
);

CREATE TABLE socle.organisations (
  id      text COLLATE "C" NOT NULL,
  slug    text COLLATE "C" NOT NULL,
  name    text NOT NULL,
  region  text COLLATE "C" NOT NULL,
  tier    text NOT NULL,
  created timestamptz NOT NULL,
  updated timestamptz NOT NULL,
  CONSTRAINT organisations_pkey PRIMARY KEY (id),
  CONSTRAINT organisations_slug_key UNIQUE (slug),
  CONSTRAINT organisations_region_fkey FOREIGN KEY (region) REFERENCES socle.regions (name),
  CONSTRAINT organisations_id_check CHECK (id ~ '^[a-z0-9]{15}$'),
  CONSTRAINT organisations_tier_check CHECK (tier IN ('shared', 'dedicated'))
);
-- Listing by slug uses the unique index on slug; this one keeps the region foreign key cheap.
CREATE INDEX organisations_region_idx ON socle.organisations (region);

CREATE TABLE socle.projects (
  id      text COLLATE "C" NOT NULL,
  slug    text COLLATE "C" NOT NULL,
  name    text NOT NULL,
  org_id  text COLLATE "C" NOT NULL,
  created timestamptz NOT NULL,
  updated timestamptz NOT NULL,
  CONSTRAINT projects_pkey PRIMARY KEY (id),
  CONSTRAINT projects_slug_key UNIQUE (slug),
  CONSTRAINT projects_org_fkey FOREIGN KEY (org_id) REFERENCES socle.organisations (id),
  -- The id names the project's schema (p_<id>), hence the strict shape.
  CONSTRAINT projects_id_check CHECK (id ~ '^[a-z0-9]{15}$')
);
-- Listing one organisation's projects in slug order, and the organisation foreign key check.
CREATE INDEX projects_org_slug_idx ON socle.projects (org_id, slug);

INSERT INTO socle.regions (name, store_url) VALUES ('local', '');
