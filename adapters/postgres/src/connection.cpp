#include "connection.hpp"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <iterator>
#include <utility>

#include "socle/adapters/postgres/sqlstate.hpp"
#include "socle/adapters/store_url.hpp"

namespace socle::adapters::postgres {

using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using Clock = std::chrono::steady_clock;

namespace {

// The server's statement_timeout fires first and gives a clean 57014; the client deadline
// only catches a server or network that stopped answering altogether.
constexpr std::chrono::milliseconds kClientGrace{2000};

constexpr Statement kSetStatementTimeout{
    "", "SELECT pg_catalog.set_config('statement_timeout', $1::text, false)", 1};

std::string Trimmed(const char* text) {
  std::string out = text != nullptr ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// The adapter has no logger, and the notices our constant SQL can raise ("schema already
// exists, skipping", a FATAL seen while idle) are not actionable: they must not reach stderr.
void IgnoreNotice(void*, const char*) {}

enum class Ready { kYes, kTimedOut, kFailed, kInterrupted };

// Waits until the socket is ready for `events` or the deadline passes (no deadline: max()),
// or `interrupt_fd` (unless -1) becomes readable.
Ready WaitSocket(PGconn* conn, short events, Clock::time_point deadline, int interrupt_fd) {
  const int fd = PQsocket(conn);
  if (fd < 0) return Ready::kFailed;
  for (;;) {
    int timeout_ms = -1;
    if (deadline != Clock::time_point::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return Ready::kTimedOut;
      timeout_ms = left > 60'000 ? 60'000 : static_cast<int>(left);
    }
    pollfd pfds[2] = {{fd, events, 0}, {interrupt_fd, POLLIN, 0}};
    const int n = poll(pfds, interrupt_fd < 0 ? 1 : 2, timeout_ms);
    if (n > 0) {
      if (interrupt_fd >= 0 && pfds[1].revents != 0) return Ready::kInterrupted;
      return Ready::kYes;
    }
    if (n < 0 && errno != EINTR) return Ready::kFailed;
  }
}

Error ConnectError(const ConnectionSettings& settings, ErrorCode code, std::string detail) {
  Error error = Error::Make(code, "Cannot connect to the PostgreSQL database.");
  error.internal = "connecting to " + StoreUrl::Redact(settings.url) + ": " + std::move(detail);
  return error;
}

}  // namespace

std::string_view PgResult::Text(int row, int column) const noexcept {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

bool PgResult::IsNull(int row, int column) const noexcept {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::int64_t PgResult::Affected() const noexcept {
  std::string_view text = PQcmdTuples(result_.get());
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionSettings& settings) {
  // The URL is validated first so that a typo reads as invalid_argument, not as an outage.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(settings.url.c_str(), &parse_error);
  if (parsed == nullptr) {
    Error error = Error::Make(ErrorCode::kInvalidArgument,
                              "The PostgreSQL URL is not a valid libpq connection URI.");
    error.internal = Trimmed(parse_error != nullptr ? parse_error : "out of memory");
    PQfreemem(parse_error);
    return Fail(std::move(error));
  }
  PQconninfoFree(parsed);

  const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", nullptr};
  const char* values[] = {settings.url.c_str(), "socle", "UTF8", nullptr};
  PGconn* raw = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) {
    return Fail(ConnectError(settings, ErrorCode::kResourceExhausted, "out of memory"));
  }
  std::unique_ptr<Connection> conn(new Connection(
      raw,
      settings.statement_timeout.count() == 0 ? std::chrono::milliseconds(0)
                                              : settings.statement_timeout + kClientGrace,
      settings.interrupt_fd));
  PQsetNoticeProcessor(raw, &IgnoreNotice, nullptr);
  if (PQstatus(raw) == CONNECTION_BAD) {
    return Fail(ConnectError(settings, ErrorCode::kUnavailable, Trimmed(PQerrorMessage(raw))));
  }
  // The asynchronous handshake, so that connect_timeout is a real deadline on every step
  // (DNS aside), in milliseconds rather than libpq's whole seconds.
  const auto deadline = Clock::now() + settings.connect_timeout;
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) {
      return Fail(ConnectError(settings, ErrorCode::kUnavailable, Trimmed(PQerrorMessage(raw))));
    }
    const short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    switch (WaitSocket(raw, events, deadline, settings.interrupt_fd)) {
      case Ready::kYes:
        break;
      case Ready::kInterrupted:
        return Fail(ConnectError(settings, ErrorCode::kUnavailable, "interrupted (shutting down)"));
      case Ready::kTimedOut:
        return Fail(ConnectError(settings, ErrorCode::kUnavailable,
                                 "no answer within " +
                                     std::to_string(settings.connect_timeout.count()) + " ms"));
      case Ready::kFailed:
        return Fail(ConnectError(settings, ErrorCode::kUnavailable, "socket error"));
    }
    state = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) {
    return Fail(ConnectError(settings, ErrorCode::kUnavailable, Trimmed(PQerrorMessage(raw))));
  }
  auto timeout = conn->Execute(kSetStatementTimeout,
                               {std::to_string(settings.statement_timeout.count())});
  if (!timeout) return Fail(timeout.error());
  return conn;
}

Connection::~Connection() { PQfinish(conn_); }

Result<PgResult> Connection::Execute(const Statement& statement, const Params& params) {
  if (!deferred_.empty()) {
    // Named constants are prepared by name on first use: simpler to send the deferred ones
    // first (these statements are not on the write path's hot spots).
    if (auto flushed = RunPipeline(std::nullopt); !flushed) return Fail(flushed.error());
  }
  if (static_cast<int>(params.size()) != statement.params) {
    return Fail(Error::Internal("statement " + std::string(statement.sql) + " takes " +
                                std::to_string(statement.params) + " parameters, got " +
                                std::to_string(params.size())));
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);

  const std::string_view name = statement.name;
  if (name.empty()) {
    if (PQsendQueryParams(conn_, statement.sql, statement.params, nullptr, values.data(), nullptr,
                          nullptr, 0) == 0) {
      return Fail(Lost(statement.sql));
    }
    return Await(statement.sql);
  }
  if (!prepared_.contains(name)) {
    if (PQsendPrepare(conn_, statement.name, statement.sql, statement.params, nullptr) == 0) {
      return Fail(Lost(statement.sql));
    }
    auto prepared = Await(statement.sql);
    if (!prepared) return Fail(prepared.error());
    prepared_.insert(name);
  }
  if (PQsendQueryPrepared(conn_, statement.name, statement.params, values.data(), nullptr,
                          nullptr, 0) == 0) {
    return Fail(Lost(statement.sql));
  }
  return Await(statement.sql);
}

Result<PgResult> Connection::ExecuteCached(const std::string& sql, const Params& params,
                                           std::uint64_t generation) {
  if (!deferred_.empty()) return RunPipeline(Deferred{sql, params, generation, true, nullptr});
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);

