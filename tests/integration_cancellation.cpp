// Cancellation and shutdown at every stage of a call, over real TLS on loopback: the call ends
// at once with operation_aborted, its pool slot is free, and the client keeps working.
#include "support/local_api.hpp"
#include "support/run.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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

enum class stage
{
    waiting_for_a_connection,
    connecting,
    writing,
    reading,
    pausing_between_attempts,
};

char const* name_of(stage s)
{
    switch (s)
    {
    case stage::waiting_for_a_connection: return "waiting for a connection";
    case stage::connecting: return "connecting";
    case stage::writing: return "writing";
    case stage::reading: return "reading";
    case stage::pausing_between_attempts: return "pausing between attempts";
    }
    return "?";
}

// A local API of its own and a client of one connection, with the server's first answer
// arranged so that a call started now is at `s` a moment later.
struct arena
{
    explicit arena(stage s)
        : at(s)
    {
        scenario::testing::local_api_options api_options;
        api_options.public_models = 10;
        api_options.private_models = 1;
        fault_rule rule;
        rule.sequence = {1};
        rule.kind = s == stage::pausing_between_attempts ? fault_kind::service_unavailable
                                                         : fault_kind::stall;
        rule.delay = 2s;
        api_options.faults.rules = {rule};
        api = std::make_unique<scenario::testing::local_api>(api_options);
        id = std::string(api->public_catalogue().front().at("id").as_string());

        auto options = options_for(*api);
        options.max_connections = 1;
        options.retry.backoff = [](std::size_t) { return std::chrono::milliseconds(2000); };
        if (s == stage::connecting)
        {
            // A listener that accepts and never shakes hands.
            silent.emplace(io, asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
            silent->async_accept(silent_peer, [](error_code) {});
            options.base_url =
                "https://127.0.0.1:" + std::to_string(silent->local_endpoint().port()) + "/v1";
        }
        client.emplace(io, credentials_for(*api), options);
    }

    // Starts the call to be cancelled (and, to wait behind, one that holds the connection),
    // then lets it reach its stage.
    void start(asio::cancellation_slot slot)
    {
        if (at == stage::waiting_for_a_connection)
            client->models().get(id, [this](error_code ec, scenario::model) { holder = ec; });
        if (at == stage::writing)
        {
            // An idle connection to write on, so the call's first wait is the write.
            run(io, [this]() -> asio::awaitable<void> {
                api->set_fault_plan({});
                co_await client->models().get(id);
            }());
        }
        started = clock_type::now();
        client->models().get(
            id, diag, asio::bind_cancellation_slot(slot, [this](error_code ec, scenario::model m) {
                outcome = ec;
                found = m.id;
                ended = clock_type::now();
            }));
        if (at != stage::writing)
            io.run_for(150ms);
    }

    void finish()
    {
        io.restart();
        io.run_for(5s);
    }

    stage at;
    asio::io_context io;
    std::unique_ptr<scenario::testing::local_api> api;
    std::optional<asio::ip::tcp::acceptor> silent;
    asio::ip::tcp::socket silent_peer{io};
    std::optional<scenario::client> client;
    std::string id;

    scenario::diagnostics diag;
    std::optional<error_code> outcome;
    std::optional<error_code> holder;
    std::string found;
    clock_type::time_point started;
    clock_type::time_point ended;
};

std::vector<stage> const every_stage{
    stage::waiting_for_a_connection, stage::connecting, stage::writing, stage::reading,
    stage::pausing_between_attempts};

} // namespace

BOOST_AUTO_TEST_SUITE(cancellation)

