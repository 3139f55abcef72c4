// Sends each case of shared/testdata/http1-conformance/cases.json (RFC 9112 framing: Host,
// Content-Length / Transfer-Encoding conflicts, chunk syntax, request-line and field syntax)
// over a fresh TCP connection to the in-process server and checks the outcome the case allows.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "http_test_client.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "test_server.hpp"

using socle::adapters::http::JsonValue;
using socle::adapters::http::ParseJson;
using socle::testing::HttpReply;
using socle::testing::ParseResponses;
using socle::testing::RawExchange;
using socle::testing::TestServer;

namespace {

// cases.json spells one byte per character (ISO-8859-1): decode the UTF-8 the parser produced
// back into those bytes.
std::string Latin1Bytes(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      REQUIRE((c & 0xE0) == 0xC0);  // U+0080..U+00FF take two bytes
      REQUIRE(i + 1 < utf8.size());
      const auto next = static_cast<unsigned char>(utf8[++i]);
      out += static_cast<char>(((c & 0x1F) << 6) | (next & 0x3F));
    }
  }
  return out;
}

struct Case {
  std::string id;
  std::string raw;
  std::string expect;
  int status = 0;
  std::set<int> also_statuses;
  bool also_reject = false;     // an accept case that may be rejected (400) instead
  bool also_process = false;    // a reject case that may be processed normally instead
  bool must_close = false;
};

std::vector<Case> LoadCases() {
  const auto path = std::filesystem::path(SOCLE_HTTP1_CONFORMANCE_DIR) / "cases.json";
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto document = ParseJson(text);
  REQUIRE(document);
  std::vector<Case> cases;
  for (const JsonValue& item : document->Find("cases")->items()) {
    Case c;
    c.id = item.Find("id")->AsString();
    c.raw = Latin1Bytes(item.Find("raw")->AsString());
    c.expect = item.Find("expect")->AsString();
    if (const JsonValue* status = item.Find("status")) {
      c.status = static_cast<int>(*status->AsInt64());
    }
    if (const JsonValue* close = item.Find("connection_must_close")) c.must_close = close->AsBool();
    if (const JsonValue* also = item.Find("also_acceptable")) {
      for (const JsonValue& option : also->items()) {
        const std::string& text_option = option.AsString();
        if (!text_option.empty() && std::isdigit(static_cast<unsigned char>(text_option[0]))) {
          c.also_statuses.insert(std::stoi(text_option));
        } else if (text_option.starts_with("reject")) {
          c.also_reject = true;
        } else if (text_option.starts_with("normalize") || text_option.starts_with("process")) {
          c.also_process = true;
        }
        // "timeout then close" is covered by "closed without a response".
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// A status decided by routing rather than by framing.
bool IsRoutingStatus(int status) { return status < 400 || status == 404 || status == 405; }

}  // namespace

TEST_CASE("The server answers the HTTP/1.1 conformance cases as RFC 9112 allows",
          "[http][server][conformance]") {
  auto options = socle::testing::TestServerOptions();
  options.read_timeout = std::chrono::milliseconds(1000);
  options.idle_timeout = std::chrono::milliseconds(300);
  TestServer t(options);
  t.Start();

  const auto cases = LoadCases();
  REQUIRE(cases.size() == 62);
  int checked = 0;
  for (const Case& c : cases) {
    INFO("case " << c.id);
    const auto exchange = RawExchange(t.port(), c.raw, std::chrono::milliseconds(3000));
    const auto replies = ParseResponses(exchange.received);
    INFO("received: " << exchange.received.substr(0, 300));
    INFO("closed: " << exchange.closed);

    if (c.expect == "accept") {
      if (c.also_reject && !replies.empty() && replies.back().status == 400) {
        CHECK(exchange.closed);
      } else {
        REQUIRE_FALSE(replies.empty());
        for (const HttpReply& reply : replies) CHECK(IsRoutingStatus(reply.status));
        if (c.id == "ok-pipelined") CHECK(replies.size() == 2);
        if (c.id != "ok-pipelined") CHECK(replies.size() == 1);
      }
    } else {
      REQUIRE(c.expect == "reject");
      // A rejection may follow responses to complete requests that came before the bad bytes;
      // nothing may be answered after it.
      const std::size_t allowed = c.id == "pipeline-then-garbage" ? 2 : 1;
      CHECK(replies.size() <= allowed);
      if (replies.empty()) {
        CHECK(exchange.closed);
      } else {
        const int status = replies.back().status;
        const bool expected_status = status == c.status || c.also_statuses.count(status) > 0;
        const bool processed = c.also_process && IsRoutingStatus(status);
        CHECK((expected_status || processed));
        if (c.must_close) CHECK(exchange.closed);
      }
    }
    ++checked;
  }
  CHECK(checked == 62);
}
