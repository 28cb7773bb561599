// Retries, timeouts, stale connections and server faults, over real TLS on loopback: each
// test gives the local API a fault plan and checks what the client makes of it.
#include "support/local_api.hpp"
#include "support/relay.hpp"
#include "support/run.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace asio = boost::asio;
using namespace scenario_tests;
using namespace std::chrono_literals;
using scenario::error_code;
using scenario::testing::fault_kind;
using scenario::testing::fault_rule;

namespace {

using clock_type = std::chrono::steady_clock;

long long ms(clock_type::duration d)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

error_code const timed_out = boost::beast::error::timeout;

// A small local API of its own, with `rules` as its fault plan.
std::unique_ptr<scenario::testing::local_api> faulty_api(std::vector<fault_rule> rules = {})
{
    scenario::testing::local_api_options options;
    options.public_models = 30;
    options.private_models = 2;
    options.faults.rules = std::move(rules);
    return std::make_unique<scenario::testing::local_api>(options);
}

// Options for `api` with quick retries, so that tests do not wait on the default backoff.
scenario::client_options quick_options(scenario::testing::local_api& api)
{
    auto options = options_for(api);
    options.retry.initial_backoff = 1ms;
    options.retry.max_backoff = 10s;
    return options;
}

scenario::client client_of(
    asio::io_context& io, scenario::testing::local_api& api, scenario::client_options options)
{
    return scenario::client(io, credentials_for(api), std::move(options));
}

std::string first_public_id(scenario::testing::local_api& api)
{
    return std::string(api.public_catalogue().front().at("id").as_string());
}

fault_rule first_request(fault_kind kind)
{
    fault_rule rule;
    rule.kind = kind;
    rule.sequence = {1};
    return rule;
}

fault_rule every_request(fault_kind kind)
{
    fault_rule rule;
    rule.kind = kind;
    rule.every = 1;
    return rule;
}

// The outcome of one `get` through the diagnostics form.
struct get_outcome
{
    error_code ec;
    scenario::diagnostics diag;
    std::string id;
    clock_type::duration took{};
};

get_outcome get_once(asio::io_context& io, scenario::models_api models, std::string const& id)
{
    return run(io, [&]() -> asio::awaitable<get_outcome> {
        get_outcome outcome;
        auto const start = clock_type::now();
        auto [ec, found] =
            co_await models.get(id, outcome.diag, asio::as_tuple(asio::use_awaitable));
        outcome.took = clock_type::now() - start;
        outcome.ec = ec;
        outcome.id = found.id;
        co_return outcome;
    }());
}

} // namespace

BOOST_AUTO_TEST_SUITE(resilience)

