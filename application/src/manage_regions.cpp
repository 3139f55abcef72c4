#include "socle/application/manage_regions.hpp"

#include <algorithm>
#include <string>

#include "socle/application/validation.hpp"
#include "socle/domain/slug.hpp"

namespace socle::application {

using domain::Error;
using domain::Fail;
using domain::Region;
using domain::Result;
using domain::Slug;

namespace {

constexpr std::string_view kStoreUrlField = "storeUrl";

// The region's name is a slug, reported on the field the caller knows as "name".
Result<Slug> ParseName(std::string_view name) {
  auto slug = Slug::Parse(name);
  if (slug) return slug;
  for (auto& field : slug.error().fields) field.field = "name";
  return slug;
}

// Only PostgreSQL clusters can host a region's schemas; the empty URL (this instance's own
// store) belongs to the default region alone.
Result<std::string> ParseStoreUrl(std::string_view url, std::string_view region_name) {
  auto fail = [](std::string code, std::string message) {
    return Fail(Error::Field(std::string(kStoreUrlField), std::move(code), std::move(message)));
  };
  if (url.empty()) {
    if (region_name == Region::kDefaultName) return std::string();
    return fail("validation_required", "Missing required value.");
  }
  if (url.size() > ManageRegions::kMaxStoreUrlLength) {
    return fail("validation_length_out_of_range",
                "Must be at most " + std::to_string(ManageRegions::kMaxStoreUrlLength) +
                    " bytes.");
  }
  const bool has_control = std::any_of(url.begin(), url.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (has_control) return fail("validation_invalid_url", "Must not contain control characters.");
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    return fail("validation_invalid_url", "Must start with postgres:// or postgresql://.");
  }
  return std::string(url);
}

}  // namespace

Result<std::vector<Region>> ManageRegions::List() { return store_.ListRegions(); }

Result<Region> ManageRegions::Set(std::string_view name, std::string_view store_url,
                                  const AuditContext& context) {
  FieldErrors errors;
  auto slug = errors.Take(ParseName(name));
  auto url = errors.Take(ParseStoreUrl(store_url, name));
  if (!errors.empty()) return Fail(errors.Release());

  Region region{*slug, std::move(*url)};
  std::optional<Region> before;
  if (trail_ != nullptr) {
    auto found = store_.GetRegion(region.name);
    if (found) {
      before = std::move(*found);
    } else if (found.error().code != domain::ErrorCode::kNotFound) {
      return Fail(found.error());
    }
  }
  auto stored = WritePlatform(
      trail_,
      PlatformEntry(context, "", before ? "region.update" : "region.create", "region",
                    region.name.str(), AuditChange(before ? &*before : nullptr, &region)),
      [&] { return store_.UpsertRegion(region); });
  if (!stored) return Fail(stored.error());
  return region;
}

}  // namespace socle::application
