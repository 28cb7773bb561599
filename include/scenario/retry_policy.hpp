#ifndef SCENARIO_RETRY_POLICY_HPP
#define SCENARIO_RETRY_POLICY_HPP

#include <scenario/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <random>

namespace scenario {

/// What the retry decision knows about a failed attempt.
struct attempt_outcome
{
    /// The HTTP method, such as "GET".
    std::string_view method;

    /// Whether sending the request twice does no more than sending it once: GET, PUT and
    /// DELETE are; a POST is only when its call says so.
    bool idempotent = false;

    /// Retries already made for this call (0 after the first attempt).
    std::size_t retries = 0;

    /// The failure: a transport error, or a `scenario.http` error whose value is the status.
    error_code error;

    /// Whether any byte of the request may have reached the server. When false, nothing of
    /// the request was sent: the connection, its handshake or its lease failed.
    bool request_sent = false;
};

/// Whether an error is one a later attempt may not meet: a connection that broke or timed out,
/// or a status the service uses for passing trouble (408, 429, 500, 502, 503, 504).
/// Cancellations, certificate failures, oversized responses and other statuses are not.
inline bool is_transient(error_code const& ec) noexcept
{
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    if (ec.category() == http_category())
    {
        switch (ec.value())
        {
        case 408:
        case 429:
        case 500:
        case 502:
        case 503:
        case 504: return true;
        default: return false;
        }
    }
    if (ec == asio::error::operation_aborted || ec == http::error::body_limit ||
        ec == http::error::header_limit || ec == http::error::buffer_overflow)
        return false;
    if (ec.category() == asio::error::get_ssl_category())
        return false; // a certificate or protocol failure: it would fail the same way again
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category())
        return ec == http::error::end_of_stream || ec == http::error::partial_message;
    if (ec == asio::error::host_not_found)
        return false;
    return ec.category() == boost::system::system_category() ||
           ec.category() == asio::error::get_misc_category() ||
           ec.category() == asio::error::get_netdb_category() ||
           ec.category() == asio::ssl::error::get_stream_category() ||
           ec == boost::beast::error::timeout;
}

/// The default retry decision: a transient failure (`is_transient`) of a request that is
/// idempotent or was never sent.
inline bool retry_transient_failures(attempt_outcome const& outcome)
{
    return is_transient(outcome.error) && (outcome.idempotent || !outcome.request_sent);
}

/// When and how often a failed call is tried again. The decision and the wait are separate
/// functions, each replaceable; the defaults suit the Scenario API.
///
/// Before retry number `n` (1, 2, …) the call waits `backoff(n)`, by default a random time
/// between half and all of `min(max_backoff, initial_backoff · 2^(n-1))`. When the service
/// asks for a wait, with `Retry-After` (seconds or an HTTP-date) or a 429 body's
/// `remainingSeconds`, the call waits at least that long; when it asks for longer than
/// `max_backoff`, or the wait would end past the call's deadline, the call fails at once with
/// the service's answer, whose diagnostics carry the wait asked for.
///
/// A request that fails on a reused keep-alive connection before any answer, because the
/// server had closed it while idle, is sent once more on a new connection without counting as
/// a retry and without waiting: an idempotent request whenever that happens, any other only
/// when it could not be written in full (so the server cannot have acted on it).
struct retry_policy
{
    /// Attempts after the first; 0 turns retries off.
    std::size_t max_retries = 2;

    /// The first wait, before jitter.
    std::chrono::milliseconds initial_backoff{200};

    /// The longest wait between attempts, the service's own requests included.
    std::chrono::milliseconds max_backoff{10000};

    /// Whether a failed attempt is tried again (within `max_retries`); empty means
    /// `retry_transient_failures`.
    std::function<bool(attempt_outcome const&)> should_retry{};

    /// The wait before retry number n, from 1; empty means exponential with jitter.
    std::function<std::chrono::milliseconds(std::size_t)> backoff{};

    /// The wait before retry `n` under this policy.
    std::chrono::milliseconds wait_before(std::size_t n) const
    {
        if (backoff)
            return backoff(n);
        auto ceiling = initial_backoff;
        for (std::size_t i = 1; i < n && ceiling < max_backoff; ++i)
            ceiling *= 2;
        ceiling = std::min(ceiling, max_backoff);
        thread_local std::minstd_rand jitter{std::random_device{}()};
        std::uniform_int_distribution<std::chrono::milliseconds::rep> half(0, ceiling.count() / 2);
        return ceiling - std::chrono::milliseconds(half(jitter));
    }

    /// Whether this policy retries `outcome`, `max_retries` aside.
    bool retries(attempt_outcome const& outcome) const
    {
        return should_retry ? should_retry(outcome) : retry_transient_failures(outcome);
    }
};

} // namespace scenario

#endif // SCENARIO_RETRY_POLICY_HPP
