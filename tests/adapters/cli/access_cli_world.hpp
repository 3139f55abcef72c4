// The test world the CLI tests that need the access use cases share: a `socle` process minus the
// process, wired as apps/socle/main.cpp wires it, over the memory stores with the access use
// cases for real (AccessControl, ManageAccess, PlatformCatalogue, ManageOrganisationKeys over the
// platform store, the real Argon2id hasher and Ed25519 signer). Each test derives its own `Cli`
// from AccessCliWorld and adds the organisations, projects and helpers it is about.
#pragma once

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

// The login throttle PlatformSessions counts failed sign-ins with, on its default policy.
inline domain::LoginThrottle Throttle() {
  auto throttle = domain::LoginThrottle::Create({});
  REQUIRE(throttle);
  return std::move(*throttle);
}

// The key the signing keys are sealed with at rest; any 32 bytes do, these tests never read
// a sealed key back by hand.
inline constexpr std::array<std::uint8_t, 32> kMasterKey = {
    0x31, 0x42, 0x53, 0x64, 0x75, 0x86, 0x97, 0xa8, 0xb9, 0xca, 0xdb, 0xec, 0xfd, 0x0e, 0x1f, 0x20,
    0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x80, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, 0x08, 0x19};

inline adapters::crypto::SecretBox MakeBox(application::RandomSource& random) {
  auto box = adapters::crypto::SecretBox::Create(kMasterKey, {}, random);
  REQUIRE(box);
  return std::move(*box);
}

inline adapters::crypto::Argon2PasswordHasher MakeHasher(application::RandomSource& random) {
  auto hasher =
      adapters::crypto::Argon2PasswordHasher::Create(adapters::crypto::Argon2Policy{}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// As main.cpp builds them (nothing mailed, invitations live 7 days), but flag lists are read
// afresh each time: each `socle` process starts with empty caches, and these services outlive
// one command.
inline application::ManageAccessOptions AccessOptions() {
  application::ManageAccessOptions options;
  options.flags_ttl = std::chrono::milliseconds(0);
  return options;
}

// The string member `key` of a JSON object a command printed; fails the test when it is missing
// or not a string.
inline std::string Str(const domain::JsonValue& object, std::string_view key) {
  const domain::JsonValue* value = object.Find(key);
  INFO(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == domain::JsonValue::Type::kString);
  return value->AsString();
}

// The "items" array of a list a command printed as JSON.
inline const std::vector<domain::JsonValue>& ItemsOf(const domain::JsonValue& document) {
  const domain::JsonValue* items = document.Find("items");
  REQUIRE(items != nullptr);
  REQUIRE(items->type() == domain::JsonValue::Type::kArray);
  return items->items();
}

// The services and the command runner, with no organisation yet. The members are protected so
// that a test's `Cli` reaches the use cases it checks the CLI against directly, by the names
// main.cpp gives them.
class AccessCliWorld {
 public:
  AccessCliWorld() {
    REQUIRE(signer_.Generate("k1", random_));
    services_.auth = &auth_;
    services_.access = &access_services_;
  }
  AccessCliWorld(const AccessCliWorld&) = delete;
  AccessCliWorld& operator=(const AccessCliWorld&) = delete;

  // Runs one `socle` command line; stdout and stderr are kept until the next one.
  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    adapters::cli::OpsCli ops(out_, err_, "");
    return ops.Run(args, services_);
  }
  // Runs a command that must succeed; returns its stdout.
  std::string Must(const std::vector<std::string>& args) {
    const int status = Run(args);
    INFO(args.front() << " " << (args.size() > 1 ? args[1] : "") << "\nstdout: " << out()
                      << "\nstderr: " << err());
    REQUIRE(status == adapters::cli::kExitOk);
    return out();
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

 protected:
  ~AccessCliWorld() = default;

  adapters::memory::MemoryCatalogueStore store_;
  adapters::memory::MemoryProjectStores project_stores_;
  ManualClock clock_;
  SeededRandomSource random_;
  application::ProjectDirectory directory_{store_, project_stores_, clock_};
  application::ManageOrganisations organisations_{store_, clock_, random_, &directory_};
  application::ManageProjects projects_{store_, clock_, random_, &directory_};
  application::ManageRegions regions_{store_};
  application::ManageCollections collections_{directory_, clock_, random_};
  application::ManageSettings settings_{directory_, store_, clock_};
  application::ManageRecords records_{directory_, clock_, random_, {}, &settings_};
  application::PlatformStore platform_{project_stores_, clock_};
  adapters::crypto::Argon2PasswordHasher hasher_{MakeHasher(random_)};
  adapters::crypto::Ed25519TokenSigner signer_;
  domain::LoginThrottle identities_ = Throttle();
  application::PlatformSessions sessions_{platform_, signer_, hasher_,    clock_,
                                          random_,   identities_, nullptr};
  application::ManageApiKeys api_keys_{directory_, platform_, signer_, clock_, random_};
  application::AccessControl control_{store_, clock_, {std::chrono::milliseconds(0)}};
  application::PlatformCatalogue catalogue_{organisations_, projects_, store_, store_,
                                            control_,       clock_,    random_};
  application::ManageAccess access_{store_,  store_, control_, sessions_,    signer_,
                                    clock_,  random_, nullptr, AccessOptions()};
  application::ManageOrganisationKeys organisation_keys_{store_, store_,  control_,
                                                         api_keys_, clock_, random_};
  adapters::cli::ProjectDataServices data_{directory_, collections_, records_, random_,
                                           &settings_};
  // Superusers and signing keys are not what these tests are about; the auth services are
  // there because main.cpp builds the access services beside them.
  adapters::crypto::SecretBox box_{MakeBox(random_)};
  application::ManageSigningKeys signing_keys_{platform_, signer_, box_, clock_, random_};
  application::ManageSuperusers superusers_{platform_, hasher_, clock_, random_};
  adapters::cli::AuthServices auth_{superusers_, signing_keys_, &api_keys_, &sessions_, &clock_};
  adapters::cli::AccessServices access_services_{access_, catalogue_, organisation_keys_,
                                                 sessions_};
  adapters::cli::CatalogueServices services_{store_, organisations_, projects_, regions_, &data_};

 private:
  std::ostringstream out_;
  std::ostringstream err_;
};

}  // namespace socle::testing
