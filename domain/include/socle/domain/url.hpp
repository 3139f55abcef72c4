#pragma once

#include <string>
#include <string_view>

namespace socle::domain {

/// `url` with every password it spells replaced by "***": the one of `user:password@` in the
/// authority and the value of each `password=` query parameter. For logs, messages and any
/// output that shows a store URL; the result is for display only, never to connect with.
/// Errs on the side of hiding: when the credentials' end is ambiguous (an unescaped '@', '?'
/// or ':' in a password), everything up to the last '@' before the path is hidden.
std::string RedactUrlPassword(std::string_view url);

}  // namespace socle::domain