  auto found = cache_.find(sql);
  if (found != cache_.end() && found->second->generation != generation) {
    Evict(found->second);
    found = cache_.end();
  }
  CacheList::iterator entry;
  if (found == cache_.end()) {
    if (cache_.size() >= kStatementCacheCapacity) Evict(std::prev(lru_.end()));
    std::string name = "socle_q" + std::to_string(++statements_prepared_);
    // No parameter types: every $n carries an explicit cast in the text.
    if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) == 0) {
      return Fail(Lost(sql));
    }
    auto prepared = Await(sql);
    if (!prepared) return Fail(prepared.error());
    lru_.push_front(CachedStatement{sql, std::move(name), generation});
    entry = lru_.begin();
    cache_.emplace(entry->sql, entry);
  } else {
    entry = found->second;
    lru_.splice(lru_.begin(), lru_, entry);
  }
  if (PQsendQueryPrepared(conn_, entry->name.c_str(), static_cast<int>(values.size()),
                          values.data(), nullptr, nullptr, 0) == 0) {
    return Fail(Lost(sql));
  }
  return Await(sql);
}

void Connection::Evict(CacheList::iterator entry) {
  // The generated name is never reused, so a DEALLOCATE that cannot run (inside a failed
  // transaction, on a lost connection) only leaves an unreachable statement until the
  // session ends; the connection stays usable either way.
  if (!broken_ && !InFailedTransaction()) {
    (void)Script("DEALLOCATE " + entry->name);
  }
  cache_.erase(std::string_view(entry->sql));
  lru_.erase(entry);
}