BOOST_AUTO_TEST_CASE(each_transient_status_is_retried_until_the_call_succeeds)
{
    for (auto kind :
         {fault_kind::internal_error, fault_kind::bad_gateway, fault_kind::service_unavailable,
          fault_kind::too_many_requests})
    {
        BOOST_TEST_CONTEXT("fault " << static_cast<int>(kind))
        {
            auto rule = first_request(kind);
            rule.retry_after_seconds = 0;
            auto api = faulty_api({rule});
            asio::io_context io;
            auto client = client_of(io, *api, quick_options(*api));

            auto outcome = get_once(io, client.models(), first_public_id(*api));

            BOOST_TEST(!outcome.ec, outcome.ec.message());
            BOOST_TEST(outcome.id == first_public_id(*api));
            BOOST_TEST(api->requests_received() == 2u);
            BOOST_TEST(api->faults_injected() == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(retries_stop_at_max_retries_with_the_last_answer)
{
    auto api = faulty_api({every_request(fault_kind::service_unavailable)});
    asio::io_context io;
    auto client = client_of(io, *api, quick_options(*api));

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(scenario::http_status(outcome.ec) == 503u);
    BOOST_TEST(outcome.diag.attempts == 3u); // the default: two retries
    BOOST_TEST(api->requests_received() == 3u);
    auto text = scenario::describe(outcome.ec, outcome.diag);
    BOOST_TEST(text.find("after 3 attempts") != std::string::npos, text);
    BOOST_TEST(text.find("[request id req_") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_permanent_status_is_not_retried)
{
    auto api = faulty_api();
    asio::io_context io;
    auto client = client_of(io, *api, quick_options(*api));

    auto outcome = get_once(io, client.models(), "model_that_does_not_exist");

    BOOST_TEST(scenario::http_status(outcome.ec) == 404u);
    BOOST_TEST(outcome.diag.attempts == 1u);
    BOOST_TEST(api->requests_received() == 1u);
}

BOOST_AUTO_TEST_CASE(the_wait_the_service_asks_for_is_honoured_in_every_form)
{
    for (auto kind :
         {fault_kind::too_many_requests, fault_kind::too_many_requests_date,
          fault_kind::too_many_requests_body})
    {
        BOOST_TEST_CONTEXT("fault " << static_cast<int>(kind))
        {
            auto rule = first_request(kind);
            rule.retry_after_seconds = 2;
            auto api = faulty_api({rule});
            asio::io_context io;
            auto client = client_of(io, *api, quick_options(*api));

            auto outcome = get_once(io, client.models(), first_public_id(*api));

            BOOST_TEST(!outcome.ec, outcome.ec.message());
            // An HTTP-date has whole seconds: "2 s from now" may be 1.01 s away.
            BOOST_TEST(ms(outcome.took) >= 1000);
            BOOST_TEST(api->requests_received() == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_wait_beyond_the_cap_ends_the_call_with_the_429_at_once)
{
    auto rule = first_request(fault_kind::too_many_requests);
    rule.retry_after_seconds = 120;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto client = client_of(io, *api, quick_options(*api));

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(scenario::http_status(outcome.ec) == 429u);
    BOOST_TEST(outcome.diag.retry_after.count() == 120000);
    BOOST_TEST(ms(outcome.took) < 5000);
    BOOST_TEST(api->requests_received() == 1u);
    auto text = scenario::describe(outcome.ec, outcome.diag);
    BOOST_TEST(text.find("asked to wait 120000 ms") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_wait_beyond_the_deadline_ends_the_call_with_the_429_at_once)
{
    auto rule = first_request(fault_kind::too_many_requests_body);
    rule.retry_after_seconds = 5;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.call_timeout = 1s;
    auto client = client_of(io, *api, options);

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(scenario::http_status(outcome.ec) == 429u);
    BOOST_TEST(outcome.diag.retry_after.count() == 5000);
    BOOST_TEST(ms(outcome.took) < 1000);
}

BOOST_AUTO_TEST_CASE(per_call_options_override_the_clients)
{
    auto api = faulty_api({every_request(fault_kind::service_unavailable)});
    asio::io_context io;
    auto options = quick_options(*api);
    options.retry.max_retries = 0;
    auto client = client_of(io, *api, options);
    auto policy = options.retry;
    policy.max_retries = 4;

    auto plain = get_once(io, client.models(), first_public_id(*api));
    auto patient = get_once(io, client.models({.retry = policy}), first_public_id(*api));

    BOOST_TEST(plain.diag.attempts == 1u);
    BOOST_TEST(patient.diag.attempts == 5u);
    BOOST_TEST(api->requests_received() == 6u);
}

BOOST_AUTO_TEST_CASE(a_custom_decision_and_backoff_replace_the_defaults)
{
    auto api = faulty_api({every_request(fault_kind::service_unavailable)});
    asio::io_context io;
    auto options = quick_options(*api);
    std::vector<std::size_t> asked;
    std::vector<std::size_t> waited;
    options.retry.max_retries = 5;
    options.retry.should_retry = [&](scenario::attempt_outcome const& outcome) {
        asked.push_back(outcome.retries);
        return outcome.retries < 1 && outcome.method == "GET" && outcome.request_sent;
    };
    options.retry.backoff = [&](std::size_t n) {
        waited.push_back(n);
        return std::chrono::milliseconds(0);
    };
    auto client = client_of(io, *api, options);

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(outcome.diag.attempts == 2u);
    BOOST_TEST(asked == (std::vector<std::size_t>{0, 1}), boost::test_tools::per_element());
    BOOST_TEST(waited == (std::vector<std::size_t>{1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(connections_the_server_closes_after_each_answer_are_replaced_silently)
{
    for (auto kind : {fault_kind::close_after_response, fault_kind::connection_close})
    {
        BOOST_TEST_CONTEXT("fault " << static_cast<int>(kind))
        {
            auto api = faulty_api({every_request(kind)});
            asio::io_context io;
            auto options = quick_options(*api);
            options.retry.max_retries = 0; // a replaced connection is not a retry
            auto client = client_of(io, *api, options);
            auto id = first_public_id(*api);

            for (int i = 0; i < 10; ++i)
            {
                auto outcome = get_once(io, client.models(), id);
                BOOST_TEST(!outcome.ec, outcome.ec.message());
                // Sent again at most once, when the request overtook the server's close.
                BOOST_TEST(outcome.diag.attempts <= 2u);
            }
            BOOST_TEST(api->requests_received() == 10u);
            BOOST_TEST(client.handshakes() == 10u);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_servers_keep_alive_timeout_retires_idle_connections_before_it_ends)
{
    auto rule = every_request(fault_kind::keep_alive_timeout);
    rule.retry_after_seconds = 2; // the connection may idle a second
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.retry.max_retries = 0;
    auto client = client_of(io, *api, options);
    auto id = first_public_id(*api);

    BOOST_TEST(!get_once(io, client.models(), id).ec);
    BOOST_TEST(!get_once(io, client.models(), id).ec);
    BOOST_TEST(client.handshakes() == 1u); // reused within the second
    std::this_thread::sleep_for(1200ms);
    BOOST_TEST(!get_once(io, client.models(), id).ec);
    BOOST_TEST(client.handshakes() == 2u); // expired, not reused
}

BOOST_AUTO_TEST_CASE(max_idle_time_retires_idle_connections)
{
    auto api = faulty_api();
    asio::io_context io;
    auto options = quick_options(*api);
    options.max_idle_time = 100ms;
    auto client = client_of(io, *api, options);
    auto id = first_public_id(*api);

    BOOST_TEST(!get_once(io, client.models(), id).ec);
    std::this_thread::sleep_for(200ms);
    BOOST_TEST(!get_once(io, client.models(), id).ec);
    BOOST_TEST(client.handshakes() == 2u);
}

BOOST_AUTO_TEST_CASE(a_stalled_answer_times_out_and_its_connection_is_closed)
{
    auto rule = every_request(fault_kind::stall);
    rule.delay = 3s;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.request_timeout = 200ms;
    options.retry.max_retries = 0;
    auto client = client_of(io, *api, options);

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(outcome.ec == timed_out);
    BOOST_TEST(ms(outcome.took) < 2000);
    BOOST_TEST(outcome.diag.message.find("within 200 ms") != std::string::npos);
    BOOST_TEST(client.open_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(a_stall_is_retried_on_a_new_connection)
{
    auto rule = first_request(fault_kind::stall);
    rule.delay = 3s;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.request_timeout = 200ms;
    auto client = client_of(io, *api, options);

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(!outcome.ec, outcome.ec.message());
    BOOST_TEST(outcome.diag.attempts == 2u);
    BOOST_TEST(client.handshakes() == 2u);
}

BOOST_AUTO_TEST_CASE(call_timeout_bounds_the_whole_call_and_can_be_set_per_call)
{
    auto rule = every_request(fault_kind::stall);
    rule.delay = 5s;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto client = client_of(io, *api, quick_options(*api));

    auto outcome = get_once(io, client.models({.call_timeout = 300ms}), first_public_id(*api));

    BOOST_TEST(outcome.ec == timed_out);
    BOOST_TEST(ms(outcome.took) < 2000);
    BOOST_TEST(outcome.diag.message.find("deadline") != std::string::npos, outcome.diag.message);
}

BOOST_AUTO_TEST_CASE(call_timeout_bounds_the_wait_for_a_connection)
{
    auto rule = first_request(fault_kind::stall);
    rule.delay = 2s;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.max_connections = 1;
    auto client = client_of(io, *api, options);
    auto id = first_public_id(*api);

    std::optional<error_code> first;
    std::optional<error_code> second;
    scenario::diagnostics second_diag;
    client.models().get(id, [&](error_code ec, scenario::model) { first = ec; });
    client.models({.call_timeout = 300ms})
        .get(id, second_diag, [&](error_code ec, scenario::model) { second = ec; });
    io.run_for(5s);

    BOOST_TEST((first && !*first));
    BOOST_TEST((second && *second == timed_out));
    BOOST_TEST(second_diag.message.find("no connection became free") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_handshake_that_never_comes_times_out)
{
    asio::io_context io;
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket accepted(io);
    silent.async_accept(accepted, [](error_code) {});
    scenario::client_options options;
    options.base_url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    options.handshake_timeout = 200ms;
    options.retry.max_retries = 0;
    scenario::client client(io, {"key", "secret"}, options);

    auto outcome = get_once(io, client.models(), "model_x");

    BOOST_TEST(outcome.ec == timed_out);
    BOOST_TEST(ms(outcome.took) < 2000);
    BOOST_TEST(outcome.diag.message.find("TLS handshake") != std::string::npos);
    BOOST_TEST(outcome.diag.message.find("200 ms") != std::string::npos, outcome.diag.message);
}

BOOST_AUTO_TEST_CASE(broken_and_truncated_answers_fail_typed_or_are_retried)
{
    struct case_
    {
        fault_kind kind;
        error_code expected; // without retries
    };
    for (auto [kind, expected] : std::vector<case_>{
             {fault_kind::reset_mid_headers, asio::error::connection_reset},
             {fault_kind::reset_mid_body, asio::error::connection_reset},
             {fault_kind::truncated_body, boost::beast::http::error::partial_message}})
    {
        BOOST_TEST_CONTEXT("fault " << static_cast<int>(kind))
        {
            auto api = faulty_api({first_request(kind)});
            asio::io_context io;
            auto options = quick_options(*api);
            options.retry.max_retries = 0;
            auto client = client_of(io, *api, options);
            auto id = first_public_id(*api);

            auto failed = get_once(io, client.models(), id);
            auto next = get_once(io, client.models(), id);

            BOOST_TEST(failed.ec == expected, failed.ec.message());
            BOOST_TEST(failed.id.empty()); // nothing partial
            BOOST_TEST(!next.ec, next.ec.message());
            BOOST_TEST(client.handshakes() == 2u); // the broken connection was not reused

            api->set_fault_plan({{first_request(kind)}});
            auto retried = get_once(io, client.models({.retry = quick_options(*api).retry}), id);
            BOOST_TEST(!retried.ec, retried.ec.message());
            BOOST_TEST(retried.diag.attempts == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_body_beyond_the_limit_is_a_typed_error_and_not_retried)
{
    auto rule = first_request(fault_kind::oversized_body);
    rule.body_bytes = 3 * 1024 * 1024;
    auto api = faulty_api({rule});
    asio::io_context io;
    auto options = quick_options(*api);
    options.body_limit = 1024 * 1024;
    auto client = client_of(io, *api, options);

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(outcome.ec == error_code(boost::beast::http::error::body_limit));
    BOOST_TEST(outcome.diag.attempts == 1u);
    BOOST_TEST(outcome.diag.message.find("body_limit") != std::string::npos);
    BOOST_TEST(client.open_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(a_header_beyond_the_limit_is_a_typed_error_and_not_retried)
{
    auto api = faulty_api();
    asio::io_context io;
    auto options = quick_options(*api);
    options.header_limit = 64; // the local API's header alone is longer
    auto client = client_of(io, *api, options);
    auto const before = api->requests_received();

    auto outcome = get_once(io, client.models(), first_public_id(*api));

    BOOST_TEST(outcome.ec == error_code(boost::beast::http::error::header_limit));
    BOOST_TEST(outcome.diag.attempts == 1u);
    BOOST_TEST(outcome.diag.message.find("header_limit") != std::string::npos);
    BOOST_TEST(api->requests_received() - before == 1u);
    BOOST_TEST(client.open_connections() == 0u); // not reused after a half-read answer
}

// Each step of a request fails once. With retries the call succeeds; without them it fails
// with an error that names the step, unless the client recovers on its own (a dead idle
// connection is replaced outside the retry budget; a failed close_notify is no concern of the
// call's).
BOOST_AUTO_TEST_CASE(failure_matrix)
{
    auto api = faulty_api();
    relay flaky(api->port());
    auto id = first_public_id(*api);

    struct step
    {
        char const* name;
        relay_fault connection_fault;
        std::optional<fault_kind> answer_fault;
        bool second_call;            // the fault hits a call made on a connection already used
        char const* without_retries; // what the error message says then; null: it succeeds
    };
    std::vector<step> const steps{
        {"connect", relay_fault::none, std::nullopt, false, "could not connect"},
        {"handshake", relay_fault::close_at_once, std::nullopt, false, "TLS handshake"},
        {"write on a dead connection", relay_fault::reset_on_client_data_after_idle, std::nullopt,
         true, nullptr},
        {"read headers", relay_fault::none, fault_kind::reset_mid_headers, false,
         "the connection to"},
        {"read body", relay_fault::none, fault_kind::reset_mid_body, false, "the connection to"},
        {"shutdown", relay_fault::reset_after_server_closes, fault_kind::connection_close, false,
         nullptr},
    };
    for (auto const& s : steps)
    {
        for (bool const retrying : {true, false})
        {
            BOOST_TEST_CONTEXT("step " << s.name << (retrying ? ", retrying" : ", no retries"))
            {
                asio::io_context io;
                auto options = quick_options(*api);
                options.retry.max_retries = retrying ? 2 : 0;
                options.retry.backoff = [](std::size_t) { return 300ms; };
                options.base_url = "https://localhost:" + std::to_string(flaky.port()) + "/v1";

                // The connect step: nothing listens on the port until the first attempt failed.
                std::uint16_t closed_port = 0;
                std::unique_ptr<relay> late;
                asio::steady_timer comes_up(io);
                if (std::string_view(s.name) == "connect")
                {
                    {
                        asio::io_context probe;
                        asio::ip::tcp::acceptor free(probe, {asio::ip::make_address("127.0.0.1"), 0});
                        closed_port = free.local_endpoint().port();
                    }
                    options.base_url = "https://localhost:" + std::to_string(closed_port) + "/v1";
                    comes_up.expires_after(100ms);
                    comes_up.async_wait([&](error_code) {
                        late = std::make_unique<relay>(api->port(), closed_port);
                    });
                }

                auto client = client_of(io, *api, options);
                flaky.plan({s.connection_fault});
                if (s.second_call)
                {
                    BOOST_TEST(!get_once(io, client.models(), id).ec);
                    std::this_thread::sleep_for(200ms);
                }
                api->set_fault_plan(
                    s.answer_fault
                        ? scenario::testing::fault_plan{{first_request(*s.answer_fault)}}
                        : scenario::testing::fault_plan{});

                auto outcome = get_once(io, client.models(), id);

                if (retrying || s.without_retries == nullptr)
                {
                    BOOST_TEST(!outcome.ec, outcome.ec.message() << ": " << outcome.diag.message);
                    BOOST_TEST(outcome.id == id);
                }
                else
                {
                    BOOST_TEST(outcome.ec.failed());
                    BOOST_TEST(outcome.id.empty()); // no partial result
                    BOOST_TEST(outcome.diag.attempts == 1u);
                    BOOST_TEST(
                        outcome.diag.message.find(s.without_retries) != std::string::npos,
                        outcome.diag.message);
                }
                comes_up.cancel();
                run(io, []() -> asio::awaitable<void> { co_return; }()); // let retirements end
                BOOST_TEST(client.open_connections() <= 1u);
                BOOST_TEST(client.open_connections() == client.idle_connections());
            }
        }
    }
    api->set_fault_plan({});
}

BOOST_AUTO_TEST_CASE(a_refused_connection_fails_typed_or_is_retried_until_the_server_is_up)
{
    std::uint16_t port = 0;
    {
        asio::io_context probe;
        asio::ip::tcp::acceptor free_port(probe, {asio::ip::make_address("127.0.0.1"), 0});
        port = free_port.local_endpoint().port();
    }
    auto& api = shared_api();
    asio::io_context io;
    auto options = options_for(api);
    options.base_url = "https://127.0.0.1:" + std::to_string(port) + "/v1";
    options.retry.max_retries = 0;
    auto client = client_of(io, api, options);
    auto id = std::string(api.public_catalogue().front().at("id").as_string());

    auto refused = get_once(io, client.models(), id);

    BOOST_TEST(refused.ec == error_code(asio::error::connection_refused), refused.ec.message());
    BOOST_TEST(refused.diag.message.find("could not connect") != std::string::npos);

    // The server comes up while the call waits to try again.
    auto patient = options.retry;
    patient.max_retries = 3;
    patient.backoff = [](std::size_t) { return std::chrono::milliseconds(400); };
    std::unique_ptr<relay> server_up;
    asio::steady_timer later(io, 100ms);
    later.async_wait([&](error_code) { server_up = std::make_unique<relay>(api.port(), port); });

    auto retried = get_once(io, client.models({.retry = patient}), id);

    BOOST_TEST(!retried.ec, retried.ec.message());
    BOOST_TEST(retried.diag.attempts == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
