-- Who may do what in each organisation (the AccessStore port): memberships, invitations, teams
-- and their members, custom roles, policies, and feature flags.
-- Timestamps are INTEGER microseconds since the Unix epoch, as in 0001. Entity ids of 15
-- characters are checked as 0001 checks them. STRICT tables refuse values of the wrong type.
--
-- Unlike the catalogue's own foreign keys, those to organisations cascade: these rows are part
-- of the organisation and hold nothing the adapter must clean up elsewhere, so the catalogue's
-- DeleteOrganisation takes them along in its own statement. Policies and invitations on one
-- project cascade from the project the same way. Feature flags cannot have that foreign key
-- (a global flag has no organisation) and are removed by a trigger instead; see there.

-- Policies, invitations and team places refer to a row *of their own organisation* through a
-- composite foreign key (id, org_id), so that no row can ever bind another organisation's
-- project, team or member. A foreign key's target must be unique: these indexes make it so
-- (id alone already is).
CREATE UNIQUE INDEX projects_id_org ON projects (id, org_id);

CREATE TABLE memberships (
  org_id    TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  member_id TEXT NOT NULL CHECK (member_id <> ''),
  email     TEXT NOT NULL CHECK (email <> ''),
  created   INTEGER NOT NULL,
  PRIMARY KEY (org_id, member_id)
) STRICT;
-- ListMemberships and TeamMembers: one organisation's members in e-mail order.
CREATE INDEX memberships_org_email ON memberships (org_id, email, member_id);
-- MemberOrganisations: every organisation of one member, in id order.
CREATE INDEX memberships_member ON memberships (member_id, org_id);

CREATE TABLE invitations (
  id            TEXT NOT NULL PRIMARY KEY
                CHECK (length(id) = 15 AND id NOT GLOB '*[^a-z0-9]*'),
  org_id        TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  email         TEXT NOT NULL CHECK (email <> ''),
  role          TEXT NOT NULL CHECK (role <> ''),
  project_id    TEXT,  -- NULL: the whole organisation
  -- Only a one-way binding of the invitee's token is kept; FindInvitation looks it up.
  token_binding TEXT NOT NULL UNIQUE CHECK (token_binding <> ''),
  invited_by    TEXT NOT NULL,  -- a member id, or '' for an operator
  state         TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
  created       INTEGER NOT NULL,
  expires       INTEGER NOT NULL,
  decided       INTEGER,
  -- An invitation is decided exactly when it left the pending state.
  CHECK ((state = 'pending') = (decided IS NULL)),
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
) STRICT;
-- ListInvitations: newest first within one organisation.
CREATE INDEX invitations_org_created ON invitations (org_id, created DESC, id DESC);
-- The cascade from a deleted project.
CREATE INDEX invitations_project ON invitations (project_id, org_id);
-- DeleteRole: is the role still offered by a pending invitation?
CREATE INDEX invitations_pending_role ON invitations (org_id, role) WHERE state = 'pending';
-- PurgeInvitations, across organisations: the expired ones, and the decided ones.
CREATE INDEX invitations_expires ON invitations (expires);
CREATE INDEX invitations_decided ON invitations (decided) WHERE decided IS NOT NULL;

