#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace socle::adapters::config {

/// Everything an executable can be configured with, resolved with the precedence
/// flags > environment (SOCLE_*) > config file (socle.toml) > defaults.
/// Plain data: only the composition roots in apps/ read it. The flag, variable and file key of
/// each field are listed by DescribeSettings() (and `socle help`, .env.example).
struct Settings {
  // --- where to listen and where data lives
  std::string http_address = "127.0.0.1";  ///< --http ADDR:PORT, SOCLE_HTTP, [http] address
  std::uint16_t http_port = 8090;          ///< the PORT of --http; 0 picks a free port
  std::string data_dir = "./socle_data";   ///< --data-dir, SOCLE_DATA_DIR, data_dir
  /// --deletion-grace-days, SOCLE_DELETION_GRACE_DAYS, [data] deletion_grace_days: how long a
  /// deleted organisation or project can be restored before it is purged with all its data,
  /// 0 to 3650; 0 purges at once.
  std::uint32_t deletion_grace_days = 30;
  /// --audit-checkpoint-minutes, SOCLE_AUDIT_CHECKPOINT_MINUTES, [audit] checkpoint_minutes: how
  /// often the server signs a checkpoint of every audit chain's head (when one moved), 0 to
  /// 1440; 0 leaves checkpoints to `socle audit checkpoint`.
  std::uint32_t audit_checkpoint_minutes = 10;
  /// --audit-retention-months, SOCLE_AUDIT_RETENTION_MONTHS, [audit] retention_months: how many
  /// whole months (UTC) of audit events the project stores keep, 0 to 1200; older events are
  /// archived daily to <data_dir>/audit/archive (docs/audit.md, Retention). 0 keeps them all.
  std::uint32_t audit_retention_months = 0;
  /// --database-url, SOCLE_DATABASE_URL(_FILE), [database] url. Empty means the embedded SQLite
  /// store under data_dir. A secret: log it through StoreUrl::Redact only.
  std::string database_url;
  /// --database-pool-size, SOCLE_DATABASE_POOL_SIZE, [database] pool_size: connections per
  /// pool (the catalogue's and the projects'); 0: as many as threads may hold one at once
  /// (ResolveAuto).
  std::size_t database_pool_size = 0;
  std::uint32_t database_timeout_ms = 5000;  ///< connect / busy / statement deadline
  /// --public-url, SOCLE_PUBLIC_URL, [http] public_url: the URL clients reach this server at
  /// ("https://socle.example.org", maybe with a path prefix), for the links sent by e-mail
  /// and printed. Validated: an absolute http or https URL without credentials, query or
  /// fragment, and without a trailing slash. Empty: links use the listening address when it
  /// is a concrete one (not a wildcard, not port 0).
  std::string public_url;

  // --- HTTP server limits ([http] table, SOCLE_HTTP_* variables, --http-* flags)
  std::size_t http_threads = 0;               ///< event loops, one thread each; 0: ResolveAuto
  /// --http-reads, SOCLE_HTTP_READS, [http] reads: where short reads of the store run: "loop"
  /// (all of them on the connection's event loop), "point" (reads of one record by id on the
  /// loop, lists on the worker pool), "worker" (all on the worker pool) or "auto" (loop with the
  /// embedded SQLite store, point with PostgreSQL, whose reads wait on the network).
  std::string http_reads = "auto";
  std::size_t worker_threads = 8;             ///< use-case workers (sized with the DB pool)
  std::size_t max_body_bytes = 1 << 20;       ///< larger bodies get 413
  std::size_t max_header_bytes = 16 << 10;    ///< larger header blocks get 431
  std::uint32_t read_timeout_ms = 15000;      ///< a request must arrive within this
  std::uint32_t idle_timeout_ms = 60000;      ///< keep-alive connections idle longer are closed
  std::uint32_t shutdown_timeout_ms = 10000;  ///< in-flight requests get this long on SIGTERM
  std::size_t max_connections = 10000;
  std::size_t rate_limit_per_second = 0;      ///< per client address and credential; 0: off

  // --- secrets and mail
  /// --master-key, SOCLE_MASTER_KEY(_FILE), [security] master_key: base64 of 32 bytes that
  /// seal secrets at rest (token signing keys). Empty: <data_dir>/master.key, created on first
  /// use. A secret: never logged.
  std::string master_key;
  /// --smtp-url, SOCLE_SMTP_URL(_FILE), [mail] smtp_url: where e-mail goes (smtp://...,
  /// smtps://...). Empty: each message is written as a .eml file under <data_dir>/mail. A
  /// secret (it may hold a password): log it redacted only.
  std::string smtp_url;
  // --- logging ([log] table)
  std::string log_level = "info";   ///< debug | info | warn | error
  std::string log_format = "json";  ///< json | text

  std::string config_file;  ///< the file that was read, empty when none
};

/// Whether the store is reached over the network (PostgreSQL) rather than embedded (SQLite,
/// memory): its reads then wait on round trips.
bool NetworkedStore(const Settings& settings);

/// `settings` with its automatic values resolved for a machine with `cores` cores:
/// - http_reads "auto": "loop" with an embedded store, "point" with a networked one;
/// - http_threads 0: one event loop per core, two per core when reads wait on the network on
///   the loops (point or loop with PostgreSQL), so that a core has a loop to run while
///   another waits for its answer;
/// - database_pool_size 0: the worker threads plus the loops that read, every thread that may
///   hold a connection at once, so that a loop never waits for one.
Settings ResolveAuto(Settings settings, unsigned cores);

/// On resolved settings: how many connections short of the threads that may hold one at once
/// a pool is (the workers, plus the event loops when reads run on them), 0 when none. A
/// reading loop that finds the pool empty waits for a connection, with every other connection
/// of that loop waiting behind it.
std::size_t PoolShortfall(const Settings& settings);

}  // namespace socle::adapters::config
