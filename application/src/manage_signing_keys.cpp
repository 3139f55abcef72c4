#include "socle/application/record_fields.hpp"
#include "socle/application/manage_signing_keys.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "socle/application/new_id.hpp"

namespace socle::application {

using namespace internal;

using domain::Collection;
using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Record;
using domain::Result;

struct ManageSigningKeys::Stored {
  std::string record_id;
  std::string kid;
  std::string sealed;
  domain::Timestamp created;
};

namespace {

std::string Context(std::string_view kid) { return "signing-key:" + std::string(kid); }

}  // namespace

Result<std::vector<ManageSigningKeys::Stored>> ManageSigningKeys::ReadAll() {
  auto store = platform_.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  auto schema = (*store)->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* keys = (*schema)->Find("_signingKeys");
  if (keys == nullptr) return Fail(domain::Error::Internal("the signing keys collection is missing"));
  RecordQuery query;
  query.limit = 1000;
  query.count_total = false;
  auto page = (*store)->Query(*keys, query);
  if (!page) return std::unexpected(std::move(page.error()));
  std::vector<Stored> out;
  for (const auto& record : page->items) {
    Stored stored{record.Id(*keys), Text(*keys, record, "kid"), Text(*keys, record, "sealedSeed"),
                  {}};
    auto created = domain::Timestamp::Parse(Text(*keys, record, "created"));
    if (created) stored.created = *created;
    out.push_back(std::move(stored));
  }
  // Newest first. The stored time has millisecond precision; the key id, which starts with
  // the creation time in microseconds, orders keys made within one millisecond.
  std::sort(out.begin(), out.end(), [](const Stored& a, const Stored& b) {
    if (a.created != b.created) return b.created < a.created;
    return b.kid < a.kid;
  });
  return out;
}

namespace {

// The keys as listed, from one read of the store (newest first).
template <typename StoredKeys>
std::vector<SigningKeyInfo> Describe(const StoredKeys& stored, std::chrono::seconds retention) {
  std::vector<SigningKeyInfo> out;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    SigningKeyInfo info{stored[i].kid, stored[i].created, i == 0, {}};
    if (i > 0) {
      info.retires_at = domain::Timestamp::FromUnixMicros(
          stored[i - 1].created.unix_micros() +
          std::chrono::duration_cast<std::chrono::microseconds>(retention).count());
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

Result<std::vector<SigningKeyInfo>> ManageSigningKeys::List() {
  auto stored = ReadAll();
  if (!stored) return std::unexpected(std::move(stored.error()));
  return Describe(*stored, retention_);
}

Result<std::vector<SigningKeyInfo>> ManageSigningKeys::Load(const AuditContext& context) {
  auto stored = ReadAll();
  if (!stored) return std::unexpected(std::move(stored.error()));
  if (stored->empty()) {
    auto created = Rotate(context);
    if (!created) return std::unexpected(std::move(created.error()));
    return List();
  }
  // Everything below works from this one read: another process rotating meanwhile is seen
  // at the next Load.
  const std::vector<SigningKeyInfo> listed = Describe(*stored, retention_);
  const domain::Timestamp now = clock_.Now();
  std::vector<TokenSigner::KeyMaterial> ring;
  std::vector<std::string> expired;
  std::vector<SigningKeyInfo> kept;
  for (std::size_t i = 0; i < stored->size(); ++i) {
    const Stored& key = (*stored)[i];
    const SigningKeyInfo& info = listed[i];
    if (!info.current && info.retires_at < now) {
      expired.push_back(key.record_id);
      continue;
    }
    auto seed = sealer_.Open(key.sealed, Context(key.kid));
    if (!seed) {
      domain::Error error = std::move(seed.error());
      error.message = "The signing key " + key.kid +
                      " does not open with this master key (is SOCLE_MASTER_KEY or the master "
                      "key file the one the keys were made with?).";
      return std::unexpected(std::move(error));
    }
    ring.push_back({key.kid, std::move(*seed)});
    kept.push_back(info);
  }
  auto replaced = signer_.ReplaceKeys(ring, kept.front().kid);
  for (auto& material : ring) std::fill(material.seed.begin(), material.seed.end(), '\0');
  if (!replaced) return std::unexpected(std::move(replaced.error()));
  if (!expired.empty()) {
    // Best effort: a key past retention no longer verifies whether or not its row goes now.
    // A plain Write, unrecorded: retention is no one's action (see the class comment).
    auto store = platform_.Store();
    if (store) {
      auto schema = (*store)->Schema();
      if (schema) {
        if (const Collection* keys = (*schema)->Find("_signingKeys")) {
          (void)(*store)->Write([&](RecordTransaction& tx) -> Result<void> {
            for (const auto& id : expired) {
              if (auto deleted = tx.Delete(*keys, id); !deleted &&
                                                       deleted.error().code != ErrorCode::kNotFound) {
                return deleted;
              }
            }
            return {};
          });
        }
      }
    }
  }
  return kept;
}

Result<std::string> ManageSigningKeys::Rotate(const AuditContext& context) {
  auto store = platform_.Store();
  if (!store) return std::unexpected(std::move(store.error()));
  auto schema = (*store)->Schema();
  if (!schema) return std::unexpected(std::move(schema.error()));
  const Collection* keys = (*schema)->Find("_signingKeys");
  if (keys == nullptr) return Fail(domain::Error::Internal("the signing keys collection is missing"));

  // The stored keys must open with this process's master key before a new one joins them: a
  // key sealed under another master key would leave a ring no server could load.
  auto current = ReadAll();
  if (!current) return std::unexpected(std::move(current.error()));
  for (const auto& key : *current) {
    auto opened = sealer_.Open(key.sealed, Context(key.kid));
    if (!opened) {
      domain::Error error = std::move(opened.error());
      error.message = "The stored signing keys do not open with this master key; no key was added.";
      return std::unexpected(std::move(error));
    }
  }

  const domain::Timestamp now = clock_.Now();
  // "k" + creation time in microseconds (16 digits, so that key ids sort as their creation
  // times do) + a random suffix: readable, ordered, unique across processes.
  std::string micros = std::to_string(now.unix_micros());
  if (micros.size() < 16) micros.insert(0, 16 - micros.size(), '0');
  const std::string kid = "k" + micros + "-" + NewId(random_).str().substr(0, 8);
  std::array<std::uint8_t, 32> seed{};
  random_.Fill(seed);
  auto sealed = sealer_.Seal(std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()),
                             Context(kid));
  std::fill(seed.begin(), seed.end(), std::uint8_t{0});
  if (!sealed) return std::unexpected(std::move(sealed.error()));

  Record record = domain::EmptyRecord(*keys);
  auto set = [&](std::string_view name, JsonValue value) {
    if (auto index = keys->FieldIndex(name)) record.values[*index] = std::move(value);
  };
  set("id", JsonValue::String(NewId(random_).str()));
  set("kid", JsonValue::String(kid));
  set("sealedSeed", JsonValue::String(*sealed));
  set("created", JsonValue::String(now.ToApiString()));
  set("updated", JsonValue::String(now.ToApiString()));
  AuditEntry base;
  base.actor = context.actor;
  base.origin = context.origin;
  base.action = "signing_key.rotate";
  // sealedSeed is hidden: the event shows it as set, never the sealed bytes.
  auto written = WriteAudited(**store, trail_, base,
                              [&](RecordTransaction& tx) { return tx.Insert(*keys, record); });
  if (!written) return std::unexpected(std::move(written.error()));
  auto loaded = Load(context);
  if (!loaded) return std::unexpected(std::move(loaded.error()));
  return kid;
}

}  // namespace socle::application
