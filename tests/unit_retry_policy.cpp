// The retry policy's parts that need no network: which failures are transient, the backoff
// schedule, and reading the waits a server asks for.
#include <scenario/detail/client_state.hpp>
#include <scenario/detail/retry_after.hpp>
#include <scenario/retry_policy.hpp>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using scenario::attempt_outcome;
using scenario::error_code;
using scenario::retry_policy;

BOOST_AUTO_TEST_SUITE(retry_policy_rules)

BOOST_AUTO_TEST_CASE(transient_and_permanent_failures_are_told_apart)
{
    struct case_
    {
        error_code ec;
        bool transient;
    };
    std::vector<case_> const cases{
        {scenario::make_http_error(408), true},
        {scenario::make_http_error(429), true},
        {scenario::make_http_error(500), true},
        {scenario::make_http_error(502), true},
        {scenario::make_http_error(503), true},
        {scenario::make_http_error(504), true},
        {scenario::make_http_error(400), false},
        {scenario::make_http_error(401), false},
        {scenario::make_http_error(403), false},
        {scenario::make_http_error(404), false},
        {scenario::make_http_error(501), false},
        {asio::error::connection_reset, true},
        {asio::error::connection_refused, true},
        {asio::error::eof, true},
        {asio::ssl::error::stream_truncated, true},
        {http::error::end_of_stream, true},
        {http::error::partial_message, true},
        {boost::beast::error::timeout, true},
        {asio::error::operation_aborted, false},
        {http::error::body_limit, false},
        {http::error::header_limit, false},
        {http::error::bad_version, false},
        {error_code(336134278, asio::error::get_ssl_category()), false}, // certificate verify
        {error_code(X509_V_ERR_CERT_HAS_EXPIRED, scenario::certificate_category()), false},
        {error_code(X509_V_ERR_HOSTNAME_MISMATCH, scenario::certificate_category()), false},
        {scenario::client_errc::unexpected_response, false},
        {asio::error::host_not_found, false},
        {scenario::client_errc::invalid_json, false},
    };
    for (auto const& c : cases)
        BOOST_TEST_CONTEXT(c.ec.category().name() << ':' << c.ec.value() << ' ' << c.ec.message())
        {
            BOOST_TEST(scenario::is_transient(c.ec) == c.transient);
        }
}

BOOST_AUTO_TEST_CASE(by_default_only_idempotent_or_unsent_requests_are_retried)
{
    attempt_outcome post_sent{"POST", false, 0, asio::error::connection_reset, true};
    attempt_outcome post_unsent{"POST", false, 0, asio::error::connection_refused, false};
    attempt_outcome get_sent{"GET", true, 0, asio::error::connection_reset, true};
    attempt_outcome post_503{"POST", false, 0, scenario::make_http_error(503), true};

    retry_policy policy;

    BOOST_TEST(!policy.retries(post_sent));
    BOOST_TEST(policy.retries(post_unsent));
    BOOST_TEST(policy.retries(get_sent));
    BOOST_TEST(!policy.retries(post_503));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_with_jitter_up_to_the_cap)
{
    retry_policy policy;
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1s;
    for (int sample = 0; sample < 200; ++sample)
    {
        for (std::size_t n = 1; n <= 8; ++n)
        {
            auto ceiling = std::min<std::chrono::milliseconds>(100ms * (1 << (n - 1)), 1s);
            auto wait = policy.wait_before(n);
            BOOST_TEST_CONTEXT("retry " << n)
            {
                BOOST_TEST(wait.count() <= ceiling.count());
                BOOST_TEST(wait.count() >= ceiling.count() / 2);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_custom_backoff_replaces_the_schedule)
{
    retry_policy policy;
    policy.backoff = [](std::size_t n) { return std::chrono::milliseconds(7 * n); };
    BOOST_TEST(policy.wait_before(3).count() == 21);
}

BOOST_AUTO_TEST_CASE(retry_after_reads_seconds_and_http_dates)
{
    using scenario::detail::parse_retry_after;
    // Sun, 06 Nov 1994 08:49:37 GMT
    auto const now = std::chrono::system_clock::from_time_t(784111777);

    BOOST_TEST(parse_retry_after("0", now)->count() == 0);
    BOOST_TEST(parse_retry_after(" 120 ", now)->count() == 120000);
    BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now)->count() == 10000);
    BOOST_TEST(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now)->count() == 0); // past
    BOOST_TEST(parse_retry_after("99999999999999999999", now)->count() == 86400000);   // a day
    BOOST_TEST(!parse_retry_after("", now));
    BOOST_TEST(!parse_retry_after("-5", now));
    BOOST_TEST(!parse_retry_after("1.5", now));
    BOOST_TEST(!parse_retry_after("soon", now));
    BOOST_TEST(!parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now)); // RFC 850: ignored
    // Dates beyond what the clock's nanoseconds span (1678 to 2262) overflow nothing.
    BOOST_TEST(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now)->count() == 86400000);
    BOOST_TEST(parse_retry_after("Mon, 01 Jan 1600 00:00:00 GMT", now)->count() == 0);
}

