// The mail queue (QueuedMailer) in front of a recording mailer: a Mailer of the tests' own that
// keeps what it is handed, can hold a message until the test lets it go, and can refuse
// messages, so that ordering, the bound, failures, Flush and the drain on destruction are
// decided by the test, not by a mail server's timing.
#include "socle/adapters/mail/queued_mailer.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using socle::adapters::mail::QueuedMailer;
using socle::application::MailAddress;
using socle::application::Mailer;
using socle::application::MailMessage;
using namespace socle::domain;
using namespace std::chrono_literals;

namespace {

// Bound on every wait of the tests: a broken queue fails a test instead of hanging it.
constexpr auto kPatience = 10s;

MailMessage Message(std::string subject) {
  MailMessage message;
  message.from = {"Support", "support@example.com"};
  message.to = {{"", "ann@example.org"}};
  message.subject = std::move(subject);
  message.text = "Hello " + message.subject;
  message.html = "<p>Hello " + message.subject + "</p>";
  return message;
}

// A Mailer that records every message it is handed, in order. Messages whose subject is
// "held" wait until Release() (at most kPatience, then they fail so that nothing hangs); those
// whose subject is "slow" take `slow_for` of real time, as a slow server would; those starting
// with "fail" are refused as unavailable. Thread-safe.
class RecordingMailer final : public Mailer {
 public:
  explicit RecordingMailer(std::chrono::milliseconds slow_for = 0ms) : slow_for_(slow_for) {}

  Result<void> Send(const MailMessage& message) override {
    std::unique_lock lock(mutex_);
    ++calls_in_flight_;
    max_in_flight_ = std::max(max_in_flight_, calls_in_flight_);
    entered_.push_back(message.subject);
    changed_.notify_all();
    Result<void> result;
    if (message.subject == "held") {
      if (!changed_.wait_for(lock, kPatience, [this] { return released_; })) {
        result = Fail(ErrorCode::kDeadlineExceeded, "held message never released");
      }
    } else if (message.subject == "slow") {
      // Nothing ever notifies this wait: it is the slow server's latency.
      changed_.wait_for(lock, slow_for_, [] { return false; });
    }
    if (message.subject.starts_with("fail")) {
      result = Fail(ErrorCode::kUnavailable, "The mail server cannot be reached.");
    }
    delivered_.push_back(message);
    --calls_in_flight_;
    changed_.notify_all();
    return result;
  }

  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  // Waits until `count` messages were handed over (whether or not they completed).
  bool WaitEntered(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return entered_.size() >= count; });
  }

  std::vector<MailMessage> Delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  std::vector<std::string> DeliveredSubjects() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& message : delivered_) out.push_back(message.subject);
    return out;
  }
  std::size_t EnteredCount() {
    std::lock_guard lock(mutex_);
    return entered_.size();
  }
  int MaxInFlight() {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }

 private:
  const std::chrono::milliseconds slow_for_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  int calls_in_flight_ = 0;
  int max_in_flight_ = 0;
  std::vector<std::string> entered_;
  std::vector<MailMessage> delivered_;
};

// What the queue reported as failed, from whichever thread it reported on.
struct FailureLog {
  struct Entry {
    std::string subject;
    ErrorCode code;
    std::string message;
    std::thread::id thread;
  };
  QueuedMailer::FailureSink Sink() {
    return [this](const MailMessage& message, const Error& error) {
      std::lock_guard lock(mutex);
      entries.push_back({message.subject, error.code, error.message, std::this_thread::get_id()});
    };
  }
  std::vector<Entry> Entries() {
    std::lock_guard lock(mutex);
    return entries;
  }
  std::vector<std::string> Subjects() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& entry : entries) out.push_back(entry.subject);
    return out;
  }
  std::mutex mutex;
  std::vector<Entry> entries;
};

