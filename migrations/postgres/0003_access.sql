-- Who may do what in each organisation (application::AccessStore): memberships, invitations,
-- teams and their members, custom roles, policies and feature flags.
--
-- The rows are part of their organisation: every table refers to socle.organisations with
-- ON DELETE CASCADE (directly, or through a parent that does), so deleting an organisation
-- takes its access data along in the same statement, and a project reference cascades from
-- socle.projects the same way. Ids and names that are listed use the "C" collation, as in
-- 0001: list order is byte order on every server, the same as the other stores. The CHECK
-- constraints refuse malformed shapes (empty names, unknown states, incoherent flag levels),
-- the same ones as the other stores' schemas; the domain's finer rules (lengths, key syntax)
-- are the callers' to check.
--
-- Row-level security. Every access table is keyed by organisation, and the adapter runs each
-- AccessStore transaction as the role socle_tenant with two transaction-local settings:
--   socle.org_id  the organisation the method names ('' when it names none);
--   socle.scope   'platform' only for the few methods the port marks "across organisations"
--                 (and for global feature flags), '' otherwise.
-- The policies below admit a row only when its org_id equals socle.org_id, or, in platform
-- scope, for exactly the cross-organisation reads and deletions the port defines. A statement
-- of the adapter that forgot its "org_id = $1" therefore still cannot reach another
-- organisation's rows. The settings are not a secret: this guards against the adapter's own
-- mistakes, not against a client that can run SQL of its own on the login role.
-- An unset setting reads as NULL before its first use in a session and as '' after it, hence
-- NULLIF(.., ''): with no organisation set, nothing is visible.
--
-- Superusers and roles with BYPASSRLS skip row-level security even when it is forced, and so
-- would the login role as the tables' owner without FORCE. Hence socle_tenant: NOLOGIN,
-- NOSUPERUSER, NOBYPASSRLS, with USAGE on schema socle and only the DML each access table
-- needs, nothing on the catalogue tables (regions, organisations, projects, project settings)
-- nor on the projects' schemas p_*; foreign key checks and cascades do not need it, since
-- PostgreSQL runs them as the tables' owner.
--
-- What the login role of a deployment needs, beyond owning schema socle:
--   - CREATEROLE, for the first migration of the cluster to create socle_tenant (roles are
--     cluster-wide), unless an administrator created it beforehand with the attributes above;
--   - membership in socle_tenant, to SET ROLE to it. The migration grants it to the login role
--     (GRANT socle_tenant TO CURRENT_USER), which PostgreSQL 15 allows a CREATEROLE role.
--     From PostgreSQL 16 only a role with ADMIN OPTION on socle_tenant may grant it (its
--     creator has it): a second login role of the same cluster must then be granted
--     socle_tenant by an administrator before it migrates.
-- socle_tenant is shared by every Socle database of the cluster; a member of it reaches the
-- access tables of each database it may CONNECT to, so deployments sharing a cluster keep
-- their login roles out of one another's databases (REVOKE CONNECT ... FROM PUBLIC).

-- Several databases of one cluster may migrate at once (the migration lock is per database):
-- the loser of a race to create the role sees duplicate_object once the winner committed, or
-- unique_violation on pg_authid's index while it had not.
DO $$
BEGIN
  CREATE ROLE socle_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    NOREPLICATION NOINHERIT;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- A socle_tenant made by someone else with powers that void row-level security (or let it
-- log in on its own) would make the policies below decorative: refuse to go on.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
             WHERE rolname = 'socle_tenant'
               AND (rolsuper OR rolbypassrls OR rolcanlogin)) THEN
    RAISE EXCEPTION 'role socle_tenant exists with SUPERUSER, BYPASSRLS or LOGIN'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'ALTER ROLE socle_tenant NOSUPERUSER NOBYPASSRLS NOLOGIN, then migrate again.';
  END IF;
END
$$;

-- The login role must be able to SET ROLE socle_tenant (superusers always can). Granted only
-- when missing, so that a login role granted socle_tenant by an administrator migrates without
-- the right to grant it; from PostgreSQL 16 what counts is the SET option of the membership.
-- Two databases migrating at once under the same login role may race on pg_auth_members.
DO $$
BEGIN
  IF NOT pg_catalog.pg_has_role(CURRENT_USER, 'socle_tenant',
           CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 160000
                THEN 'SET' ELSE 'MEMBER' END) THEN
    GRANT socle_tenant TO CURRENT_USER;
  END IF;
EXCEPTION
  WHEN unique_violation THEN NULL;
END
$$;

-- Policies and invitations may name one project of their organisation: the composite foreign
-- keys below need this (unique already, since id is the primary key) to refer to both.
CREATE UNIQUE INDEX projects_id_org_key ON socle.projects (id, org_id);

