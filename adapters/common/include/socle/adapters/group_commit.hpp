#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <algorithm>
#include <exception>
#include <mutex>
#include <span>
#include <vector>

namespace socle::adapters {

/// Group commit for a store with one writer: concurrent writers queue their items, and one of
/// them, the leader, hands a batch of the oldest (its own among them, or ahead of it) to `run`,
/// which applies them in one transaction and commits once for all. Meanwhile the next writers
/// queue up, and one of them leads the next batch once the commit is done. A disk that takes
/// a fraction of a millisecond per flush then commits as many writes per flush as there are
/// writers waiting, instead of one.
///
/// Submit returns once the item went through `run`, whichever thread ran it: everything `run`
/// sets in the item is visible to the submitter then. `run` must settle every item it gets
/// (each one's outcome is the item's business); if it throws, every item of the batch is
/// given the exception, rethrown by each Submit. Thread-safe; `run` is called by one thread at
/// a time and must not Submit to the same GroupCommit.
template <typename Item>
class GroupCommit final {
 public:
  /// `max_batch`: at most this many items per `run` (0 is taken as 1).
  explicit GroupCommit(std::size_t max_batch) : max_batch_(max_batch == 0 ? 1 : max_batch) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  /// Queues `item` and returns once a batch holding it went through `run`.
  template <typename Run>
  void Submit(Item& item, Run&& run) {
    Node node{&item, false, nullptr};
    std::unique_lock lock(mutex_);
    queue_.push_back(&node);
    for (;;) {
      settled_.wait(lock, [&] { return node.done || !leading_; });
      if (node.done) break;
      // Nobody leads and this item waits: lead the oldest batch (which may not reach it when
      // more than max_batch wait ahead; the loop then leads again or waits for the next).
      leading_ = true;
      std::vector<Node*> nodes;
      const std::size_t count = std::min(queue_.size(), max_batch_);
      nodes.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
      lock.unlock();
      std::vector<Item*> batch;
      batch.reserve(nodes.size());
      for (Node* queued : nodes) batch.push_back(queued->item);
      std::exception_ptr thrown;
      try {
        run(std::span<Item* const>(batch));
      } catch (...) {
        thrown = std::current_exception();
      }
      lock.lock();
      for (Node* queued : nodes) {
        queued->thrown = thrown;
        queued->done = true;
      }
      ++batches_;
      leading_ = false;
      settled_.notify_all();
    }
    if (node.thrown) std::rethrow_exception(node.thrown);
  }

  /// How many items wait for a batch (not counting those of the batch running).
  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  /// How many batches ran so far (for tests and metrics).
  std::size_t batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  struct Node {
    Item* item;
    bool done = false;
    std::exception_ptr thrown;
  };

  const std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::condition_variable settled_;
  std::deque<Node*> queue_;  // waiting, oldest first; guarded by mutex_
  bool leading_ = false;     // a batch is running; guarded by mutex_
  std::size_t batches_ = 0;  // guarded by mutex_
};

}  // namespace socle::adapters
