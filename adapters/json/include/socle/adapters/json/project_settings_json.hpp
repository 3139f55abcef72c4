#pragma once

#include <string>
#include <string_view>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/project_settings.hpp"

namespace socle::adapters::json {

// A project's settings in PocketBase's (≥ 0.23) JSON shape, written and read once for every
// adapter: the HTTP API (GET/PATCH /api/settings), `socle settings`, and the catalogue stores,
// which keep each project's settings as this JSON.

/// {meta: {appName, appURL, senderName, senderAddress, hideControls}, rateLimits: {rules:
/// [{label, audience, duration, maxRequests}], enabled}, trustedProxy: {headers: [],
/// useLeftmostIP}, batch: {enabled, maxRequests, timeout, maxBodySize}}: the groups in
/// PocketBase's order, lists always arrays (never null).
void WriteProjectSettings(JsonWriter& w, const domain::ProjectSettings& settings);

/// The same document as a JsonValue (what PatchProjectSettings merges over).
domain::JsonValue ProjectSettingsValue(const domain::ProjectSettings& settings);

/// Reads PocketBase's settings shape. Lenient where PocketBase is: an absent group or member,
/// or a null one, takes its default (a null list is empty), and unknown groups and members are
/// ignored, since PocketBase's own settings carry groups Socle does not keep (smtp, s3,
/// backups, logs). Strict on types: invalid_argument "An error occurred while loading the
/// submitted data." with field errors keyed "meta.appName", "rateLimits.rules.0.duration" ...
/// Integers must be JSON integers. Does not validate (see domain::ValidateProjectSettings).
domain::Result<domain::ProjectSettings> ReadProjectSettings(const domain::JsonValue& json);

/// PocketBase's PATCH /api/settings: `patch` (a JSON object) decoded over `current` as Go
/// decodes JSON into an existing value: objects merge member by member at every level, any
/// other value (lists included) replaces the current one, a null list empties it and any other
/// null changes nothing. Errors as ReadProjectSettings; invalid_argument too when `patch` is
/// not an object. Does not validate.
domain::Result<domain::ProjectSettings> PatchProjectSettings(
    const domain::ProjectSettings& current, const domain::JsonValue& patch);

/// The stores' column text: WriteProjectSettings' document.
std::string ProjectSettingsText(const domain::ProjectSettings& settings);

/// Reads a store's column text back (ParseJson then ReadProjectSettings). The text was written
/// by ProjectSettingsText, so its size is not bounded here (the request that carried it was);
/// any failure means someone else wrote it: internal, with the reason for the log.
domain::Result<domain::ProjectSettings> ProjectSettingsFromText(std::string_view text);

}  // namespace socle::adapters::json
