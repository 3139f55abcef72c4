#include "socle/adapters/crypto/ed25519_token_signer.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "base64.hpp"
#include "evp_handles.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/json_value.hpp"

namespace socle::adapters::crypto {

using domain::ErrorCode;
using domain::Fail;
using domain::JsonValue;
using domain::Result;

namespace {

constexpr std::string_view kAlgorithm = "EdDSA";
// A JWT header and payload are flat objects; a little nesting is tolerated for claims added
// later, but a hostile "[[[[..." must stay cheap.
constexpr std::size_t kMaxJsonDepth = 8;
// The one message every rejected token gets: telling a client which check failed would only
// help someone forging tokens.
constexpr std::string_view kInvalidToken = "The token is invalid.";
constexpr std::int64_t kMicrosPerSecond = 1'000'000;

std::unexpected<domain::Error> Reject(std::string internal) {
  domain::Error error =
      domain::Error::Make(ErrorCode::kUnauthenticated, std::string(kInvalidToken));
  error.internal = std::move(internal);
  return std::unexpected(std::move(error));
}

std::string Base64UrlEncode(std::span<const std::uint8_t> bytes) {
  return EncodeBase64(bytes, Base64Alphabet::kUrl);
}

std::string Base64UrlEncode(std::string_view text) {
  return Base64UrlEncode(
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Strict base64url as JWS requires (RFC 7515 section 2), so that a token cannot be altered
// without changing its bytes.
std::optional<std::string> Base64UrlDecode(std::string_view text) {
  auto bytes = DecodeBase64(text, Base64Alphabet::kUrl);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

bool ValidKeyId(std::string_view kid) {
  if (kid.empty() || kid.size() > Ed25519TokenSigner::kMaxKeyIdBytes) return false;
  for (const char c : kid) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The parser keeps duplicate members; a token is refused when any object in it has one,
// because two readers of the same token could otherwise disagree on which value counts.
bool HasDuplicateKeys(const JsonValue& value) {
  if (value.type() == JsonValue::Type::kArray) {
    for (const auto& item : value.items()) {
      if (HasDuplicateKeys(item)) return true;
    }
    return false;
  }
  if (!value.IsObject()) return false;
  std::set<std::string_view> seen;
  for (const auto& [key, member] : value.members()) {
    if (!seen.insert(key).second || HasDuplicateKeys(member)) return true;
  }
  return false;
}

Result<JsonValue> ParseSegment(std::string_view encoded, std::string_view what) {
  const std::optional<std::string> text = Base64UrlDecode(encoded);
  if (!text) return Reject(std::string(what) + " is not strict base64url");
  auto parsed = json::ParseJson(
      *text, json::JsonLimits{kMaxJsonDepth, Ed25519TokenSigner::kMaxTokenBytes});
  if (!parsed) return Reject(std::string(what) + " is not JSON: " + parsed.error().internal);
  if (!parsed->IsObject()) return Reject(std::string(what) + " is not a JSON object");
  if (HasDuplicateKeys(*parsed)) return Reject(std::string(what) + " has a duplicate member");
  return parsed;
}

Result<std::string> StringClaim(const JsonValue& payload, std::string_view name) {
  const JsonValue* value = payload.Find(name);
  if (value == nullptr || value->type() != JsonValue::Type::kString) {
    return Reject("claim " + std::string(name) + " is missing or not a string");
  }
  return value->AsString();
}

// NumericDate (RFC 7519 section 2), restricted to whole, non-negative seconds that fit a
// Timestamp's microseconds: Socle never issues anything else.
Result<domain::Timestamp> TimeClaim(const JsonValue& value, std::string_view name) {
  const std::optional<std::int64_t> seconds =
      value.type() == JsonValue::Type::kNumber ? value.AsInt64() : std::nullopt;
  if (!seconds || *seconds < 0 ||
      *seconds > std::numeric_limits<std::int64_t>::max() / kMicrosPerSecond) {
    return Reject("claim " + std::string(name) + " is not a whole number of seconds in range");
  }
  return domain::Timestamp::FromUnixMicros(*seconds * kMicrosPerSecond);
}

Result<domain::Timestamp> RequiredTimeClaim(const JsonValue& payload, std::string_view name) {
  const JsonValue* value = payload.Find(name);
  if (value == nullptr) return Reject("claim " + std::string(name) + " is missing");
  return TimeClaim(*value, name);
}

std::int64_t UnixSeconds(domain::Timestamp at) {
  // Floor division: an instant before the epoch rounds down like one after it.
  const std::int64_t micros = at.unix_micros();
  std::int64_t seconds = micros / kMicrosPerSecond;
  if (micros % kMicrosPerSecond < 0) --seconds;
  return seconds;
}

}  // namespace

struct Ed25519TokenSigner::Key {
  PkeyPtr pkey;
  bool can_sign = false;
  std::array<std::uint8_t, kKeySize> public_key{};
};

namespace {

Result<std::vector<std::uint8_t>> SignWith(EVP_PKEY* pkey, std::span<const std::uint8_t> message) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::vector<std::uint8_t> signature(Ed25519TokenSigner::kSignatureSize);
  std::size_t length = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1 ||
      length != Ed25519TokenSigner::kSignatureSize) {
    return Fail(domain::Error::Internal("OpenSSL Ed25519 signing failed"));
  }
  return signature;
}

bool VerifyWith(EVP_PKEY* pkey, std::span<const std::uint8_t> message,
                std::span<const std::uint8_t> signature) {
  if (signature.size() != Ed25519TokenSigner::kSignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

PkeyPtr PublicKeyObject(std::span<const std::uint8_t> public_key) {
  if (public_key.size() != Ed25519TokenSigner::kKeySize) return nullptr;
  return PkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(),
                                             public_key.size()));
}

}  // namespace

// Sharded so that verifying threads seldom meet on a lock; each shard evicts an arbitrary entry
// when full (a token in use comes back at its next request).
class Ed25519TokenSigner::VerifiedTokens {
 public:
  std::optional<domain::TokenClaims> Find(std::string_view token, std::uint64_t generation) {
    Shard& shard = ShardOf(token);
    std::lock_guard lock(shard.mutex);
    const auto it = shard.entries.find(token);
    if (it == shard.entries.end() || it->second.generation != generation) return std::nullopt;
    return it->second.claims;
  }

  void Remember(std::string_view token, const domain::TokenClaims& claims,
                std::uint64_t generation) {
    Shard& shard = ShardOf(token);
    std::lock_guard lock(shard.mutex);
    if (shard.entries.size() >= kPerShard && !shard.entries.contains(token)) {
      shard.entries.erase(shard.entries.begin());
    }
    shard.entries.insert_or_assign(std::string(token), Entry{claims, generation});
  }

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = kVerifiedCapacity / kShards;
  struct Entry {
    domain::TokenClaims claims;
    std::uint64_t generation;
  };
  // Looked up by the request's string_view, without copying the token.
  struct TokenHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view token) const noexcept {
      return std::hash<std::string_view>{}(token);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Entry, TokenHash, std::equal_to<>> entries;
  };
  Shard& ShardOf(std::string_view token) {
    return shards_[std::hash<std::string_view>{}(token) % kShards];
  }
  std::array<Shard, kShards> shards_;
};

Ed25519TokenSigner::Ed25519TokenSigner() : verified_(std::make_unique<VerifiedTokens>()) {}
Ed25519TokenSigner::~Ed25519TokenSigner() = default;

Result<void> Ed25519TokenSigner::Insert(std::string kid, std::shared_ptr<const Key> key,
                                        bool make_current) {
  std::unique_lock lock(mutex_);
  if (ring_.contains(kid)) {
    return Fail(ErrorCode::kAlreadyExists, "A key with this id is already in the key ring.");
  }
  if (make_current) current_ = kid;
  ring_.emplace(std::move(kid), std::move(key));
  return {};
}

Result<void> Ed25519TokenSigner::ReplaceKeys(const std::vector<KeyMaterial>& keys,
                                             std::string_view current_kid) {
  std::map<std::string, std::shared_ptr<const Key>, std::less<>> ring;
  for (const auto& material : keys) {
    if (!ValidKeyId(material.kid)) {
      return Fail(ErrorCode::kInvalidArgument, "The key id is not valid.");
    }
    if (ring.contains(material.kid)) {
      return Fail(ErrorCode::kInvalidArgument, "A key id appears twice.");
    }
    auto key = MakeKey(std::span(reinterpret_cast<const std::uint8_t*>(material.seed.data()),
                                 material.seed.size()));
    if (!key) return Fail(std::move(key.error()));
    ring.emplace(material.kid, std::move(*key));
  }
  if (!current_kid.empty() && !ring.contains(current_kid)) {
    return Fail(ErrorCode::kInvalidArgument, "The current key is not among the keys.");
  }
  std::unique_lock lock(mutex_);
  // The periodic reload hands over the same keys: remembered tokens stay valid unless a key
  // left the ring or changed.
  const bool kept_every_key = std::all_of(ring_.begin(), ring_.end(), [&](const auto& entry) {
    const auto it = ring.find(entry.first);
    return it != ring.end() && it->second->public_key == entry.second->public_key;
  });
  if (!kept_every_key) generation_.fetch_add(1);
  ring_ = std::move(ring);
  current_ = std::string(current_kid);
  return {};
}

std::string Ed25519TokenSigner::Bind(std::string_view secret) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  std::string input = "socle-token-key";
  input.push_back('\0');
  input.append(secret);
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  OPENSSL_cleanse(input.data(), input.size());
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

Result<std::shared_ptr<const Ed25519TokenSigner::Key>> Ed25519TokenSigner::MakeKey(
    std::span<const std::uint8_t> private_key) {
  if (private_key.size() != kKeySize) {
    return Fail(ErrorCode::kInvalidArgument, "An Ed25519 private key is 32 bytes.");
  }
  auto key = std::make_shared<Key>();
  key->pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, private_key.data(),
                                               private_key.size()));
  std::size_t length = key->public_key.size();
  if (!key->pkey ||
      EVP_PKEY_get_raw_public_key(key->pkey.get(), key->public_key.data(), &length) != 1 ||
      length != kKeySize) {
    return Fail(domain::Error::Internal("OpenSSL refused an Ed25519 private key"));
  }
  key->can_sign = true;
  return std::shared_ptr<const Key>(std::move(key));
}