std::vector<std::string> Numbered(std::string_view prefix, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(std::string(prefix) + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("queued mailer: messages reach the inner mailer whole and in order", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  QueuedMailer queue(inner, failures.Sink());

  const std::vector<std::string> subjects = Numbered("m", 50);
  for (const auto& subject : subjects) REQUIRE(queue.Send(Message(subject)));
  queue.Flush();
  CHECK(inner.DeliveredSubjects() == subjects);
  CHECK(failures.Entries().empty());
  // One message at a time: the queue is one worker, not a pool.
  CHECK(inner.MaxInFlight() == 1);

  SECTION("every part of a message is handed over as sent") {
    MailMessage full = Message("full");
    full.to = {{"Ann", "ann@example.org"}, {"", "bob@example.org"}};
    full.cc = {{"Carol", "carol@example.org"}};
    full.bcc = {{"", "audit@example.org"}};
    full.reply_to = MailAddress{"Help", "help@example.com"};
    full.headers = {{"X-Socle-Flow", "password-reset"}, {"List-Unsubscribe", "<mailto:u@x>"}};
    REQUIRE(queue.Send(full));
    queue.Flush();
    const auto delivered = inner.Delivered();
    REQUIRE(delivered.size() == 51);
    const MailMessage& got = delivered.back();
    CHECK(got.from == full.from);
    CHECK(got.to == full.to);
    CHECK(got.cc == full.cc);
    CHECK(got.bcc == full.bcc);
    CHECK(got.reply_to == full.reply_to);
    CHECK(got.subject == full.subject);
    CHECK(got.text == full.text);
    CHECK(got.html == full.html);
    CHECK(got.headers == full.headers);
  }

  SECTION("the queue keeps its own copy: the caller's message may change or go at once") {
    RecordingMailer held_inner;
    QueuedMailer held_queue(held_inner, failures.Sink());
    REQUIRE(held_queue.Send(Message("held")));
    REQUIRE(held_inner.WaitEntered(1));
    {
      auto message = std::make_unique<MailMessage>(Message("copied"));
      REQUIRE(held_queue.Send(*message));
      message->subject = "changed";
      message->text = "changed";
    }  // and destroyed before the queue gets to it
    held_inner.Release();
    held_queue.Flush();
    const auto delivered = held_inner.Delivered();
    REQUIRE(delivered.size() == 2);
    CHECK(delivered[1].subject == "copied");
    CHECK(delivered[1].text == "Hello copied");
  }
}

TEST_CASE("queued mailer: Send returns while the inner mailer is still sending", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  QueuedMailer queue(inner, failures.Sink());

  // Were Send to deliver on the caller's thread, this call would not return before Release
  // (it would fail after kPatience with the held message reported as never released).
  REQUIRE(queue.Send(Message("held")));
  REQUIRE(queue.Send(Message("after")));
  REQUIRE(inner.WaitEntered(1));
  CHECK(inner.Delivered().empty());  // the first message is still with the inner mailer
  CHECK(inner.EnteredCount() == 1);  // and the second waits behind it

  inner.Release();
  queue.Flush();
  CHECK(inner.DeliveredSubjects() == std::vector<std::string>{"held", "after"});
  CHECK(failures.Entries().empty());
}

TEST_CASE("queued mailer: a full queue refuses with resource_exhausted", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  auto queue = std::make_unique<QueuedMailer>(inner, failures.Sink(), 3);

  REQUIRE(queue->Send(Message("held")));
  REQUIRE(inner.WaitEntered(1));  // taken off the queue: the queue is empty again
  REQUIRE(queue->Send(Message("q0")));
  REQUIRE(queue->Send(Message("q1")));
  REQUIRE(queue->Send(Message("q2")));
  for (int i = 0; i < 3; ++i) {
    auto refused = queue->Send(Message("over" + std::to_string(i)));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kResourceExhausted);
    CHECK_FALSE(refused.error().message.empty());
    CHECK(refused.error().message.find("over") == std::string::npos);
  }

  inner.Release();
  queue->Flush();
  // The refused messages were never sent, nor reported as failures: the caller was told.
  CHECK(inner.DeliveredSubjects() == std::vector<std::string>{"held", "q0", "q1", "q2"});
  CHECK(failures.Entries().empty());

  // Room again once drained.
  REQUIRE(queue->Send(Message("later")));
  queue->Flush();
  CHECK(inner.DeliveredSubjects().back() == "later");

  SECTION("a capacity of 0 is taken as 1, not as unbounded or as refusing everything") {
    RecordingMailer held;
    QueuedMailer tiny(held, failures.Sink(), 0);
    REQUIRE(tiny.Send(Message("held")));
    REQUIRE(held.WaitEntered(1));
    REQUIRE(tiny.Send(Message("one")));
    auto refused = tiny.Send(Message("two"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kResourceExhausted);
    held.Release();
    tiny.Flush();
    CHECK(held.DeliveredSubjects() == std::vector<std::string>{"held", "one"});
  }
}

TEST_CASE("queued mailer: the inner mailer's refusals go to the failure sink", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  QueuedMailer queue(inner, failures.Sink());

  for (const char* subject : {"ok0", "fail-a", "ok1", "fail-b", "ok2"}) {
    // Send itself succeeds: the caller cannot learn the delivery's fate from it.
    REQUIRE(queue.Send(Message(subject)));
  }
  queue.Flush();
  CHECK(inner.DeliveredSubjects() ==
        std::vector<std::string>{"ok0", "fail-a", "ok1", "fail-b", "ok2"});
  const auto entries = failures.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].subject == "fail-a");
  CHECK(entries[1].subject == "fail-b");
  for (const auto& entry : entries) {
    CHECK(entry.code == ErrorCode::kUnavailable);
    CHECK(entry.message == "The mail server cannot be reached.");
    // Reported from the queue's worker, not from the thread that sent.
    CHECK(entry.thread != std::this_thread::get_id());
  }

  SECTION("without a sink, refusals are dropped and the queue goes on") {
    RecordingMailer quiet_inner;
    QueuedMailer quiet(quiet_inner, nullptr);
    REQUIRE(quiet.Send(Message("fail-x")));
    REQUIRE(quiet.Send(Message("ok")));
    quiet.Flush();
    CHECK(quiet_inner.DeliveredSubjects() == std::vector<std::string>{"fail-x", "ok"});
  }
}

