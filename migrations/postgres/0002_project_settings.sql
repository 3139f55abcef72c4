-- Each project's settings (PocketBase's /api/settings groups that apply to a project), as the
-- JSON the API speaks, written and read by the adapter through adapters/json. A project without
-- a row has the defaults. Unlike the catalogue's other foreign keys this one cascades: the row
-- is part of the project and holds nothing the adapter must clean up elsewhere, so deleting
-- the project (alone or with its organisation) takes it along in the same statement.

CREATE TABLE socle.project_settings (
  project_id text COLLATE "C" NOT NULL,
  value      jsonb NOT NULL,
  updated    timestamptz NOT NULL,
  CONSTRAINT project_settings_pkey PRIMARY KEY (project_id),
  CONSTRAINT project_settings_project_fkey FOREIGN KEY (project_id)
    REFERENCES socle.projects (id) ON DELETE CASCADE,
  CONSTRAINT project_settings_value_check CHECK (jsonb_typeof(value) = 'object')
);