namespace {

// A statement without parameters sent in a pipeline. BEGIN and COMMIT, on every write's path,
// are prepared once per connection, as any cached statement, rather than parsed each time.
bool PreparedControl(std::string_view sql) { return sql == kBegin || sql == kCommit; }

}  // namespace

Result<PgResult> Connection::Script(const std::string& sql) {
  if (!deferred_.empty()) {
    if (sql.find(';') == std::string::npos) {
      return RunPipeline(Deferred{sql, {}, 0, PreparedControl(sql), nullptr});
    }
    if (auto flushed = RunPipeline(std::nullopt); !flushed) return Fail(flushed.error());
  }
  if (PQsendQuery(conn_, sql.c_str()) == 0) return Fail(Lost(sql));
  return Await(sql);
}

void Connection::Defer(std::string sql) {
  const bool prepared = PreparedControl(sql);
  deferred_.push_back(Deferred{std::move(sql), {}, 0, prepared, nullptr});
}

void Connection::Defer(std::string sql, Params params, std::uint64_t generation) {
  deferred_.push_back(Deferred{std::move(sql), std::move(params), generation, true, nullptr});
}

const std::string& Connection::NameFor(const Deferred& deferred, bool& prepare) {
  auto found = cache_.find(deferred.sql);
  if (found != cache_.end() && found->second->generation == deferred.generation) {
    prepare = false;
    lru_.splice(lru_.begin(), lru_, found->second);
    return found->second->name;
  }
  // Stale or new: prepared afresh under a new name (the old entry, if any, was evicted before
  // the pipeline started, see RunPipeline).
  prepare = true;
  lru_.push_front(CachedStatement{deferred.sql, "socle_q" + std::to_string(++statements_prepared_),
                                  deferred.generation});
  cache_.emplace(lru_.front().sql, lru_.begin());
  return lru_.front().name;
}

Connection::KeptResult Connection::DeferKept(std::string sql, Params params,
                                             std::uint64_t generation) {
  auto kept = std::make_shared<std::optional<PgResult>>();
  deferred_.push_back(Deferred{std::move(sql), std::move(params), generation, true, kept});
  return kept;
}

Result<void> Connection::Flush() {
  if (deferred_.empty()) return {};
  auto flushed = RunPipeline(std::nullopt);
  if (!flushed) return Fail(flushed.error());
  return {};
}

