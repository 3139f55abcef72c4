#pragma once

// The platform API as socle-server wires it, for the HTTP tests: members' sessions and
// superusers' platform tokens, access control over the catalogue store's access data, the
// permission-checked catalogue, access management, and the three APIs that serve them
// (PlatformApi, AccessApi, PlatformAuthApi), with helpers that sign callers in.

#include <array>
#include <chrono>
#include <memory>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"
#include "socle/adapters/http/access_api.hpp"
#include "socle/adapters/http/audit_api.hpp"
#include "socle/adapters/memory/memory_audit_checkpoints.hpp"
#include "socle/adapters/http/platform_api.hpp"
#include "socle/adapters/http/platform_auth_api.hpp"
#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/platform_callers.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/password_hasher.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/login_throttle.hpp"

namespace socle::testing {

/// A password "hash" that is the password spelled out, for the suites that are not about
/// passwords and start many servers (each platform world hashes twice when built, and Argon2id
/// costs tens of milliseconds a time). Suites about sign-in use Argon2PasswordHasher.
class PlainTestHasher final : public application::PasswordHasher {
 public:
  domain::Result<std::string> Hash(std::string_view password) override {
    return "$plain$" + std::string(password);
  }
  domain::Result<bool> Verify(std::string_view password, std::string_view phc) override {
    if (!phc.starts_with("$plain$")) {
      return domain::Fail(domain::ErrorCode::kInvalidArgument, "not a test hash");
    }
    return phc.substr(7) == password;
  }
  bool NeedsRehash(std::string_view) override { return false; }
};

/// Throws when `result` failed: the world's set-up is not what a test checks.
template <typename T>
T MustSucceed(domain::Result<T> result, std::string_view what) {
  if (!result) {
    std::string detail = std::string(what) + ": " + result.error().message;
    for (const auto& field : result.error().fields) {
      detail += " [" + field.field + ": " + field.message + "]";
    }
    throw std::runtime_error(detail + " " + result.error().internal);
  }
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

/// Throttles that never lock in tests that sign in many times from 127.0.0.1 with a clock
/// standing still (their own suites test the locks).
inline domain::LoginThrottle TolerantThrottle() {
  domain::LoginThrottleOptions options;
  options.failure_factor = 1000;
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  return MustSucceed(domain::LoginThrottle::Create(options), "login throttle");
}

/// The platform API over `catalogue` and `access_store` (one MemoryCatalogueStore or
/// SqliteCatalogueStore usually), with its own platform store (members, superusers) in memory.
/// Members are in construction order; everything given must outlive the world.
///
/// With `project_stores`, the projects and the platform store live there instead (as in
/// socle-server, where one ProjectStores keeps both), so that a suite can run the whole platform
/// over SQLite or PostgreSQL.
class PlatformWorld {
 public:
  PlatformWorld(application::CatalogueStore& catalogue_store,
                application::AccessStore& access_store, application::Clock& clock,
                application::RandomSource& random, application::PasswordHasher& hasher,
                application::Mailer* mailer = nullptr,
                application::ManageAccessOptions access_options = {},
                application::ProjectStores* project_stores = nullptr)
      : catalogue_store_(catalogue_store),
        access_store_(access_store),
        clock_(clock),
        random_(random),
        hasher_(hasher),
        stores_(project_stores != nullptr ? *project_stores : project_stores_),
        platform_(stores_, clock),
        directory_(catalogue_store, stores_, clock),
        organisations_(catalogue_store, clock, random, &directory_),
        projects_(catalogue_store, clock, random, &directory_),
        regions_(catalogue_store),
        authenticate_(directory_, platform_, signer_, hasher, clock, random, identities_),
        sessions_(platform_, signer_, hasher, clock, random, identities_, &addresses_),
        superusers_(platform_, hasher, clock, random),
        access_(access_store, clock),
        catalogue_(organisations_, projects_, catalogue_store, access_store, access_, clock,
                   random),
        manage_access_(catalogue_store, access_store, access_, sessions_, signer_, clock, random,
                       mailer, std::move(access_options)),
        api_keys_(directory_, platform_, signer_, clock, random),
        organisation_keys_(catalogue_store, access_store, access_, api_keys_, clock, random),
        callers_(directory_, sessions_, access_),
        identify_(adapters::http::PlatformIdentifier(sessions_, authenticate_, &api_keys_)),
        platform_api_(catalogue_, regions_, identify_),
        access_api_(manage_access_, catalogue_store, identify_),
        auth_api_(sessions_, authenticate_, manage_access_) {
    access_api_.ServeOrganisationKeys(organisation_keys_);
    // Nothing above signs while being built; tokens are signed from here on.
    MustSucceed(signer_.Generate("k1", random), "signing key");
  }

  /// The routes socle-server registers for the platform: the catalogue, access management and
  /// (with `auth`) sign-in.
  void Register(adapters::http::Router& router, bool auth = true) {
    MustSucceed(platform_api_.Register(router), "platform routes");
    MustSucceed(access_api_.Register(router), "access routes");
    MustSucceed(audit_api_.Register(router), "audit routes");
    if (auth) RegisterSignIn(router);
  }
  /// Sign-in alone (/api/v1/auth/...).
  void RegisterSignIn(adapters::http::Router& router) {
    MustSucceed(auth_api_.Register(router), "sign-in routes");
  }

  /// Creates (or gives a new password to) the member; returns their id.
  std::string AddMember(std::string_view email, std::string_view password,
                        std::string_view name = "") {
    return MustSucceed(sessions_.UpsertMember(email, password, name), "member").id;
  }
  /// Signs the member in; returns their tokens.
  application::PlatformTokens SignIn(std::string_view email, std::string_view password) {
    return MustSucceed(sessions_.Login(email, password, {"127.0.0.1", "test"}), "member sign-in");
  }
  /// A member's access token (the member is created first when needed).
  std::string MemberToken(std::string_view email, std::string_view password) {
    AddMember(email, password);
    return SignIn(email, password).access_token;
  }
  /// A superuser's platform token (the superuser is created first when needed).
  std::string SuperuserToken(std::string_view email = "root@example.com",
                             std::string_view password = "lantern-orchid-basalt-93") {
    MustSucceed(superusers_.Upsert(email, password), "superuser");
    return MustSucceed(authenticate_.WithPassword("", "_superusers", email, password, "",
                                                  {"127.0.0.1", "test"}),
                       "superuser sign-in")
        .token;
  }

  application::CatalogueStore& catalogue_store() { return catalogue_store_; }
  application::AccessStore& access_store() { return access_store_; }
  adapters::crypto::Ed25519TokenSigner& signer() { return signer_; }
  application::PlatformSessions& sessions() { return sessions_; }
  application::Authenticate& authenticate() { return authenticate_; }
  application::ManageSuperusers& superusers() { return superusers_; }
  application::AccessControl& access() { return access_; }
  application::PlatformCatalogue& catalogue() { return catalogue_; }
  application::ManageAccess& manage_access() { return manage_access_; }
  application::ManageApiKeys& api_keys() { return api_keys_; }
  application::ManageOrganisationKeys& organisation_keys() { return organisation_keys_; }
  application::PlatformCallers& callers() { return callers_; }
  application::ManageOrganisations& organisations() { return organisations_; }
  application::ManageProjects& projects() { return projects_; }
  application::ManageRegions& regions() { return regions_; }
  application::ProjectDirectory& directory() { return directory_; }
  application::AuditTrail& audit_trail() { return audit_trail_; }
  application::AuditLog& audit_log() { return audit_log_; }
  application::ManageRecords& audit_records() { return audit_records_; }
  application::AuditSigner& audit_signer() { return *audit_signer_; }
  application::PlatformStore& platform_store() { return platform_; }
  adapters::memory::MemoryProjectStores& project_stores() { return project_stores_; }
  /// The stores the world's projects and platform store live in: the given ones, or
  /// project_stores().
  application::ProjectStores& stores() { return stores_; }
  const adapters::http::PrincipalIdentifier& identify() const { return identify_; }

 private:
  application::CatalogueStore& catalogue_store_;
  application::AccessStore& access_store_;
  application::Clock& clock_;
  application::RandomSource& random_;
  application::PasswordHasher& hasher_;
  adapters::memory::MemoryProjectStores project_stores_;
  application::ProjectStores& stores_;
  adapters::crypto::Ed25519TokenSigner signer_;
  domain::LoginThrottle identities_ = TolerantThrottle();
  domain::LoginThrottle addresses_ = TolerantThrottle();
  application::PlatformStore platform_;
  application::ProjectDirectory directory_;
  application::ManageOrganisations organisations_;
  application::ManageProjects projects_;
  application::ManageRegions regions_;
  application::Authenticate authenticate_;
  application::PlatformSessions sessions_;
  application::ManageSuperusers superusers_;
  application::AccessControl access_;
  application::PlatformCatalogue catalogue_;
  application::ManageAccess manage_access_;
  application::ManageApiKeys api_keys_;
  application::ManageOrganisationKeys organisation_keys_;
  application::PlatformCallers callers_;
  adapters::http::PrincipalIdentifier identify_;
  adapters::http::PlatformApi platform_api_;
  adapters::http::AccessApi access_api_;
  adapters::http::PlatformAuthApi auth_api_;
  // The audit trail as socle-server wires it, checkpoints kept in memory.
  static std::string Sha256Hex(std::string_view bytes) {
    return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
  }
  static std::unique_ptr<adapters::crypto::Ed25519AuditSigner> AuditSigner() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x5a);
    return MustSucceed(adapters::crypto::Ed25519AuditSigner::FromSeed(seed), "audit signer");
  }
  std::unique_ptr<adapters::crypto::Ed25519AuditSigner> audit_signer_ = AuditSigner();
  adapters::memory::MemoryAuditCheckpoints audit_checkpoints_;
  application::AuditTrail audit_trail_{clock_, random_, &Sha256Hex};
  application::AuditLog audit_log_{catalogue_store_, stores_, clock_, &Sha256Hex,
                                   audit_signer_.get(), &audit_checkpoints_};
  application::ManageRecords audit_records_{directory_, clock_, random_, {}, nullptr, {},
                                            &audit_trail_};
  application::ManageDataSubjects subjects_{directory_, audit_records_, &audit_trail_, nullptr};
  adapters::http::AuditApi audit_api_ = ServingSubjects(audit_log_, catalogue_, identify_,
                                                        subjects_);
  static adapters::http::AuditApi ServingSubjects(application::AuditLog& log,
                                                  application::PlatformCatalogue& catalogue,
                                                  adapters::http::PrincipalIdentifier identify,
                                                  application::ManageDataSubjects& subjects) {
    adapters::http::AuditApi api(log, catalogue, std::move(identify));
    api.ServeDataSubjects(subjects);
    return api;
  }
};

}  // namespace socle::testing