Result<void> Ed25519TokenSigner::AddKey(std::string kid,
                                        std::span<const std::uint8_t> private_key) {
  if (!ValidKeyId(kid)) return Fail(ErrorCode::kInvalidArgument, "The key id is not valid.");
  auto made = MakeKey(private_key);
  if (!made) return Fail(std::move(made.error()));
  return Insert(std::move(kid), std::move(*made), true);
}

Result<void> Ed25519TokenSigner::AddVerifyOnlyKey(std::string kid,
                                                  std::span<const std::uint8_t> public_key) {
  if (!ValidKeyId(kid)) return Fail(ErrorCode::kInvalidArgument, "The key id is not valid.");
  if (public_key.size() != kKeySize) {
    return Fail(ErrorCode::kInvalidArgument, "An Ed25519 public key is 32 bytes.");
  }
  auto key = std::make_shared<Key>();
  key->pkey = PublicKeyObject(public_key);
  if (!key->pkey) return Fail(domain::Error::Internal("OpenSSL refused an Ed25519 public key"));
  std::copy(public_key.begin(), public_key.end(), key->public_key.begin());
  return Insert(std::move(kid), std::move(key), false);
}

Result<void> Ed25519TokenSigner::Generate(std::string kid, application::RandomSource& random) {
  std::array<std::uint8_t, kKeySize> seed{};
  random.Fill(seed);
  Result<void> added = AddKey(std::move(kid), seed);
  // The seed is the private key: do not leave a copy on the stack.
  OPENSSL_cleanse(seed.data(), seed.size());
  return added;
}