Result<PgResult> Connection::RunPipeline(std::optional<Deferred> last) {
  std::vector<Deferred> commands = std::exchange(deferred_, {});
  if (last) commands.push_back(std::move(*last));
  std::string what;
  for (const auto& command : commands) what += (what.empty() ? "" : "; ") + command.sql;
  // Room in the statement cache is made before the pipeline: DEALLOCATE is a round trip of
  // its own, which cannot run inside one.
  std::size_t adding = 0;
  for (const auto& command : commands) {
    if (!command.cached) continue;
    auto found = cache_.find(command.sql);
    if (found != cache_.end() && found->second->generation != command.generation) {
      Evict(found->second);
      found = cache_.end();
    }
    if (found != cache_.end()) continue;
    ++adding;
    while (!lru_.empty() && cache_.size() + adding > kStatementCacheCapacity) {
      Evict(std::prev(lru_.end()));
    }
  }
  if (PQenterPipelineMode(conn_) == 0) return Fail(Lost(what));
  std::vector<std::string_view> fresh;  // statements prepared by this pipeline
  std::vector<KeptResult> kept;         // per command sent, preparations included
  for (const auto& command : commands) {
    std::vector<const char*> values;
    values.reserve(command.params.size());
    for (const auto& p : command.params) values.push_back(p ? p->c_str() : nullptr);
    int sent = 0;
    if (!command.cached) {
      sent = PQsendQueryParams(conn_, command.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                               0);
    } else {
      bool prepare = false;
      const std::string& name = NameFor(command, prepare);
      if (prepare) {
        fresh.push_back(lru_.front().sql);
        kept.push_back(nullptr);
      }
      sent = (!prepare || PQsendPrepare(conn_, name.c_str(), command.sql.c_str(), 0, nullptr) != 0)
                 ? PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                       values.data(), nullptr, nullptr, 0)
                 : 0;
    }
    if (sent == 0) return Fail(Lost(what));
    kept.push_back(command.kept);
  }
  if (PQpipelineSync(conn_) == 0) return Fail(Lost(what));
  auto result = Await(what, /*pipeline=*/true, &kept);
  if (!broken_ && PQexitPipelineMode(conn_) == 0) broken_ = true;
  if (!result) {
    // A command that failed aborts the rest of the pipeline, preparations included: which of
    // these statements exist on the server is unknown, so they are forgotten (their names are
    // never reused, so one that does exist is merely unreachable).
    for (std::string_view sql : fresh) {
      auto found = cache_.find(sql);
      if (found == cache_.end()) continue;
      auto entry = found->second;
      cache_.erase(found);
      lru_.erase(entry);
    }
  }
  return result;
}

Result<PgResult> Connection::Await(std::string_view what, bool pipeline,
                                   const std::vector<KeptResult>* kept) {
  const auto deadline =
      io_timeout_.count() == 0 ? Clock::time_point::max() : Clock::now() + io_timeout_;
  auto timed_out = [&] {
    // The connection's state is unknown now: it is discarded, which also ends the session.
    broken_ = true;
    Error error = Error::Make(ErrorCode::kDeadlineExceeded,
                              "The database did not answer in time.");
    error.internal = "no answer within " + std::to_string(io_timeout_.count()) + " ms: " +
                     std::string(what);
    return error;
  };
  auto interrupted = [&] {
    broken_ = true;  // the answer was not read: the connection's state is unknown
    Error error = Error::Make(ErrorCode::kUnavailable, "The database connection was closed.");
    error.internal = "interrupted (shutting down): " + std::string(what);
    return error;
  };
  // Non-blocking mode: the query may not have left the buffer yet.
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) return Fail(Lost(what));
    const Ready ready = WaitSocket(conn_, POLLIN | POLLOUT, deadline, interrupt_fd_);
    if (ready == Ready::kTimedOut) return Fail(timed_out());
    if (ready == Ready::kInterrupted) return Fail(interrupted());
    if (ready == Ready::kFailed || PQconsumeInput(conn_) == 0) return Fail(Lost(what));
  }
  // Collect every result (a script yields one per statement); the first error wins.
  std::optional<PgResult> last;
  bool answered = false;
  std::vector<std::pair<std::size_t, PgResult>> to_keep;  // handed over once all succeeded
  std::size_t command = 0;                                // in a pipeline, the one answering
  std::optional<Error> failure;
  last_constraint_.clear();
  last_sqlstate_.clear();
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      const Ready ready = WaitSocket(conn_, POLLIN, deadline, interrupt_fd_);
      if (ready == Ready::kTimedOut) return Fail(timed_out());
      if (ready == Ready::kInterrupted) return Fail(interrupted());
      if (ready == Ready::kFailed || PQconsumeInput(conn_) == 0) return Fail(Lost(what));
    }
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {
      // The end of the answer; in a pipeline, the end of one command's results (the sync
      // ends the answer), unless the connection went bad.
      if (!pipeline) break;
      if (PQstatus(conn_) != CONNECTION_OK) return Fail(Lost(what));
      ++command;
      continue;
    }
    PgResult result(raw);
    const auto status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
        status == PGRES_EMPTY_QUERY) {
      answered = true;
      if (kept != nullptr && command < kept->size() && (*kept)[command] != nullptr) {
        // A pipeline ends with a kept statement only when nothing of the caller's own went
        // with it (Flush, or the deferred ones sent ahead of a named statement or a script),
        // and such a caller drops the round trip's result.
        to_keep.emplace_back(command, std::move(result));
        continue;
      }
      last.emplace(std::move(result));
      continue;
    }
    // Commands after a failure in a pipeline come back aborted: the first failure is the answer.
    if (status == PGRES_PIPELINE_ABORTED || failure) continue;
    const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    const char* constraint = PQresultErrorField(raw, PG_DIAG_CONSTRAINT_NAME);
    if (constraint != nullptr) last_constraint_ = constraint;
    if (sqlstate != nullptr) last_sqlstate_ = sqlstate;
    failure = ErrorFromSqlstate(sqlstate != nullptr ? sqlstate : "",
                                Trimmed(PQresultErrorMessage(raw)) + " in: " + std::string(what));
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  if (failure) return Fail(std::move(*failure));
  if (!answered) return Fail(Lost(what));
  if (!last) last.emplace(nullptr);
  for (auto& [index, result] : to_keep) (*kept)[index]->emplace(std::move(result));
  ++round_trips_;
  return std::move(*last);
}

