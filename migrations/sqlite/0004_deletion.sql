-- Deleting an organisation or a project is two steps: it is first scheduled (hidden from every
-- lookup and listing, restorable), and purged once the grace period has passed. `deleted` is
-- when the deletion was asked (microseconds since the Unix epoch, as the other timestamps),
-- NULL for a live row. A scheduled row keeps its slug (the UNIQUE constraints stay as they
-- are): a restore brings it back under the same name, so nobody may take it meanwhile.
-- A project of a scheduled organisation is hidden with it without being marked itself, so
-- that restoring the organisation restores exactly the projects that were live.

ALTER TABLE organisations ADD COLUMN deleted INTEGER;
ALTER TABLE projects ADD COLUMN deleted INTEGER;

-- The hidden-row filters: every lookup and listing reads live rows only (deleted IS NULL).
-- Listing organisations, and all projects, in slug order; the existing indexes also serve
-- rows that are scheduled, these skip them.
CREATE INDEX organisations_live_slug ON organisations (slug) WHERE deleted IS NULL;
CREATE INDEX projects_live_slug ON projects (slug) WHERE deleted IS NULL;
-- One organisation's live projects in slug order, and their count.
CREATE INDEX projects_live_org_slug ON projects (org_id, slug) WHERE deleted IS NULL;
-- What waits for the purge (ListScheduledDeletions): few rows, found without a scan.
CREATE INDEX organisations_scheduled ON organisations (deleted) WHERE deleted IS NOT NULL;
CREATE INDEX projects_scheduled ON projects (deleted) WHERE deleted IS NOT NULL;
