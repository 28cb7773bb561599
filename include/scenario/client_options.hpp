#ifndef SCENARIO_CLIENT_OPTIONS_HPP
#define SCENARIO_CLIENT_OPTIONS_HPP

#include <scenario/retry_policy.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
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

    /// Turns off every check of the server's certificate, its chain and its host name alike:
    /// anyone on the network path can then read and change the traffic, credentials
    /// included. For a throw-away local experiment only; give a private CA with `ca_file` or
    /// `ca_pem` instead. Off by default. The certificate is checked by OpenSSL: the chain
    /// against the trust anchors, and the host name (or IP address) of `base_url` against the
    /// certificate's names; a refusal fails the call with an error of `certificate_category()`
    /// before anything is sent. SNI is sent whenever the host is a name (RFC 6066 allows none
    /// for an address).
    bool insecure_skip_certificate_verification = false;

    /// The most TLS connections open at once; calls beyond them wait their turn.
    std::size_t max_connections = 16;

    /// Bound on resolving the host and connecting to it.
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);

    /// Bound on the TLS handshake of a new connection.
    std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);

    /// Bound on one attempt of a request, from writing it to reading the whole response.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(60);

    /// Bound on a whole call: waiting for a connection, every attempt and every wait between
    /// them. Zero means no bound beyond the others'.
    std::chrono::milliseconds call_timeout{0};

    /// How long a connection may wait idle in the pool before it is closed rather than reused.
    /// A server's `Keep-Alive: timeout=N` shortens it to a second less than N.
    std::chrono::milliseconds max_idle_time = std::chrono::seconds(30);

    /// Bound on the TLS close_notify exchange when a connection is retired.
    std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(1);

    /// When and how failed calls are tried again.
    retry_policy retry{};

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

    /// Most ids per `POST /models/get-bulk` request: `models_api::get_many` splits a longer
    /// list into requests of this many, sent one after another. The reference does not state
    /// the service's limit; 50 is a guess meant to stay under it. Zero is refused when the
    /// client is made.
    std::size_t bulk_batch_size = 50;
};

/// Settings that one call, or every call through one `models_api` handle, may set apart from
/// the client's:
///
///     auto quick = client.models({.call_timeout = std::chrono::seconds(2)});
///     auto model = co_await quick.get("model_abc");
///
/// An empty field keeps the client's setting.
struct call_options
{
    std::optional<retry_policy> retry{};
    std::optional<std::chrono::milliseconds> request_timeout{};
    std::optional<std::chrono::milliseconds> call_timeout{};
};

} // namespace scenario

#endif // SCENARIO_CLIENT_OPTIONS_HPP