TEST_CASE("queued mailer: Flush waits for every message queued before it", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  QueuedMailer queue(inner, failures.Sink());

  // Nothing queued: Flush returns at once.
  queue.Flush();

  REQUIRE(queue.Send(Message("held")));
  REQUIRE(queue.Send(Message("second")));
  REQUIRE(queue.Send(Message("fail-third")));
  REQUIRE(inner.WaitEntered(1));

  std::atomic<bool> flushing{false};
  std::atomic<bool> flushed{false};
  std::atomic<std::size_t> seen_when_flushed{0};
  std::jthread flusher([&] {
    flushing = true;
    queue.Flush();
    seen_when_flushed = inner.Delivered().size();
    flushed = true;
  });
  while (!flushing.load()) std::this_thread::yield();
  // The held message cannot complete before Release, so neither can a correct Flush.
  CHECK_FALSE(flushed.load());
  inner.Release();
  flusher.join();
  CHECK(flushed.load());
  CHECK(seen_when_flushed.load() == 3);  // a failed message counts as handed over
  CHECK(failures.Subjects() == std::vector<std::string>{"fail-third"});
}

TEST_CASE("queued mailer: destruction drains the queue within its timeout", "[mail][queue]") {
  FailureLog failures;

  SECTION("a queue that drains in time sends everything and reports nothing") {
    RecordingMailer inner;
    {
      QueuedMailer queue(inner, failures.Sink(), 1000, 10s);
      for (const auto& subject : Numbered("m", 40)) REQUIRE(queue.Send(Message(subject)));
    }
    CHECK(inner.DeliveredSubjects() == Numbered("m", 40));
    CHECK(failures.Entries().empty());
  }

  SECTION("a destroyed idle queue stops at once") {
    RecordingMailer inner;
    const auto start = std::chrono::steady_clock::now();
    { QueuedMailer queue(inner, failures.Sink(), 10, 5s); }
    CHECK(std::chrono::steady_clock::now() - start < 4s);  // did not wait out the drain timeout
    CHECK(inner.Delivered().empty());
  }

  SECTION("a message still queued at destruction is sent or reported, never lost") {
    // Each "slow" message takes 400 ms; the queue may drain for 50 ms. The message being sent
    // when the timeout ends completes (a send cannot be taken back).
    RecordingMailer inner(400ms);
    auto queue = std::make_unique<QueuedMailer>(inner, failures.Sink(), 100, 50ms);
    REQUIRE(queue->Send(Message("slow")));
    REQUIRE(inner.WaitEntered(1));
    for (const auto& subject : Numbered("left", 4)) REQUIRE(queue->Send(Message(subject)));
    queue.reset();

    const std::vector<std::string> delivered = inner.DeliveredSubjects();
    REQUIRE_FALSE(delivered.empty());
    CHECK(delivered.front() == "slow");
    const auto entries = failures.Entries();
    std::vector<std::string> accounted(delivered.begin() + 1, delivered.end());
    for (const auto& entry : entries) {
      CHECK(entry.code == ErrorCode::kUnavailable);
      CHECK_FALSE(entry.message.empty());
      accounted.push_back(entry.subject);
    }
    std::sort(accounted.begin(), accounted.end());
    CHECK(accounted == Numbered("left", 4));
  }
}

