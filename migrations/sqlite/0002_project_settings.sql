-- Each project's settings (PocketBase's /api/settings groups that apply to a project), as the
-- JSON the API speaks, written and read by the adapter through adapters/json. A project without
-- a row has the defaults. Unlike the catalogue's other foreign keys this one cascades: the row
-- is part of the project and holds nothing the adapter must clean up elsewhere, so deleting
-- the project (alone or with its organisation) takes it along in the same statement.

CREATE TABLE project_settings (
  project_id TEXT NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  value      TEXT NOT NULL CHECK (json_valid(value) AND json_type(value) = 'object'),
  updated    INTEGER NOT NULL
) STRICT;
