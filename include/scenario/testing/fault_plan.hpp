// Faults the local API injects on purpose, so that tests and benchmarks can prove what a client
// does when the real service rate-limits, fails, hangs or drops connections.

#ifndef SCENARIO_TESTING_FAULT_PLAN_HPP
#define SCENARIO_TESTING_FAULT_PLAN_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace scenario::testing {

/// What goes wrong with one request.
enum class fault_kind
{
    /// 429 with `Retry-After: <retry_after_seconds>` and a `{"reason"}` body.
    too_many_requests,

    /// 429 with `Retry-After` as an HTTP-date `retry_after_seconds` from now.
    too_many_requests_date,

    /// 429 with no header, and `"remainingSeconds": <retry_after_seconds>` in the body.
    too_many_requests_body,

    /// 500, 502 or 503 with a `{"reason"}` body; the connection stays open.
    internal_error,
    bad_gateway,
    service_unavailable,

    /// The normal answer, announced keep-alive, then the TCP connection closes without a TLS
    /// close_notify: the next request on it finds it dead.
    close_after_response,

    /// Part of the status line and headers, then a TCP reset (RST, not FIN).
    reset_mid_headers,

    /// The whole header and half the body, then a TCP reset.
    reset_mid_body,

    /// Nothing for `delay`, then the normal answer (a slow server, or a hung one when the
    /// delay outlasts the client's timeout). A client that leaves meanwhile ends the connection.
    stall,

    /// A `Content-Length` of the whole body, half the body, then close_notify and close.
    truncated_body,

    /// A 200 whose valid JSON body is padded to `body_bytes` bytes: the normal answer's object
    /// with an extra `"padding"` string member when it is a success that fits, otherwise
    /// `{"padding":"xx…"}`. The connection stays open.
    oversized_body,

    /// The normal answer with `Connection: close`, then close_notify and close.
    connection_close,

    /// The normal answer with `Keep-Alive: timeout=<retry_after_seconds>`; the server then
    /// closes the connection, without close_notify, once it has been idle that long.
    keep_alive_timeout,
};

/// Which requests a fault hits, and how. Requests are numbered from 1 in the order the server
/// reads them, counting only those whose path starts with `path_prefix`. A request is hit when
/// its number is in `sequence`, or is a multiple of `every`, or wins a draw of probability
/// `share`; at most `limit` requests are hit.
///
/// Each rule numbers requests on its own, whether or not an earlier rule of the plan decided
/// them; `limit` counts only the requests this rule decided. A rule with none of `sequence`,
/// `every` and `share` set hits nothing.
struct fault_rule
{
    fault_kind kind = fault_kind::service_unavailable;

    std::vector<std::size_t> sequence{};
    std::size_t every = 0;
    double share = 0.0;
    std::size_t limit = std::numeric_limits<std::size_t>::max();

    /// Only requests whose path (without the query) starts with this, e.g. `/v1/models/`.
    std::string path_prefix{};

    /// For `stall`.
    std::chrono::milliseconds delay{200};

    /// For the 429 kinds and `keep_alive_timeout`.
    unsigned retry_after_seconds = 1;

    /// For `oversized_body`; at least 14, the size of `{"padding":""}`.
    std::size_t body_bytes = 32 * 1024 * 1024;
};

/// The faults a `local_api` injects. The first rule that hits a request decides its fault;
/// draws for `share` come from a generator seeded with `seed`, so a plan replays the same way
/// for the same sequence of requests. (Every rule with a `share` draws once, in rule order, for
/// each request it counts, so the draws depend on the requests alone, not on which rule won.)
///
/// Faults apply to requests the server has read whole, before it answers them, authenticated
/// or not; a request that does not parse gets its 400 or 413 as usual.
struct fault_plan
{
    std::vector<fault_rule> rules{};
    std::uint64_t seed = 1;
};

} // namespace scenario::testing

#endif