-- Memberships ---------------------------------------------------------------------------------

CREATE TABLE socle.memberships (
  org_id    text COLLATE "C" NOT NULL,
  member_id text COLLATE "C" NOT NULL,
  email     text COLLATE "C" NOT NULL,
  created   timestamptz NOT NULL,
  CONSTRAINT memberships_pkey PRIMARY KEY (org_id, member_id),
  CONSTRAINT memberships_org_fkey FOREIGN KEY (org_id)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  CONSTRAINT memberships_member_check CHECK (member_id <> ''),
  CONSTRAINT memberships_email_check CHECK (email <> '')
);
-- ListMemberships: one organisation's members by e-mail (member id breaks ties).
CREATE INDEX memberships_org_email_idx ON socle.memberships (org_id, email, member_id);
-- MemberOrganisations: every organisation of one member, by org id.
CREATE INDEX memberships_member_idx ON socle.memberships (member_id, org_id);

-- Invitations ---------------------------------------------------------------------------------

CREATE TABLE socle.invitations (
  id            text COLLATE "C" NOT NULL,
  org_id        text COLLATE "C" NOT NULL,
  email         text COLLATE "C" NOT NULL,
  role          text COLLATE "C" NOT NULL,
  project       text COLLATE "C",
  token_binding text COLLATE "C" NOT NULL,
  invited_by    text COLLATE "C" NOT NULL,
  state         text NOT NULL,
  created       timestamptz NOT NULL,
  expires       timestamptz NOT NULL,
  decided       timestamptz,
  CONSTRAINT invitations_pkey PRIMARY KEY (id),
  -- FindInvitation looks a token up across organisations; one token, one invitation.
  CONSTRAINT invitations_token_binding_key UNIQUE (token_binding),
  CONSTRAINT invitations_org_fkey FOREIGN KEY (org_id)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  -- A project of the invitation's own organisation; the invitation goes with the project.
  CONSTRAINT invitations_project_fkey FOREIGN KEY (project, org_id)
    REFERENCES socle.projects (id, org_id) ON DELETE CASCADE,
  CONSTRAINT invitations_id_check CHECK (id ~ '^[a-z0-9]{15}$'),
  CONSTRAINT invitations_state_check
    CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
  -- Only a pending invitation is undecided; it changes once, recording when.
  CONSTRAINT invitations_decided_check CHECK ((state = 'pending') = (decided IS NULL)),
  CONSTRAINT invitations_email_check CHECK (email <> ''),
  CONSTRAINT invitations_role_check CHECK (role <> ''),
  CONSTRAINT invitations_token_binding_check CHECK (token_binding <> '')
);
-- ListInvitations: newest first, id breaking ties.
CREATE INDEX invitations_org_created_idx ON socle.invitations (org_id, created DESC, id DESC);
-- PurgeInvitations, across organisations: the expired ones, and the closed ones.
CREATE INDEX invitations_expires_idx ON socle.invitations (expires);
CREATE INDEX invitations_decided_idx ON socle.invitations (decided) WHERE decided IS NOT NULL;
-- DeleteRole: whether a pending invitation offers the role.
CREATE INDEX invitations_pending_role_idx ON socle.invitations (org_id, role)
  WHERE state = 'pending';
-- The project foreign key's cascade.
CREATE INDEX invitations_project_idx ON socle.invitations (project) WHERE project IS NOT NULL;

-- Teams ---------------------------------------------------------------------------------------

CREATE TABLE socle.teams (
  id          text COLLATE "C" NOT NULL,
  org_id      text COLLATE "C" NOT NULL,
  name        text COLLATE "C" NOT NULL,
  description text NOT NULL,
  created     timestamptz NOT NULL,
  updated     timestamptz NOT NULL,
  CONSTRAINT teams_pkey PRIMARY KEY (id),
  -- The target of team_members' composite foreign key (a team of the same organisation).
  CONSTRAINT teams_org_id_key UNIQUE (org_id, id),
  CONSTRAINT teams_org_fkey FOREIGN KEY (org_id)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  CONSTRAINT teams_id_check CHECK (id ~ '^[a-z0-9]{15}$'),
  CONSTRAINT teams_name_check CHECK (name <> '')
);
-- A name is unique in its organisation case-insensitively. lower() of a "C" column folds ASCII
-- letters only, whatever the server's locale: the same comparison as the other stores, and the
-- same on every server. It also serves ListTeams' order (folded name, then id).
CREATE UNIQUE INDEX teams_org_name_key ON socle.teams (org_id, lower(name));

