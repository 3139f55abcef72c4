#include "support/postgres_test_database.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>

namespace socle::testing {
namespace {

#ifndef SOCLE_TEST_PG_DEFAULT_URL_FILE
#define SOCLE_TEST_PG_DEFAULT_URL_FILE ""
#endif

std::string UrlFile() {
  const char* file = std::getenv("SOCLE_TEST_PG_URL_FILE");
  return file != nullptr && *file != '\0' ? file : SOCLE_TEST_PG_DEFAULT_URL_FILE;
}

// Percent-encodes a value for the query part of a libpq URI.
std::string Encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '/' || c == '.' || c == '_' || c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string UniqueName() {
  static std::atomic<int> counter{0};
  std::random_device device;
  char buf[64];
  std::snprintf(buf, sizeof buf, "socle_test_%d_%d_%08x", static_cast<int>(getpid()), ++counter,
                device());
  return buf;
}

}  // namespace

PostgresSession::PostgresSession(const std::string& url) {
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {url.c_str(), "10", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    PQfinish(conn_);
    throw std::runtime_error("test session cannot connect to " + url + ": " + message);
  }
}

PostgresSession::~PostgresSession() { PQfinish(conn_); }

std::vector<PgRow> PostgresSession::Query(const std::string& sql,
                                          const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                   nullptr, nullptr, 0),
      &PQclear);
  auto status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    throw std::runtime_error("test query failed: " + sql + ": " + PQerrorMessage(conn_));
  }
  std::vector<PgRow> rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    PgRow row;
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      if (PQgetisnull(result.get(), r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(PQgetvalue(result.get(), r, c));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PostgresSession::Value(const std::string& sql, const std::vector<std::string>& params) {
  auto rows = Query(sql, params);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("test query returned no row: " + sql);
  return rows[0][0].value_or("");
}

int PostgresSession::BackendPid() const { return PQbackendPID(conn_); }

std::string PostgresTestDatabase::ClusterUrl() {
  const std::string file = UrlFile();
  std::ifstream in(file);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    throw std::runtime_error(
        "no PostgreSQL test cluster: cannot read its URL from '" + file +
        "' (run the test through ctest, which starts the cluster, or run "
        "tests/support/pg_cluster.sh start <build>/pgtest)");
  }
  return url;
}

std::string PostgresTestDatabase::UrlFor(std::string_view database) {
  const std::string cluster = ClusterUrl();
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(cluster.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("the test cluster URL is invalid: " + message);
  }
  std::string url = "postgresql:///" + Encode(database);
  char separator = '?';
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    url += separator;
    url += o->keyword;
    url += '=';
    url += Encode(o->val);
    separator = '&';
  }
  return url;
}

PostgresTestDatabase::PostgresTestDatabase() : name_(UniqueName()), url_(UrlFor(name_)) {
  PostgresSession admin(ClusterUrl());
  // The name is made of [a-z0-9_] only (UniqueName), so quoting it is enough.
  admin.Query("CREATE DATABASE \"" + name_ + "\" TEMPLATE template0 ENCODING 'UTF8'");
}

PostgresTestDatabase::~PostgresTestDatabase() {
  try {
    PostgresSession admin(ClusterUrl());
    admin.Query("DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: could not drop test database %s: %s\n", name_.c_str(),
                 e.what());
  }
}

std::vector<PgRow> PostgresTestDatabase::Query(const std::string& sql,
                                               const std::vector<std::string>& params) const {
  PostgresSession session(url_);
  return session.Query(sql, params);
}

std::string PostgresTestDatabase::Value(const std::string& sql,
                                        const std::vector<std::string>& params) const {
  PostgresSession session(url_);
  return session.Value(sql, params);
}

}  // namespace socle::testing
