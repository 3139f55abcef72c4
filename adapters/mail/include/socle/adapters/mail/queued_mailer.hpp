#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "socle/application/ports/mailer.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::mail {

/// Hands messages to another mailer on a thread of its own, so that a request never waits for
/// a mail server (and its answer's timing says nothing about whether a message was sent).
/// Send checks nothing the inner mailer will not check again; it refuses only when the queue
/// is full (resource_exhausted), which bounds the memory a flood of requests can take. A
/// message the inner mailer refuses is reported to `on_failure` (a log line) and dropped:
/// the flows that send mail let their users ask again. On destruction the queue is drained
/// for at most `drain_timeout`, then what is left is reported and dropped.
class QueuedMailer final : public application::Mailer {
 public:
  using FailureSink = std::function<void(const application::MailMessage&, const domain::Error&)>;

  QueuedMailer(application::Mailer& inner, FailureSink on_failure, std::size_t capacity = 1000,
               std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));
  ~QueuedMailer() override;
  QueuedMailer(const QueuedMailer&) = delete;
  QueuedMailer& operator=(const QueuedMailer&) = delete;

  domain::Result<void> Send(const application::MailMessage& message) override;

  /// Blocks until every message queued so far was handed to the inner mailer (tests).
  void Flush();

 private:
  void Run(std::stop_token stop);

  application::Mailer& inner_;
  FailureSink on_failure_;
  const std::size_t capacity_;
  const std::chrono::milliseconds drain_timeout_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable idle_;
  std::deque<application::MailMessage> queue_;
  bool sending_ = false;
  std::jthread worker_;
};

}  // namespace socle::adapters::mail