Result<void> Ed25519TokenSigner::RemoveKey(std::string_view kid) {
  std::unique_lock lock(mutex_);
  const auto it = ring_.find(kid);
  if (it == ring_.end()) {
    return Fail(ErrorCode::kNotFound, "No key with this id is in the key ring.");
  }
  if (it->first == current_) {
    return Fail(ErrorCode::kFailedPrecondition, "The current signing key cannot be removed.");
  }
  ring_.erase(it);
  generation_.fetch_add(1);
  return {};
}

std::string Ed25519TokenSigner::PublicJwks() const {
  std::shared_lock lock(mutex_);
  json::JsonWriter w;
  w.BeginObject().Key("keys").BeginArray();
  for (const auto& [kid, key] : ring_) {
    w.BeginObject();
    w.Key("kty").String("OKP");
    w.Key("crv").String("Ed25519");
    w.Key("x").String(Base64UrlEncode(key->public_key));
    w.Key("kid").String(kid);
    w.Key("use").String("sig");
    w.Key("alg").String(kAlgorithm);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

std::string Ed25519TokenSigner::CurrentKeyId() {
  std::shared_lock lock(mutex_);
  return current_;
}

Result<std::vector<std::uint8_t>> Ed25519TokenSigner::SignBytes(
    std::span<const std::uint8_t> message) {
  std::shared_ptr<const Key> key;
  {
    std::shared_lock lock(mutex_);
    const auto it = ring_.find(current_);
    if (it != ring_.end()) key = it->second;
  }
  if (!key || !key->can_sign) {
    return Fail(ErrorCode::kFailedPrecondition, "No token signing key is configured.");
  }
  return SignWith(key->pkey.get(), message);
}

Result<std::string> Ed25519TokenSigner::Sign(const domain::TokenClaims& claims) {
  std::string kid;
  std::shared_ptr<const Key> key;
  {
    std::shared_lock lock(mutex_);
    const auto it = ring_.find(current_);
    if (it != ring_.end()) {
      kid = it->first;
      key = it->second;
    }
  }
  if (!key || !key->can_sign) {
    return Fail(ErrorCode::kFailedPrecondition, "No token signing key is configured.");
  }

  json::JsonWriter header;
  header.BeginObject().Key("alg").String(kAlgorithm).Key("typ").String("JWT").Key("kid").String(
      kid);
  header.EndObject();

  json::JsonWriter payload;
  payload.BeginObject();
  payload.Key("iss").String(claims.iss);
  payload.Key("sub").String(claims.sub);
  payload.Key("aud").String(claims.aud);
  payload.Key("jti").String(claims.jti);
  payload.Key("collectionId").String(claims.collection_id);
  payload.Key("type").String(claims.type);
  payload.Key("iat").Int(UnixSeconds(claims.iat));
  payload.Key("exp").Int(UnixSeconds(claims.exp));
  if (claims.nbf) payload.Key("nbf").Int(UnixSeconds(*claims.nbf));
  if (!claims.key_binding.empty()) payload.Key("tkh").String(claims.key_binding);
  if (!claims.email.empty()) payload.Key("email").String(claims.email);
  if (!claims.new_email.empty()) payload.Key("newEmail").String(claims.new_email);
  if (!claims.role.empty()) payload.Key("role").String(claims.role);
  payload.EndObject();

  std::string token = Base64UrlEncode(header.str());
  token += '.';
  token += Base64UrlEncode(payload.str());
  auto signature = SignWith(key->pkey.get(), Bytes(token));
  if (!signature) return Fail(std::move(signature.error()));
  token += '.';
  token += Base64UrlEncode(*signature);
  return token;
}

Result<domain::TokenClaims> Ed25519TokenSigner::Verify(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Reject("token longer than the limit");
  if (auto known = verified_->Find(token, generation_.load())) return std::move(*known);
  std::uint64_t generation = 0;
  auto claims = VerifyUncached(token, generation);
  if (claims) verified_->Remember(token, *claims, generation);
  return claims;
}

// `generation` is the ring's generation when the key was looked up: a token verified by a key
// removed meanwhile is remembered under the old generation, and so never trusted from memory.
Result<domain::TokenClaims> Ed25519TokenSigner::VerifyUncached(std::string_view token,
                                                               std::uint64_t& generation) {
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return Reject("a compact JWS has exactly three segments");
  }
  const std::string_view header_b64 = token.substr(0, first_dot);
  const std::string_view payload_b64 = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_b64 = token.substr(second_dot + 1);

  auto header = ParseSegment(header_b64, "header");
  if (!header) return Fail(std::move(header.error()));
  // The algorithm is pinned, never taken from the token: "none", HS256 keyed with the public
  // key, or anything else is refused before a key is even looked up.
  const JsonValue* alg = header->Find("alg");
  if (alg == nullptr || alg->type() != JsonValue::Type::kString || alg->AsString() != kAlgorithm) {
    return Reject("header alg is not EdDSA");
  }
  const JsonValue* typ = header->Find("typ");
  if (typ != nullptr && (typ->type() != JsonValue::Type::kString || typ->AsString() != "JWT")) {
    return Reject("header typ is not JWT");
  }
  // Headers that would bring their own key or demand extensions are never written by Sign,
  // so a token carrying one was not minted here.
  for (const std::string_view refused : {"crit", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"}) {
    if (header->Find(refused) != nullptr) return Reject("header carries " + std::string(refused));
  }
  const JsonValue* kid = header->Find("kid");
  if (kid == nullptr || kid->type() != JsonValue::Type::kString) {
    return Reject("header kid is missing or not a string");
  }
  std::shared_ptr<const Key> key;
  {
    std::shared_lock lock(mutex_);
    const auto it = ring_.find(kid->AsString());
    if (it != ring_.end()) key = it->second;
    generation = generation_.load();
  }
  if (!key) return Reject("unknown kid");

  const std::optional<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature) return Reject("signature is not strict base64url");
  if (!VerifyWith(key->pkey.get(), Bytes(token.substr(0, second_dot)), Bytes(*signature))) {
    return Reject("signature does not verify");
  }

  // The payload is read only once the signature holds: its bytes come from a key holder.
  auto payload = ParseSegment(payload_b64, "payload");
  if (!payload) return Fail(std::move(payload.error()));
  domain::TokenClaims claims;
  for (auto [name, field] : {std::pair{"iss", &claims.iss}, std::pair{"sub", &claims.sub},
                             std::pair{"aud", &claims.aud}, std::pair{"jti", &claims.jti},
                             std::pair{"collectionId", &claims.collection_id},
                             std::pair{"type", &claims.type}}) {
    auto value = StringClaim(*payload, name);
    if (!value) return Fail(std::move(value.error()));
    *field = std::move(*value);
  }
  auto iat = RequiredTimeClaim(*payload, "iat");
  if (!iat) return Fail(std::move(iat.error()));
  claims.iat = *iat;
  auto exp = RequiredTimeClaim(*payload, "exp");
  if (!exp) return Fail(std::move(exp.error()));
  claims.exp = *exp;
  if (const JsonValue* nbf = payload->Find("nbf"); nbf != nullptr) {
    auto at = TimeClaim(*nbf, "nbf");
    if (!at) return Fail(std::move(at.error()));
    claims.nbf = *at;
  }
  for (auto [name, field] : {std::pair{"tkh", &claims.key_binding},
                             std::pair{"email", &claims.email},
                             std::pair{"newEmail", &claims.new_email},
                             std::pair{"role", &claims.role}}) {
    if (payload->Find(name) == nullptr) continue;
    auto value = StringClaim(*payload, name);
    if (!value) return Fail(std::move(value.error()));
    *field = std::move(*value);
  }
  return claims;
}

bool Ed25519TokenSigner::VerifyBytes(std::span<const std::uint8_t> public_key,
                                     std::span<const std::uint8_t> message,
                                     std::span<const std::uint8_t> signature) {
  const PkeyPtr pkey = PublicKeyObject(public_key);
  return pkey && VerifyWith(pkey.get(), message, signature);
}

}  // namespace socle::adapters::crypto
