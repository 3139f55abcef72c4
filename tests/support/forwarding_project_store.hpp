#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/application/ports/project_store.hpp"

namespace socle::testing {

/// A project store that hands every call to another one: the base of the tests' decorators,
/// which override only the calls they change (a write that fails, a read that waits, a process
/// that dies before its commit).
class ForwardingProjectStore : public application::ProjectStore {
 public:
  explicit ForwardingProjectStore(std::shared_ptr<application::ProjectStore> inner)
      : inner_(std::move(inner)) {}
  using application::ProjectStore::ApplySchema;

  domain::Result<domain::SchemaPtr> Schema() override { return inner_->Schema(); }
  domain::Result<domain::SchemaPtr> ApplySchema(
      const std::vector<application::CollectionChange>& changes, std::int64_t expected_version,
      const std::string& actor, domain::Timestamp at,
      const application::AuditWrite& audit) override {
    return inner_->ApplySchema(changes, expected_version, actor, at, audit);
  }
  domain::Result<std::vector<application::SchemaHistoryEntry>> History() override {
    return inner_->History();
  }
  domain::Result<application::RecordPage> Query(const domain::Collection& collection,
                                                const application::RecordQuery& query) override {
    return inner_->Query(collection, query);
  }
  domain::Result<std::optional<domain::Record>> Get(
      const domain::Collection& collection, std::string_view id,
      const domain::filter::ResolvedFilter* where) override {
    return inner_->Get(collection, id, where);
  }
  domain::Result<void> Write(
      const std::function<domain::Result<void>(application::RecordTransaction&)>& work) override {
    return inner_->Write(work);
  }
  domain::Result<std::vector<application::StoredAuditEvent>> AuditEvents(
      const application::AuditQuery& query) override {
    return inner_->AuditEvents(query);
  }
  domain::Result<std::vector<domain::AuditHead>> AuditHeads() override {
    return inner_->AuditHeads();
  }
  domain::Result<std::vector<application::StoredAuditEvent>> AuditChain(
      std::int64_t lane, std::int64_t after_seq, std::int64_t limit) override {
    return inner_->AuditChain(lane, after_seq, limit);
  }
  domain::Result<std::int64_t> ErasePersonal(std::string_view subject) override {
    return inner_->ErasePersonal(subject);
  }

 protected:
  application::ProjectStore& inner() { return *inner_; }

 private:
  std::shared_ptr<application::ProjectStore> inner_;
};

}  // namespace socle::testing
