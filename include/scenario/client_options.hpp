#ifndef SCENARIO_CLIENT_OPTIONS_HPP
#define SCENARIO_CLIENT_OPTIONS_HPP

#include <chrono>
#include <cstddef>
#include <string>

namespace scenario {

/// The library's version, as sent in the default `User-Agent`.
inline constexpr char const* version_string = "0.1.0";

/// How a `client` reaches the service. Every field has a sensible default.
struct client_options
{
    /// Where the API lives; an absolute https URL whose path is the API's root.
    std::string base_url = "https://api.cloud.scenario.com/v1";

    /// Extra trust anchors as PEM text, trusted besides the system's store.
    std::string ca_pem;

    /// Extra trust anchors from a PEM file, trusted besides the system's store.
    std::string ca_file;

    /// Whether the system's trust store is used; on by default.
    bool use_system_trust_store = true;

    /// The most TLS connections open at once; calls beyond them wait their turn.
    std::size_t max_connections = 16;

    /// Bound on resolving, connecting and the TLS handshake of a new connection.
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);

    /// Bound on one request, from writing it to reading the whole response.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(60);

    /// The `User-Agent` header.
    std::string user_agent = std::string("scenario-cpp/") + version_string;

    /// The `projectId` sent with every call that does not name its own; empty sends none, so
    /// the service uses the key's default project.
    std::string project_id;

    /// Room reserved in each connection's read buffer. Beast reads at most what the buffer has
    /// room for, so a small buffer splits a page of several hundred KB into many small reads.
    std::size_t read_buffer_size = 64 * 1024;

    /// Largest response body accepted; a page of 500 models is about 2 MB.
    std::size_t body_limit = 16 * 1024 * 1024;

    /// Largest response header accepted.
    std::size_t header_limit = 64 * 1024;
};

} // namespace scenario

#endif // SCENARIO_CLIENT_OPTIONS_HPP
