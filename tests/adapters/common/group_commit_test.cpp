// GroupCommit: batching of concurrent writers, one leader at a time, the batch bound, exceptions.
#include "socle/adapters/group_commit.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

using socle::adapters::GroupCommit;

namespace {

struct Item {
  int value = 0;
  int runs = 0;           // times a batch ran this item
  std::size_t batch = 0;  // size of the batch it ran in
};

// A gate the first batch waits at, so that the next writers queue up behind it.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool open = false;

  void Enter() {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return open; });
  }
  void AwaitEntered() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return entered; });
  }
  void Open() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

// Submits `count` items numbered 0.., one thread each: item 0 first, whose batch `run` holds
// at the gate (it calls gate.Enter() for item 0) until all the others queue behind it.
template <typename Run>
std::vector<Item> SubmitBehindGate(GroupCommit<Item>& commits, Gate& gate, int count, Run& run) {
  std::vector<Item> items(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) items[static_cast<std::size_t>(i)].value = i;
  std::vector<std::thread> writers;
  writers.emplace_back([&] { commits.Submit(items[0], run); });
  gate.AwaitEntered();
  for (int i = 1; i < count; ++i) {
    writers.emplace_back([&, i] { commits.Submit(items[static_cast<std::size_t>(i)], run); });
  }
  while (commits.waiting() < static_cast<std::size_t>(count - 1)) std::this_thread::yield();
  gate.Open();
  for (auto& writer : writers) writer.join();
  return items;
}

}  // namespace

TEST_CASE("A lone writer runs its own item in a batch of one") {
  GroupCommit<Item> commits(8);
  Item item{7};
  std::vector<int> seen;
  commits.Submit(item, [&](std::span<Item* const> batch) {
    for (Item* queued : batch) {
      seen.push_back(queued->value);
      ++queued->runs;
    }
  });
  CHECK(seen == std::vector<int>{7});
  CHECK(item.runs == 1);
  CHECK(commits.batches() == 1);
}

TEST_CASE("Writers that queue while a batch runs go together in the next one, oldest first") {
  GroupCommit<Item> commits(64);
  Gate gate;
  std::atomic<int> running{0};
  std::atomic<int> overlapped{0};
  std::mutex order_mutex;
  std::vector<int> order;
  auto run = [&](std::span<Item* const> batch) {
    if (running.fetch_add(1) != 0) ++overlapped;
    for (Item* queued : batch) {
      if (queued->value == 0) gate.Enter();  // the first writer holds its batch open
      ++queued->runs;
      queued->batch = batch.size();
      std::lock_guard lock(order_mutex);
      order.push_back(queued->value);
    }
    running.fetch_sub(1);
  };

  const std::vector<Item> items = SubmitBehindGate(commits, gate, 6, run);
  for (const Item& item : items) CHECK(item.runs == 1);
  CHECK(items[0].batch == 1);
  CHECK(commits.batches() == 2);
  for (int i = 1; i < 6; ++i) CHECK(items[static_cast<std::size_t>(i)].batch == 5);
  CHECK(overlapped == 0);
  REQUIRE(order.size() == 6);
  CHECK(order[0] == 0);
}

TEST_CASE("A batch holds at most max_batch items") {
  GroupCommit<Item> commits(2);
  Gate gate;
  std::atomic<std::size_t> largest{0};
  auto run = [&](std::span<Item* const> batch) {
    std::size_t seen = largest.load();
    while (batch.size() > seen && !largest.compare_exchange_weak(seen, batch.size())) {
    }
    for (Item* queued : batch) {
      if (queued->value == 0) gate.Enter();
      ++queued->runs;
    }
  };
  const std::vector<Item> items = SubmitBehindGate(commits, gate, 7, run);
  for (const Item& item : items) CHECK(item.runs == 1);
  CHECK(largest == 2);
  CHECK(commits.batches() == 4);  // 1, then six in batches of two
}

TEST_CASE("An exception out of a batch reaches every writer of that batch, and no other") {
  GroupCommit<Item> commits(8);
  Item failing{1};
  CHECK_THROWS_AS(commits.Submit(failing,
                                 [](std::span<Item* const>) {
                                   throw std::runtime_error("the disk is gone");
                                 }),
                  std::runtime_error);
  Item next{2};
  commits.Submit(next, [](std::span<Item* const> batch) {
    for (Item* queued : batch) ++queued->runs;
  });
  CHECK(next.runs == 1);
  CHECK(failing.runs == 0);
}

TEST_CASE("Under contention every item runs exactly once and batches never overlap") {
  GroupCommit<Item> commits(16);
  std::atomic<int> running{0};
  std::atomic<int> overlapped{0};
  long total = 0;  // written by the batches only, which never overlap
  auto run = [&](std::span<Item* const> batch) {
    if (running.fetch_add(1) != 0) ++overlapped;
    for (Item* queued : batch) {
      ++queued->runs;
      total += queued->value;
    }
    running.fetch_sub(1);
  };
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Item item{t * kPerThread + i};
        commits.Submit(item, run);
        if (item.runs != 1) ++wrong;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  constexpr long kCount = static_cast<long>(kThreads) * kPerThread;
  CHECK(wrong == 0);
  CHECK(overlapped == 0);
  CHECK(total == kCount * (kCount - 1) / 2);
  CHECK(commits.batches() <= static_cast<std::size_t>(kCount));
}
