#pragma once

#include <filesystem>
#include <memory>

#include "socle/adapters/config/settings.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::apps {

/// Creates `dir` and any missing parents, owner-only (0700); existing directories are left as
/// they are. unavailable, naming the path, when it cannot.
domain::Result<void> CreatePrivateDirectories(const std::filesystem::path& dir);

/// Opens the catalogue store the settings name, shared by every executable's composition root.
/// An empty database_url means SQLite at <data_dir>/catalogue.db, creating data_dir (mode
/// 0700: it holds tenant data) when missing; otherwise sqlite://, postgres:// or memory://
/// per StoreUrl::Parse. The pool size and the database timeout are passed on. Does not
/// migrate. invalid_argument for a malformed URL, unavailable when the store cannot be opened
/// or data_dir cannot be created; messages show the URL through StoreUrl::Redact only.
domain::Result<std::unique_ptr<application::CatalogueStore>> OpenCatalogueStore(
    const adapters::config::Settings& settings);

/// Opens the projects' stores that go with the catalogue OpenCatalogueStore opens for the same
/// settings: with SQLite, one database file per project beside the catalogue file
/// (<dir>/projects/<project id>.db); with PostgreSQL, one schema per project in the same
/// database; with memory://, projects in memory. Projects are opened on first use, not here.
/// Projects go where their organisation's region and tier place them
/// (application::PlacedProjectStores): those of a region with a cluster URL in that PostgreSQL
/// cluster, those of a dedicated organisation in a database of its own on its region's
/// cluster (on the embedded SQLite store, where each project is a database file already, in
/// the instance's own stores). `catalogue` gives the regions; it must outlive the stores.
/// The pool size and the database timeout are passed on. invalid_argument for a malformed URL,
/// unavailable when the stores cannot be set up or data_dir cannot be created; messages show
/// the URL through StoreUrl::Redact only.
/// How a process follows schema changes made by other processes (PostgreSQL only; SQLite reads
/// the stored version on every request). A long-running server listens for them; a short-lived
/// process (the CLI) does not need the extra connection and thread.
enum class SchemaChanges { kListen, kIgnore };

domain::Result<std::unique_ptr<application::ProjectStores>> OpenProjectStores(
    const adapters::config::Settings& settings, application::CatalogueStore& catalogue,
    SchemaChanges changes = SchemaChanges::kListen);

}  // namespace socle::apps