-- No foreign key to the organisation of its own: both parents cascade from it.
CREATE TABLE socle.team_members (
  org_id    text COLLATE "C" NOT NULL,
  team_id   text COLLATE "C" NOT NULL,
  member_id text COLLATE "C" NOT NULL,
  CONSTRAINT team_members_pkey PRIMARY KEY (org_id, team_id, member_id),
  -- A team, and a member, of the same organisation; a place goes with either.
  CONSTRAINT team_members_team_fkey FOREIGN KEY (org_id, team_id)
    REFERENCES socle.teams (org_id, id) ON DELETE CASCADE,
  CONSTRAINT team_members_member_fkey FOREIGN KEY (org_id, member_id)
    REFERENCES socle.memberships (org_id, member_id) ON DELETE CASCADE
);
-- MemberTeams, and the membership foreign key's cascade.
CREATE INDEX team_members_member_idx ON socle.team_members (org_id, member_id, team_id);

-- Custom roles --------------------------------------------------------------------------------

CREATE TABLE socle.roles (
  org_id      text COLLATE "C" NOT NULL,
  id          text COLLATE "C" NOT NULL,
  name        text NOT NULL,
  scope       text NOT NULL,
  parents     text[] NOT NULL,
  permissions text[] NOT NULL,
  created     timestamptz NOT NULL,
  updated     timestamptz NOT NULL,
  -- Role ids are the organisation's own names ("billing"), unique within it.
  CONSTRAINT roles_pkey PRIMARY KEY (org_id, id),
  CONSTRAINT roles_org_fkey FOREIGN KEY (org_id)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  CONSTRAINT roles_id_check CHECK (id <> ''),
  CONSTRAINT roles_scope_check CHECK (scope IN ('organisation', 'project')),
  CONSTRAINT roles_parents_check
    CHECK (array_ndims(parents) IS NULL OR (array_ndims(parents) = 1
           AND array_position(parents, NULL) IS NULL)),
  CONSTRAINT roles_permissions_check
    CHECK (array_ndims(permissions) IS NULL OR (array_ndims(permissions) = 1
           AND array_position(permissions, NULL) IS NULL))
);

-- Policies ------------------------------------------------------------------------------------

CREATE TABLE socle.policies (
  id           text COLLATE "C" NOT NULL,
  org_id       text COLLATE "C" NOT NULL,
  subject_kind text NOT NULL,
  subject_id   text COLLATE "C" NOT NULL,
  role         text COLLATE "C" NOT NULL,
  project      text COLLATE "C",
  created      timestamptz NOT NULL,
  created_by   text NOT NULL,
  -- domain::IsOwnerPolicy, stated once: the last-owner invariant and its index rest on it.
  is_owner     boolean NOT NULL
    GENERATED ALWAYS AS (subject_kind = 'member' AND role = 'owner' AND project IS NULL) STORED,
  CONSTRAINT policies_pkey PRIMARY KEY (id),
  CONSTRAINT policies_org_fkey FOREIGN KEY (org_id)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  -- A project of the policy's own organisation; the policy goes with the project (an owner
  -- policy names no project, so a project's deletion never removes an owner).
  CONSTRAINT policies_project_fkey FOREIGN KEY (project, org_id)
    REFERENCES socle.projects (id, org_id) ON DELETE CASCADE,
  CONSTRAINT policies_id_check CHECK (id ~ '^[a-z0-9]{15}$'),
  CONSTRAINT policies_subject_kind_check CHECK (subject_kind IN ('member', 'team', 'apikey')),
  CONSTRAINT policies_subject_id_check CHECK (subject_id <> ''),
  CONSTRAINT policies_role_check CHECK (role <> ''),
  CONSTRAINT policies_created_by_check
    CHECK (created_by = 'system' OR created_by ~ '^(member|apikey|superuser):.')
);
-- One binding of a role to a subject per scope; NULLS NOT DISTINCT (PostgreSQL 15): the whole
-- organisation (project NULL) is one scope like any project. It also serves the deletion of a
-- member's or a team's policies.
CREATE UNIQUE INDEX policies_binding_key
  ON socle.policies (org_id, subject_kind, subject_id, role, project) NULLS NOT DISTINCT;
-- ListPolicies, by id.
CREATE INDEX policies_org_id_idx ON socle.policies (org_id, id);
-- The owner policies an invariant-guarded change locks and counts.
CREATE INDEX policies_owner_idx ON socle.policies (org_id, id) WHERE is_owner;
-- DeleteRole: whether a policy binds the role.
CREATE INDEX policies_role_idx ON socle.policies (org_id, role);
-- The project foreign key's cascade.
CREATE INDEX policies_project_idx ON socle.policies (project) WHERE project IS NOT NULL;

-- Feature flags -------------------------------------------------------------------------------

