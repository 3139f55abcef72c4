-- The platform's audit trail (docs/audit.md): what happens to the catalogue and to access, kept
-- in the catalogue's own file so that each change commits with the event describing it.
--
-- One hash chain per organisation, named by its id, and the platform's own chain, named ''
-- (regions, global flags): org_id is the chain, and an event's org_id is always its chain's
-- name (the adapter refuses any other). Each chain has the one lane 0, which is not stored.
-- Events are keyed by their place in their chain; `at` is microseconds since the Unix epoch as
-- elsewhere. The personal parts are the nullable actor_data and target_data, whose subjects are
-- the event's actor_id and target_id: erasing a part sets it to NULL and leaves the chain,
-- which holds only their hashes, intact.
--
-- No foreign key to organisations: a chain outlives its organisation (the purge of an
-- organisation is itself an event of its chain), and nothing here may go with a DELETE.
CREATE TABLE platform_audit (
  org_id            TEXT NOT NULL,
  seq               INTEGER NOT NULL CHECK (seq >= 1),
  at                INTEGER NOT NULL,
  project_id        TEXT NOT NULL,
  actor_kind        TEXT NOT NULL,
  actor_id          TEXT NOT NULL,
  action            TEXT NOT NULL,
  target_kind       TEXT NOT NULL,
  target_collection TEXT NOT NULL,
  target_id         TEXT NOT NULL,
  outcome           TEXT NOT NULL,
  request_id        TEXT NOT NULL,
  reason            TEXT NOT NULL,
  changes           TEXT NOT NULL,
  actor_personal    TEXT NOT NULL,
  target_personal   TEXT NOT NULL,
  prev_hash         TEXT NOT NULL,
  hash              TEXT NOT NULL,
  actor_data        TEXT NULL,
  target_data       TEXT NULL,
  PRIMARY KEY (org_id, seq)
) STRICT, WITHOUT ROWID;
-- A chain's events newest first (PlatformAuditEvents), and those of one actor or one target
-- (a data subject's events, and the erasure of their personal parts).
CREATE INDEX platform_audit_chain_at ON platform_audit (org_id, at, seq);
CREATE INDEX platform_audit_actor ON platform_audit (actor_id, at);
CREATE INDEX platform_audit_target ON platform_audit (target_id, at);

-- Append-only in the database itself, whatever the code above it does. Events are never
-- removed; an update may only erase personal parts (set actor_data or target_data to NULL).
-- The update check compares values rather than naming columns (UPDATE OF), so that assigning
-- a column its own value stays harmless and a changed value is refused however the statement
-- is written; a column added to the table must be added to it.
CREATE TRIGGER platform_audit_no_update BEFORE UPDATE ON platform_audit
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at
  OR NEW.project_id IS NOT OLD.project_id OR NEW.actor_kind IS NOT OLD.actor_kind
  OR NEW.actor_id IS NOT OLD.actor_id OR NEW.action IS NOT OLD.action
  OR NEW.target_kind IS NOT OLD.target_kind
  OR NEW.target_collection IS NOT OLD.target_collection
  OR NEW.target_id IS NOT OLD.target_id OR NEW.outcome IS NOT OLD.outcome
  OR NEW.request_id IS NOT OLD.request_id OR NEW.reason IS NOT OLD.reason
  OR NEW.changes IS NOT OLD.changes OR NEW.actor_personal IS NOT OLD.actor_personal
  OR NEW.target_personal IS NOT OLD.target_personal OR NEW.prev_hash IS NOT OLD.prev_hash
  OR NEW.hash IS NOT OLD.hash
  OR (NEW.actor_data IS NOT NULL AND NEW.actor_data IS NOT OLD.actor_data)
  OR (NEW.target_data IS NOT NULL AND NEW.target_data IS NOT OLD.target_data)
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only; personal data can only be erased');
END;

CREATE TRIGGER platform_audit_no_delete BEFORE DELETE ON platform_audit
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- An insert must extend its chain: the next seq, linked to the last event's hash (the genesis
-- hash for the first). That also stops INSERT OR REPLACE, whose deletion of the row it
-- replaces fires no delete trigger (recursive_triggers is off by default). Both lookups are
-- one probe of the primary key. Someone with the file can still drop these triggers; the hash
-- chain is what detects that.
CREATE TRIGGER platform_audit_in_order BEFORE INSERT ON platform_audit
WHEN NEW.seq IS NOT coalesce(
       (SELECT max(seq) FROM platform_audit WHERE org_id = NEW.org_id), 0) + 1
  OR NEW.prev_hash IS NOT coalesce(
       (SELECT hash FROM platform_audit WHERE org_id = NEW.org_id ORDER BY seq DESC LIMIT 1),
       '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
  SELECT RAISE(ABORT, 'audit events are appended at the end of their chain');
END;