BOOST_AUTO_TEST_CASE(terminal_cancellation_at_every_stage_ends_the_call_and_frees_its_slot)
{
    for (auto s : every_stage)
    {
        BOOST_TEST_CONTEXT("stage: " << name_of(s))
        {
            arena a(s);
            asio::cancellation_signal cancel;

            a.start(cancel.slot());
            BOOST_TEST(!a.outcome.has_value()); // still at its stage
            cancel.emit(asio::cancellation_type::terminal);
            a.finish();

            BOOST_TEST(a.outcome.has_value());
            BOOST_TEST((a.outcome && *a.outcome == asio::error::operation_aborted));
            BOOST_TEST(a.found.empty());
            BOOST_TEST(ms(a.ended - a.started) < 1500);
            BOOST_TEST(a.diag.message.find("cancelled") != std::string::npos, a.diag.message);

            if (s != stage::connecting)
            {
                // The one slot is free again and the client works.
                a.api->set_fault_plan({});
                auto later = run(a.io, a.client->models().get(a.id));
                BOOST_TEST(later.id == a.id);
                BOOST_TEST(a.client->open_connections() <= 1u);
            }
            else
            {
                BOOST_TEST(a.client->open_connections() == 0u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(partial_and_total_cancellation_are_ignored_and_the_call_completes)
{
    for (auto type : {asio::cancellation_type::partial, asio::cancellation_type::total})
    {
        BOOST_TEST_CONTEXT("type " << static_cast<int>(type))
        {
            arena a(stage::reading);
            asio::cancellation_signal cancel;

            a.start(cancel.slot());
            cancel.emit(type);
            a.finish();

            BOOST_TEST((a.outcome && !*a.outcome));
            BOOST_TEST(a.found == a.id);
        }
    }
}

BOOST_AUTO_TEST_CASE(shutdown_at_every_stage_ends_the_call_with_operation_aborted)
{
    for (bool destroy : {false, true})
    {
        for (auto s : every_stage)
        {
            BOOST_TEST_CONTEXT((destroy ? "destroyed" : "shut down") << " while " << name_of(s))
            {
                arena a(s);
                asio::cancellation_signal unused;

                a.start(unused.slot());
                if (destroy)
                    a.client.reset();
                else
                    a.client->shutdown();
                a.finish();

                BOOST_TEST((a.outcome && *a.outcome == asio::error::operation_aborted));
                BOOST_TEST(ms(a.ended - a.started) < 1500);
                if (s == stage::waiting_for_a_connection)
                    BOOST_TEST((a.holder && *a.holder == asio::error::operation_aborted));
                BOOST_TEST(a.diag.message.find("shut down") != std::string::npos, a.diag.message);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_call_raced_against_a_timer_with_awaitable_operators)
{
    using namespace asio::experimental::awaitable_operators;
    arena a(stage::reading);
    auto models = a.client->models();

    auto winner = run(a.io, [&]() -> asio::awaitable<std::size_t> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
        auto result = co_await (models.get(a.id) || timer.async_wait(asio::use_awaitable));
        co_return result.index();
    }());
    auto fast = run(a.io, [&]() -> asio::awaitable<std::size_t> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 5s);
        auto result = co_await (models.get(a.id) || timer.async_wait(asio::use_awaitable));
        co_return result.index();
    }());

    BOOST_TEST(winner == 1u); // the timer: the stalled call was cancelled
    BOOST_TEST(fast == 0u);   // the call, on a fresh connection
    BOOST_TEST(a.client->open_connections() <= 1u);
}

// A waiter handed a free slot, and cancelled before it runs, must give the slot back: a
// cancelled coroutine throws at its next co_await, before the connection is even begun.
BOOST_AUTO_TEST_CASE(a_waiter_cancelled_as_it_is_handed_a_slot_gives_the_slot_back)
{
    scenario::testing::local_api_options api_options;
    api_options.public_models = 10;
    api_options.private_models = 1;
    fault_rule rule;
    rule.sequence = {1};
    rule.kind = fault_kind::connection_close; // the holder's connection closes: a slot frees
    api_options.faults.rules = {rule};
    scenario::testing::local_api api(api_options);
    auto id = std::string(api.public_catalogue().front().at("id").as_string());

    asio::io_context io;
    auto options = options_for(api);
    options.max_connections = 1;
    scenario::client client(io, credentials_for(api), options);

    asio::cancellation_signal cancel_waiter;
    std::optional<error_code> holder, waiter;
    client.models().get(id, [&](error_code ec, scenario::model) {
        holder = ec;
        // The waiter has been handed the slot, and its wake-up is queued: cancel it now.
        cancel_waiter.emit(asio::cancellation_type::terminal);
    });
    client.models().get(
        id, asio::bind_cancellation_slot(
                cancel_waiter.slot(), [&](error_code ec, scenario::model) { waiter = ec; }));
    io.run_for(5s);

    BOOST_TEST_REQUIRE(holder.has_value());
    BOOST_TEST(!*holder);
    BOOST_TEST_REQUIRE(waiter.has_value());
    BOOST_TEST((*waiter == asio::error::operation_aborted));
    BOOST_TEST(client.open_connections() == 0u); // no slot counted without a connection

    auto later = run(io, client.models({.call_timeout = 3s}).get(id));
    BOOST_TEST(later.id == id);
}

BOOST_AUTO_TEST_SUITE_END()