-- A flag is identified by (key, level, org_id, subject); org_id is '' for a global flag and
-- subject '' unless the level is role or user. A global flag belongs to no organisation, so
-- org_id cannot carry the foreign key itself: org_ref, NULL for a global flag (a NULL foreign
-- key is not checked), carries it, and deleting an organisation cascades to its flags through
-- it like every other access row. (A trigger on socle.organisations would not do: it would run
-- as the login role, which the forced row-level security below filters.)
CREATE TABLE socle.flags (
  org_id      text COLLATE "C" NOT NULL,
  key         text COLLATE "C" NOT NULL,
  level       text COLLATE "C" NOT NULL,
  subject     text COLLATE "C" NOT NULL,
  value       jsonb NOT NULL,
  description text NOT NULL,
  updated     timestamptz NOT NULL,
  updated_by  text NOT NULL,
  org_ref     text COLLATE "C" GENERATED ALWAYS AS (NULLIF(org_id, '')) STORED,
  -- ListFlags reads one organisation's flags and the global ones: org_id leads. Ordered by
  -- key, level, subject, the levels' names sort as the domain orders them (global,
  -- organisation, role, user).
  CONSTRAINT flags_pkey PRIMARY KEY (org_id, key, level, subject),
  CONSTRAINT flags_org_fkey FOREIGN KEY (org_ref)
    REFERENCES socle.organisations (id) ON DELETE CASCADE,
  CONSTRAINT flags_key_check CHECK (key <> ''),
  CONSTRAINT flags_level_check CHECK (level IN ('global', 'organisation', 'role', 'user')),
  CONSTRAINT flags_org_check CHECK ((level = 'global') = (org_id = '')),
  CONSTRAINT flags_subject_check CHECK ((level IN ('role', 'user')) = (subject <> '')),
  CONSTRAINT flags_value_check CHECK (jsonb_typeof(value) IN ('boolean', 'number', 'string'))
);

-- Row-level security --------------------------------------------------------------------------
-- FORCE: the tables' owner (the login role) is filtered too; nothing but socle_tenant with the
-- right setting sees a row. The owner's foreign key checks and cascades are exempt by design.

ALTER TABLE socle.memberships ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.invitations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.teams ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.team_members ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.roles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.policies ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE socle.flags ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- In every table: the rows of the organisation in scope, for every command; WITH CHECK keeps a
-- written row in it.
CREATE POLICY memberships_org ON socle.memberships TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY invitations_org ON socle.invitations TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY teams_org ON socle.teams TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY team_members_org ON socle.team_members TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY roles_org ON socle.roles TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY policies_org ON socle.policies TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));
CREATE POLICY flags_org ON socle.flags TO socle_tenant
  USING (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''))
  WITH CHECK (org_id = NULLIF(pg_catalog.current_setting('socle.org_id', true), ''));

-- Platform scope, only what the port's cross-organisation methods do: MemberOrganisations
-- reads memberships, FindInvitation reads invitations, PurgeInvitations deletes them.
CREATE POLICY memberships_platform_read ON socle.memberships FOR SELECT TO socle_tenant
  USING (pg_catalog.current_setting('socle.scope', true) = 'platform');
CREATE POLICY invitations_platform_read ON socle.invitations FOR SELECT TO socle_tenant
  USING (pg_catalog.current_setting('socle.scope', true) = 'platform');
CREATE POLICY invitations_platform_purge ON socle.invitations FOR DELETE TO socle_tenant
  USING (pg_catalog.current_setting('socle.scope', true) = 'platform');

-- Global flags: every organisation reads them (a flag's value falls back to the global one),
-- only platform scope writes them, and platform scope reaches no organisation's flags.
CREATE POLICY flags_global_read ON socle.flags FOR SELECT TO socle_tenant
  USING (org_id = '' AND NULLIF(pg_catalog.current_setting('socle.org_id', true), '') IS NOT NULL);
CREATE POLICY flags_global_platform ON socle.flags TO socle_tenant
  USING (org_id = '' AND pg_catalog.current_setting('socle.scope', true) = 'platform')
  WITH CHECK (org_id = '' AND pg_catalog.current_setting('socle.scope', true) = 'platform');

-- Privileges ----------------------------------------------------------------------------------
-- Exactly the commands the adapter's statements use. UPDATE on policies only because SELECT ..
-- FOR UPDATE (the owner lock) requires it; the adapter never updates a policy. Nothing on
-- socle.regions, socle.organisations, socle.projects, socle.project_settings or
-- socle.schema_migrations.

GRANT USAGE ON SCHEMA socle TO socle_tenant;
GRANT SELECT, INSERT, DELETE ON socle.memberships TO socle_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON socle.invitations TO socle_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON socle.teams TO socle_tenant;
GRANT SELECT, INSERT, DELETE ON socle.team_members TO socle_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON socle.roles TO socle_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON socle.policies TO socle_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON socle.flags TO socle_tenant;
