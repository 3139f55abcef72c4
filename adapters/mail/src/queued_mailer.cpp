#include "socle/adapters/mail/queued_mailer.hpp"

#include <utility>

namespace socle::adapters::mail {

QueuedMailer::QueuedMailer(application::Mailer& inner, FailureSink on_failure,
                           std::size_t capacity, std::chrono::milliseconds drain_timeout)
    : inner_(inner),
      on_failure_(std::move(on_failure)),
      capacity_(capacity == 0 ? 1 : capacity),
      drain_timeout_(drain_timeout),
      worker_([this](std::stop_token stop) { Run(stop); }) {}

QueuedMailer::~QueuedMailer() {
  {
    std::unique_lock lock(mutex_);
    idle_.wait_for(lock, drain_timeout_, [this] { return queue_.empty() && !sending_; });
  }
  worker_.request_stop();
  wake_.notify_all();
  worker_.join();
  const domain::Error dropped =
      domain::Error::Make(domain::ErrorCode::kUnavailable, "The server stopped before sending.");
  for (const auto& message : queue_) {
    if (on_failure_) on_failure_(message, dropped);
  }
}

domain::Result<void> QueuedMailer::Send(const application::MailMessage& message) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_) {
      return domain::Fail(domain::ErrorCode::kResourceExhausted,
                          "Too many e-mails are waiting to be sent; try again later.");
    }
    queue_.push_back(message);
  }
  wake_.notify_one();
  return {};
}

void QueuedMailer::Flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !sending_; });
}

void QueuedMailer::Run(std::stop_token stop) {
  for (;;) {
    application::MailMessage message;
    {
      std::unique_lock lock(mutex_);
      // Once stopped, what is left is the destructor's to report, not this thread's to send.
      if (!wake_.wait(lock, stop, [this] { return !queue_.empty(); }) || stop.stop_requested()) {
        return;
      }
      message = std::move(queue_.front());
      queue_.pop_front();
      sending_ = true;
    }
    auto sent = inner_.Send(message);
    if (!sent && on_failure_) on_failure_(message, sent.error());
    {
      std::lock_guard lock(mutex_);
      sending_ = false;
    }
    idle_.notify_all();
  }
}

}  // namespace socle::adapters::mail
