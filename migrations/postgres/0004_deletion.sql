-- Deleting an organisation or a project is two steps: it is first scheduled (hidden from every
-- lookup and listing, restorable), and purged once the grace period has passed. `deleted` is
-- when the deletion was asked, NULL for a live row. A scheduled row keeps its slug (the unique
-- constraints stay as they are): a restore brings it back under the same name, so nobody may
-- take it meanwhile. A project of a scheduled organisation is hidden with it without being
-- marked itself, so that restoring the organisation restores exactly the projects that were
-- live.
--
-- Nothing else changes: the access tables of 0003 keep their foreign keys (cascading from the
-- rows only when the purge deletes them), their row-level security and the unique index
-- projects (id, org_id) they refer to; socle_tenant still has no privilege on these tables.

ALTER TABLE socle.organisations ADD COLUMN deleted timestamptz;
ALTER TABLE socle.projects ADD COLUMN deleted timestamptz;

-- The hidden-row filters: every lookup and listing reads live rows only (deleted IS NULL).
-- Listing organisations, and all projects, in slug order; the existing indexes also hold the
-- scheduled rows, these skip them.
CREATE INDEX organisations_live_slug_idx ON socle.organisations (slug) WHERE deleted IS NULL;
CREATE INDEX projects_live_slug_idx ON socle.projects (slug) WHERE deleted IS NULL;
-- One organisation's live projects in slug order, and their count.
CREATE INDEX projects_live_org_slug_idx ON socle.projects (org_id, slug) WHERE deleted IS NULL;
-- What waits for the purge (ListScheduledDeletions): few rows, found without a scan.
CREATE INDEX organisations_scheduled_idx ON socle.organisations (deleted)
  WHERE deleted IS NOT NULL;
CREATE INDEX projects_scheduled_idx ON socle.projects (deleted) WHERE deleted IS NOT NULL;