CREATE TABLE teams (
  id          TEXT NOT NULL PRIMARY KEY
              CHECK (length(id) = 15 AND id NOT GLOB '*[^a-z0-9]*'),
  org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  name        TEXT NOT NULL CHECK (name <> ''),
  description TEXT NOT NULL,
  created     INTEGER NOT NULL,
  updated     INTEGER NOT NULL
) STRICT;
-- A name is unique in its organisation ignoring case. NOCASE folds ASCII letters only, which
-- is the case-insensitivity Socle uses everywhere (the filter language's :lower too); the
-- memory adapter folds the same way. The index also serves ListTeams' order.
CREATE UNIQUE INDEX teams_org_name ON teams (org_id, name COLLATE NOCASE);
-- Target of team_members' composite foreign key.
CREATE UNIQUE INDEX teams_id_org ON teams (id, org_id);

-- A member's place in a team. Both foreign keys carry the organisation, so a place always joins
-- a team and a membership of the same organisation, and goes with either of them.
CREATE TABLE team_members (
  team_id   TEXT NOT NULL,
  org_id    TEXT NOT NULL,
  member_id TEXT NOT NULL,
  PRIMARY KEY (team_id, member_id),
  FOREIGN KEY (team_id, org_id) REFERENCES teams (id, org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, member_id) REFERENCES memberships (org_id, member_id) ON DELETE CASCADE
) STRICT;
-- MemberTeams, and the cascade from a deleted membership. member_id leads so that the planner
-- never takes this index for a lookup by team (TeamMembers), which the primary key serves.
CREATE INDEX team_members_member ON team_members (member_id, org_id, team_id);

-- Custom roles of an organisation (the built-in ones are code, not rows). Their ids are chosen
-- by people ("auditor") and only unique within the organisation. The store does not validate a
-- role against the others (the caller checks the whole catalogue first); it only keeps the
-- shape: parents and permissions as JSON arrays (of strings, which the adapter checks on read).
CREATE TABLE roles (
  org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  id          TEXT NOT NULL CHECK (id <> ''),
  name        TEXT NOT NULL,
  scope       TEXT NOT NULL CHECK (scope IN ('organisation', 'project')),
  parents     TEXT NOT NULL CHECK (json_valid(parents) AND json_type(parents) = 'array'),
  permissions TEXT NOT NULL
              CHECK (json_valid(permissions) AND json_type(permissions) = 'array'),
  created     INTEGER NOT NULL,
  updated     INTEGER NOT NULL,
  PRIMARY KEY (org_id, id)
) STRICT;

-- Roles bound to subjects (a member, a team or an API key) in an organisation, or on one of its
-- projects. subject_id has no foreign key: it names one of three kinds of rows, and only
-- memberships and teams live here; DeleteMembership and DeleteTeam remove their policies.
CREATE TABLE policies (
  id           TEXT NOT NULL PRIMARY KEY
               CHECK (length(id) = 15 AND id NOT GLOB '*[^a-z0-9]*'),
  org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('member', 'team', 'apikey')),
  subject_id   TEXT NOT NULL CHECK (subject_id <> ''),
  role         TEXT NOT NULL CHECK (role <> ''),
  project_id   TEXT,  -- NULL: the whole organisation and all its projects
  created      INTEGER NOT NULL,
  created_by   TEXT NOT NULL
               CHECK (created_by = 'system' OR created_by GLOB 'member:?*'
                      OR created_by GLOB 'apikey:?*' OR created_by GLOB 'superuser:?*'),
  FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
) STRICT;
-- One binding of a role to a subject per scope. NULLs never collide in a UNIQUE index, so the
-- organisation scope is indexed as '' (no project id is empty): two organisation-wide bindings
-- of the same role to the same subject do collide. Its prefix serves the deletion of one
-- subject's policies (DeleteMembership, DeleteTeam).
CREATE UNIQUE INDEX policies_binding
  ON policies (org_id, subject_kind, subject_id, role, ifnull(project_id, ''));
-- ListPolicies: one organisation's policies in id order.
CREATE INDEX policies_org_id ON policies (org_id, id);
-- The last-owner invariant counts an organisation's owner policies, and DeleteRole asks whether
-- a role is still bound.
CREATE INDEX policies_org_role ON policies (org_id, role, subject_kind);
-- The cascade from a deleted project.
CREATE INDEX policies_project ON policies (project_id, org_id);

-- Feature flags, identified by (key, level, org_id, subject). A global flag belongs to no
-- organisation and is stored with org_id '' (a key column cannot be NULL), so org_id cannot
-- reference organisations. The two triggers below stand in for that foreign key: a flag of an
-- organisation needs it to exist, and goes with it. A trigger rather than an explicit delete in
-- DeleteOrganisation: it holds for every way an organisation row is deleted, and keeps the
-- catalogue's code unaware of flags.
CREATE TABLE flags (
  key         TEXT NOT NULL CHECK (key <> ''),
  level       TEXT NOT NULL CHECK (level IN ('global', 'organisation', 'role', 'user')),
  org_id      TEXT NOT NULL,
  subject     TEXT NOT NULL,  -- the role id (role level) or member id (user level), else ''
  -- A boolean, a number or a string, as JSON text.
  value       TEXT NOT NULL
              CHECK (json_valid(value)
                     AND json_type(value) IN ('true', 'false', 'integer', 'real', 'text')),
  description TEXT NOT NULL,
  updated     INTEGER NOT NULL,
  updated_by  TEXT NOT NULL,
  PRIMARY KEY (key, level, org_id, subject),
  CHECK ((level = 'global') = (org_id = '')),
  CHECK ((level IN ('role', 'user')) = (subject <> ''))
) STRICT;
-- ListFlags: one organisation's flags (or the global ones, under '') in key, level, subject
-- order; the removal of an organisation's flags.
CREATE INDEX flags_org ON flags (org_id, key, level, subject);

CREATE TRIGGER flags_need_organisation BEFORE INSERT ON flags
  WHEN NEW.org_id <> '' AND NOT EXISTS (SELECT 1 FROM organisations WHERE id = NEW.org_id)
BEGIN
  SELECT RAISE(ABORT, 'flags.org_id names no organisation');
END;

CREATE TRIGGER flags_keep_organisation BEFORE UPDATE OF org_id ON flags
  WHEN NEW.org_id <> '' AND NOT EXISTS (SELECT 1 FROM organisations WHERE id = NEW.org_id)
BEGIN
  SELECT RAISE(ABORT, 'flags.org_id names no organisation');
END;

CREATE TRIGGER organisations_delete_flags AFTER DELETE ON organisations
BEGIN
  DELETE FROM flags WHERE org_id = OLD.id;
END;