TEST_CASE("queued mailer: many producers at once lose and repeat nothing", "[mail][queue]") {
  RecordingMailer inner;
  FailureLog failures;
  QueuedMailer queue(inner, failures.Sink(), 10'000);

  constexpr int kProducers = 4;
  constexpr int kEach = 250;
  std::atomic<int> refused{0};
  {
    std::vector<std::jthread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kEach; ++i) {
          // Every tenth one fails in the inner mailer, from several threads' messages.
          const std::string prefix = i % 10 == 0 ? "fail" : "p";
          if (!queue.Send(Message(prefix + std::to_string(p) + "-" + std::to_string(i)))) {
            ++refused;
          }
          if (i % 50 == 0) queue.Flush();  // concurrent flushes are fine too
        }
      });
    }
  }
  queue.Flush();
  CHECK(refused.load() == 0);

  const std::vector<std::string> delivered = inner.DeliveredSubjects();
  REQUIRE(delivered.size() == static_cast<std::size_t>(kProducers * kEach));
  CHECK(std::set<std::string>(delivered.begin(), delivered.end()).size() == delivered.size());
  // Each producer's messages arrive in the order it sent them ("p<producer>-<index>", or
  // "fail<producer>-<index>").
  std::vector<int> last(kProducers, -1);
  for (const auto& subject : delivered) {
    const std::size_t digits = subject.find_first_of("0123456789");
    const std::size_t dash = subject.find('-');
    REQUIRE(digits != std::string::npos);
    REQUIRE(dash != std::string::npos);
    const int producer = std::stoi(subject.substr(digits, dash - digits));
    const int index = std::stoi(subject.substr(dash + 1));
    REQUIRE(producer >= 0);
    REQUIRE(producer < kProducers);
    CHECK(index == last[static_cast<std::size_t>(producer)] + 1);
    last[static_cast<std::size_t>(producer)] = index;
  }
  for (int p = 0; p < kProducers; ++p) CHECK(last[static_cast<std::size_t>(p)] == kEach - 1);
  CHECK(failures.Entries().size() == static_cast<std::size_t>(kProducers * (kEach / 10)));
  CHECK(inner.MaxInFlight() == 1);
}
