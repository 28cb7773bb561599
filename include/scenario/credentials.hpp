#ifndef SCENARIO_CREDENTIALS_HPP
#define SCENARIO_CREDENTIALS_HPP

#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

namespace scenario {

/// An API key and its secret, sent as HTTP Basic authentication.
///
/// Printing a `credentials` shows the key's first characters and never the secret.
struct credentials
{
    std::string api_key;
    std::string api_secret;
};

/// Reads `SCENARIO_API_KEY` and `SCENARIO_API_SECRET` (or the official SDKs'
/// `SCENARIO_SDK_API_KEY` and `SCENARIO_SDK_API_SECRET`); empty when either is unset or empty.
inline std::optional<credentials> credentials_from_env()
{
    auto read = [](char const* name, char const* fallback) -> std::string {
        for (char const* variable : {name, fallback})
        {
            char const* value = std::getenv(variable);
            if (value != nullptr && *value != '\0')
                return value;
        }
        return {};
    };
    credentials found{
        read("SCENARIO_API_KEY", "SCENARIO_SDK_API_KEY"),
        read("SCENARIO_API_SECRET", "SCENARIO_SDK_API_SECRET")};
    if (found.api_key.empty() || found.api_secret.empty())
        return std::nullopt;
    return found;
}

inline std::ostream& operator<<(std::ostream& out, credentials const& c)
{
    auto shown = c.api_key.size() > 4 ? c.api_key.substr(0, 4) + "..." : std::string("...");
    return out << "credentials{api_key=" << shown << ", api_secret=<redacted>}";
}

} // namespace scenario

#endif // SCENARIO_CREDENTIALS_HPP
