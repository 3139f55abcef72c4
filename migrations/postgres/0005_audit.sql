-- The platform's audit trail (docs/audit.md): what happens to the catalogue and to access, kept
-- beside them so that each change commits with the event describing it.
--
-- One hash chain per organisation, named by its id, and the platform's own chain, named ''
-- (regions, global flags): org_id is the chain, and an event's org_id is always its chain's
-- name (the adapter refuses any other). Each chain has the one lane 0, which is not stored.
-- The personal parts are the nullable actor_data and target_data, whose subjects are the
-- event's actor_id and target_id: erasing a part sets it to NULL and leaves the chain, which
-- holds only their hashes, intact.
--
-- No foreign key to socle.organisations: a chain outlives its organisation (the purge of an
-- organisation is itself an event of its chain), and nothing here may go with a DELETE.
--
-- Appending. A writer takes a transaction-level advisory lock on its chain (a 64-bit key hashed
-- from the chain's name), then reads the chain's head in a statement of its own: in READ
-- COMMITTED that statement's snapshot is taken after the lock was granted, so it sees every
-- event the lock's previous holder committed. The adapter begins its write transactions READ
-- COMMITTED explicitly and checks it. The primary key and the trigger below refuse whatever
-- would still fork or break a chain.
--
-- Privileges and row-level security. The table belongs to the login role, like the catalogue's
-- own tables, and socle_tenant has no privilege on it: an access transaction (run as
-- socle_tenant, see 0003) appends its events after switching back to the login role for its
-- last statements (SET LOCAL ROLE NONE), so that no statement of the access methods can read
-- or write the trail at all, which is stronger than any policy. No row-level security either:
-- the trail is read and erased across chains (PlatformAuditHeads, ErasePlatformPersonal) by
-- the login role, which owns it, and an appender is handed only the chain its caller named and
-- refuses events of any other organisation; a policy keyed by socle.org_id would guard nothing
-- that is not already guarded, and would need a platform bypass for every reader.

CREATE TABLE socle.platform_audit (
  org_id            text COLLATE "C" NOT NULL,
  seq               bigint NOT NULL,
  at                timestamptz NOT NULL,
  project_id        text COLLATE "C" NOT NULL,
  actor_kind        text COLLATE "C" NOT NULL,
  actor_id          text COLLATE "C" NOT NULL,
  action            text COLLATE "C" NOT NULL,
  target_kind       text COLLATE "C" NOT NULL,
  target_collection text COLLATE "C" NOT NULL,
  target_id         text COLLATE "C" NOT NULL,
  outcome           text COLLATE "C" NOT NULL,
  request_id        text COLLATE "C" NOT NULL,
  reason            text COLLATE "C" NOT NULL,
  changes           text COLLATE "C" NOT NULL,
  actor_personal    text COLLATE "C" NOT NULL,
  target_personal   text COLLATE "C" NOT NULL,
  prev_hash         text COLLATE "C" NOT NULL,
  hash              text COLLATE "C" NOT NULL,
  actor_data        text COLLATE "C",
  target_data       text COLLATE "C",
  CONSTRAINT platform_audit_pkey PRIMARY KEY (org_id, seq),
  CONSTRAINT platform_audit_seq_check CHECK (seq >= 1)
);
-- A chain's events newest first (PlatformAuditEvents), and those of one actor or one target
-- (a data subject's events, and the erasure of their personal parts).
CREATE INDEX platform_audit_chain_at_idx ON socle.platform_audit (org_id, at, seq);
CREATE INDEX platform_audit_actor_idx ON socle.platform_audit (actor_id, at);
CREATE INDEX platform_audit_target_idx ON socle.platform_audit (target_id, at);

REVOKE ALL ON socle.platform_audit FROM PUBLIC;
REVOKE ALL ON socle.platform_audit FROM socle_tenant;

-- One function refuses every change the trail does not allow, whoever asks, the owner (the
-- login role) included: DELETE, TRUNCATE, and any UPDATE but one that sets actor_data or
-- target_data to NULL and leaves every other column as it was. The other columns are compared
-- as a whole row (jsonb without the two data columns), so that a column added later is
-- protected without naming it here. The checks are nested IFs: NEW is NULL for DELETE and for
-- the statement-level TRUNCATE trigger, and SQL does not promise to short-circuit AND. Only
-- someone able to disable triggers can rewrite history, and the hash chain makes that
-- detectable.
CREATE FUNCTION socle.platform_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF (pg_catalog.to_jsonb(NEW) - 'actor_data' - 'target_data')
         = (pg_catalog.to_jsonb(OLD) - 'actor_data' - 'target_data')
       AND (NEW.actor_data IS NULL OR NEW.actor_data IS NOT DISTINCT FROM OLD.actor_data)
       AND (NEW.target_data IS NULL OR NEW.target_data IS NOT DISTINCT FROM OLD.target_data)
    THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING HINT = 'Audit events are never changed; personal data is only erased (set to NULL).';
END
$f$;

-- An insert must extend its chain: the next seq, linked to the last event's hash (the genesis
-- hash for the first). The lookup is one probe of the primary key, read backwards.
CREATE FUNCTION socle.platform_audit_in_order() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  SELECT a.seq, a.hash INTO last_seq, last_hash FROM socle.platform_audit AS a
    WHERE a.org_id = NEW.org_id ORDER BY a.seq DESC LIMIT 1;
  IF NEW.seq IS DISTINCT FROM coalesce(last_seq, 0) + 1
     OR NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, pg_catalog.repeat('0', 64)) THEN
    RAISE EXCEPTION 'audit event % of chain "%" does not extend its head (%)',
      NEW.seq, NEW.org_id, coalesce(last_seq, 0)
      USING HINT = 'Audit events are appended at the end of their chain.';
  END IF;
  RETURN NEW;
END
$f$;

CREATE TRIGGER platform_audit_append_only BEFORE UPDATE OR DELETE ON socle.platform_audit
  FOR EACH ROW EXECUTE FUNCTION socle.platform_audit_append_only();
CREATE TRIGGER platform_audit_no_truncate BEFORE TRUNCATE ON socle.platform_audit
  FOR EACH STATEMENT EXECUTE FUNCTION socle.platform_audit_append_only();
CREATE TRIGGER platform_audit_in_order BEFORE INSERT ON socle.platform_audit
  FOR EACH ROW EXECUTE FUNCTION socle.platform_audit_in_order();