Error Connection::Lost(std::string_view what) {
  broken_ = true;
  return ErrorFromSqlstate("", Trimmed(PQerrorMessage(conn_)) + " in: " + std::string(what));
}

Result<std::vector<Notification>> Connection::TakeNotifications() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return Fail(Lost("waiting for notifications"));
  // Drain the socket without blocking: libpq marks the connection bad when it reads EOF (a
  // terminated backend announces itself with an error message, then closes). Bounded, so that
  // a flood of notifications cannot keep the caller here: what is left is read next time.
  for (int i = 0; i < 16; ++i) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (pfd.fd < 0) return Fail(Lost("waiting for notifications"));
    const int n = poll(&pfd, 1, 0);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
      return Fail(Lost("waiting for notifications"));
    }
  }
  std::vector<Notification> notifications;
  while (PGnotify* notify = PQnotifies(conn_)) {
    notifications.push_back(Notification{notify->relname != nullptr ? notify->relname : "",
                                         notify->extra != nullptr ? notify->extra : ""});
    PQfreemem(notify);
  }
  if (PQstatus(conn_) != CONNECTION_OK) return Fail(Lost("waiting for notifications"));
  return notifications;
}

bool Connection::IsReusable() {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) return false;
  // Statements still deferred belong to a transaction its owner neither finished nor rolled
  // back: never lent to the next one.
  if (!deferred_.empty()) return false;
  // An idle connection has nothing to read unless the server is closing it (or sent a
  // notification). Read until the socket is drained: libpq marks the connection bad on EOF.
  for (int i = 0; i < 8; ++i) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (pfd.fd < 0) return false;
    const int n = poll(&pfd, 1, 0);
    if (n == 0) break;
    if (n < 0 || PQconsumeInput(conn_) == 0) return false;
    while (PGnotify* notify = PQnotifies(conn_)) PQfreemem(notify);
  }
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

void RollBack(Connection& conn) {
  conn.DropDeferred();
  if (!conn.broken() && !conn.IsReusable()) (void)conn.Script(kRollback);
}

}  // namespace socle::adapters::postgres