BOOST_AUTO_TEST_CASE(remaining_seconds_is_read_from_a_json_body)
{
    using scenario::detail::remaining_seconds;

    BOOST_TEST(remaining_seconds(R"({"remainingSeconds": 3})")->count() == 3000);
    BOOST_TEST(remaining_seconds(R"({"remainingSeconds": 0.25})")->count() == 250);
    BOOST_TEST(!remaining_seconds(R"({"remainingSeconds": -1})"));
    BOOST_TEST(!remaining_seconds(R"({"remainingSeconds": "3"})"));
    BOOST_TEST(!remaining_seconds(R"({"reason": "slow down"})"));
    BOOST_TEST(!remaining_seconds("<html>busy</html>"));
}

BOOST_AUTO_TEST_CASE(retry_after_wins_over_remaining_seconds)
{
    http::response<http::string_body> message{http::status::too_many_requests, 11};
    message.set(http::field::retry_after, "4");

    auto wait = scenario::detail::requested_wait(message, R"({"remainingSeconds": 9})");

    BOOST_TEST(wait->count() == 4000);
}

BOOST_AUTO_TEST_CASE(keep_alive_timeout_is_read_among_other_parameters)
{
    using scenario::detail::keep_alive_timeout;

    BOOST_TEST(*keep_alive_timeout("timeout=5, max=100") == 5);
    BOOST_TEST(*keep_alive_timeout("max=100, Timeout = 7") == 7);
    BOOST_TEST(!keep_alive_timeout("max=100"));
    BOOST_TEST(!keep_alive_timeout("timeout=soon"));
    BOOST_TEST(!keep_alive_timeout(""));
}

BOOST_AUTO_TEST_CASE(a_dead_idle_connection_is_replaced_only_when_nothing_can_have_been_done)
{
    using scenario::detail::attempt_report;
    using scenario::detail::worth_a_fresh_connection;
    error_code const reset = asio::error::connection_reset;
    error_code const eof = boost::beast::http::error::end_of_stream;
    attempt_report const unwritten{.sent = true, .delivered = false, .reused = true};
    attempt_report const written{.sent = true, .delivered = true, .reused = true};

    // Idempotent: whenever no byte of an answer came on a reused connection.
    BOOST_TEST(worth_a_fresh_connection(unwritten, true, reset));
    BOOST_TEST(worth_a_fresh_connection(written, true, eof));
    // Other methods: only when the request was not written in full.
    BOOST_TEST(worth_a_fresh_connection(unwritten, false, reset));
    BOOST_TEST(!worth_a_fresh_connection(written, false, eof));

    // Never on a new connection, after part of an answer, on a timeout, a cancellation or a
    // status.
    auto fresh = written;
    fresh.reused = false;
    BOOST_TEST(!worth_a_fresh_connection(fresh, true, eof));
    auto answered = written;
    answered.answered = true;
    BOOST_TEST(!worth_a_fresh_connection(answered, true, eof));
    BOOST_TEST(!worth_a_fresh_connection(written, true, boost::beast::error::timeout));
    BOOST_TEST(!worth_a_fresh_connection(unwritten, true, asio::error::operation_aborted));
    BOOST_TEST(!worth_a_fresh_connection(written, true, scenario::make_http_error(503)));
}

BOOST_AUTO_TEST_SUITE_END()
