// The connection pool over real TLS: bounds, reuse, waiting, cancellation, failures.
#include "support/local_api.hpp"
#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using namespace scenario_tests;
using scenario::error_code;
using scenario::model;

namespace {

std::vector<std::string> public_ids(std::size_t n)
{
    std::vector<std::string> ids;
    auto rows = shared_api().public_catalogue();
    for (std::size_t i = 0; i < n; ++i)
        ids.emplace_back(rows.at(i % rows.size()).at("id").as_string());
    return ids;
}

// A server whose first answer takes a second, so the first call holds the only connection of
// a pool of one while the test does what it must with the calls queued behind it.
scripted_server holding_server(std::size_t answers)
{
    std::vector<scripted_response> script;
    for (std::size_t i = 0; i < answers; ++i)
        script.push_back(
            {200, R"({"model": {"id": "m"}})", std::chrono::milliseconds(i == 0 ? 1000 : 0)});
    return scripted_server(std::move(script));
}

scenario::client client_of_one(asio::io_context& io, scripted_server const& server)
{
    scenario::client_options options;
    options.base_url = server.base_url();
    options.ca_pem = server.certificate_pem();
    options.max_connections = 1;
    return scenario::client(io, {"key", "secret"}, options);
}

scenario::client_options pool_of(std::size_t size)
{
    auto options = options_for(shared_api());
    options.max_connections = size;
    return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(connection_pool)

BOOST_AUTO_TEST_CASE(three_hundred_concurrent_gets_on_one_thread_share_the_pool)
{
    asio::io_context io;
    auto client = make_client(io, pool_of(8));
    auto models = client.models();
    auto ids = public_ids(300);
    auto accepted_before = shared_api().connections_accepted();

    std::size_t completed = 0;
    std::size_t most_open = 0;
    std::vector<std::string> answered(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
    {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                auto m = co_await models.get(ids[i]);
                answered[i] = m.id;
                most_open = std::max(most_open, client.open_connections());
                ++completed;
            },
            [](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
            });
    }
    io.run_for(std::chrono::seconds(120));

    BOOST_TEST(completed == ids.size());
    BOOST_TEST(answered == ids, boost::test_tools::per_element());
    BOOST_TEST(most_open <= 8u);
    BOOST_TEST(client.handshakes() <= 8u);
    BOOST_TEST(client.handshakes() >= 1u);
    BOOST_TEST(shared_api().connections_accepted() - accepted_before <= 8u);
    BOOST_TEST(client.idle_connections() == client.open_connections());
}

BOOST_AUTO_TEST_CASE(sequential_calls_reuse_one_connection)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    auto ids = public_ids(20);
    run(io, [&]() -> asio::awaitable<void> {
        for (auto const& id : ids)
            BOOST_TEST((co_await models.get(id)).id == id);
    }());
    BOOST_TEST(client.handshakes() == 1u);
    BOOST_TEST(client.open_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(a_connection_the_server_closed_while_idle_is_replaced)
{
    scenario::testing::local_api api(
        {.public_models = 20, .private_models = 2, .idle_timeout = std::chrono::seconds(1)});
    asio::io_context io;
    scenario::client client(io, credentials_for(api), options_for(api));
    auto models = client.models();
    std::string id(api.public_catalogue().at(0).at("id").as_string());

    run(io, [&]() -> asio::awaitable<void> {
        co_await models.get(id);
        asio::steady_timer pause(io, std::chrono::milliseconds(1600));
        co_await pause.async_wait(asio::use_awaitable);
        auto again = co_await models.get(id);
        BOOST_TEST(again.id == id);
    }());
    BOOST_TEST(client.handshakes() == 2u);
}

BOOST_AUTO_TEST_CASE(a_call_cancelled_while_waiting_leaves_the_queue)
{
    auto server = holding_server(3);
    asio::io_context io;
    auto client = client_of_one(io, server);
    auto models = client.models();
    std::vector<std::string> ids{"a", "b", "c"};

    std::vector<error_code> results(3, asio::error::would_block);
    asio::cancellation_signal cancel_second;
    for (std::size_t i = 0; i < 3; ++i)
    {
        auto handler = [&, i](error_code ec, model) { results[i] = ec; };
        if (i == 1)
            models.get(ids[i], asio::bind_cancellation_slot(cancel_second.slot(), handler));
        else
            models.get(ids[i], handler);
    }
    // Let every call start; the second and third wait for the one connection.
    io.poll();
    cancel_second.emit(asio::cancellation_type::terminal);
    io.run_for(std::chrono::seconds(30));

    BOOST_TEST(!results[0]);
    BOOST_TEST((results[1] == asio::error::operation_aborted));
    BOOST_TEST(!results[2]);
    BOOST_TEST(client.open_connections() == 1u);
    BOOST_TEST(server.targets().size() == 2u); // the cancelled call sent nothing
}

BOOST_AUTO_TEST_CASE(waiting_calls_are_served_in_arrival_order)
{
    asio::io_context io;
    auto client = make_client(io, pool_of(1));
    auto models = client.models();
    auto ids = public_ids(5);
    std::vector<std::string> order;

    auto call = [&](std::string name, std::string id) -> asio::awaitable<void> {
        co_await models.get(id);
        order.push_back(name);
    };
    auto rethrow = [](std::exception_ptr e) {
        if (e)
            std::rethrow_exception(e);
    };
    // A holds the one connection and asks again as soon as it is answered; B, C and D came
    // before its second call and are served first.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await call("A", ids[0]);
            co_await call("E", ids[4]);
        },
        rethrow);
    for (std::size_t i = 1; i < 4; ++i)
        asio::co_spawn(io, call(std::string(1, char('A' + i)), ids[i]), rethrow);
    io.run_for(std::chrono::seconds(30));

    BOOST_TEST(
        order == (std::vector<std::string>{"A", "B", "C", "D", "E"}),
        boost::test_tools::per_element());
    BOOST_TEST(client.handshakes() == 1u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_bare_co_await_throws_scenario_error)
{
    auto server = holding_server(2);
    asio::io_context io;
    auto client = client_of_one(io, server);
    auto models = client.models();
    std::vector<std::string> ids{"a", "b"};
    asio::cancellation_signal cancel;
    std::exception_ptr thrown;

    models.get(ids[0], [](error_code, model) {}); // holds the only connection
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { co_await models.get(ids[1]); },
        asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) { thrown = e; }));
    io.poll();
    cancel.emit(asio::cancellation_type::terminal);
    io.run_for(std::chrono::seconds(30));

    BOOST_TEST_REQUIRE(static_cast<bool>(thrown));
    try
    {
        std::rethrow_exception(thrown);
    }
    catch (scenario::error const& e)
    {
        BOOST_TEST((e.code() == asio::error::operation_aborted));
        BOOST_TEST(std::string(e.what()).find("cancelled") != std::string::npos, e.what());
    }
    catch (...)
    {
        BOOST_FAIL("not a scenario::error");
    }
    BOOST_TEST(client.open_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(a_call_cancelled_in_flight_frees_its_connection)
{
    asio::io_context io;
    auto client = make_client(io, pool_of(1));
    auto models = client.models();
    std::string id = public_ids(1)[0];

    run(io, [&]() -> asio::awaitable<void> {
        co_await models.get(id); // one warm connection
        asio::cancellation_signal cancel;
        error_code cancelled_ec;
        bool cancelled_done = false;
        models.get(id, asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, model) {
                       cancelled_ec = ec;
                       cancelled_done = true;
                   }));
        asio::steady_timer tick(io, std::chrono::milliseconds(0));
        co_await tick.async_wait(asio::use_awaitable);
        cancel.emit(asio::cancellation_type::terminal);
        auto after = co_await models.get(id);
        BOOST_TEST(after.id == id);
        BOOST_TEST(cancelled_done);
        // Cancelled before or after the answer arrived; either way the pool stays usable.
        BOOST_TEST((!cancelled_ec || cancelled_ec == asio::error::operation_aborted));
    }());
    BOOST_TEST(client.open_connections() <= 1u);
}

BOOST_AUTO_TEST_CASE(shutdown_ends_the_call_in_flight_and_those_that_wait)
{
    auto server = holding_server(4);
    asio::io_context io;
    auto client = client_of_one(io, server);
    auto models = client.models();
    std::vector<std::string> ids{"a", "b", "c", "d"};
    std::vector<error_code> results(4, asio::error::would_block);
    for (std::size_t i = 0; i < 4; ++i)
        models.get(ids[i], [&, i](error_code ec, model) { results[i] = ec; });
    io.poll();
    client.shutdown();
    io.run_for(std::chrono::seconds(30));

    for (std::size_t i = 0; i < 4; ++i) // the first was in flight, the others waited
        BOOST_TEST((results[i] == asio::error::operation_aborted));
    BOOST_TEST(client.open_connections() == 0u);
    auto [ec, m] = run(io, models.get(ids[0], asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST((ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_a_network_error_that_says_where)
{
    // A port that was just free: nothing listens there.
    std::uint16_t port;
    {
        asio::io_context probe;
        asio::ip::tcp::acceptor acceptor(probe, {asio::ip::make_address("127.0.0.1"), 0});
        port = acceptor.local_endpoint().port();
    }
    asio::io_context io;
    auto options = options_for(shared_api());
    options.base_url = "https://127.0.0.1:" + std::to_string(port) + "/v1";
    auto client = make_client(io, options);
    scenario::diagnostics diag;
    auto [ec, page] =
        run(io, client.models().list_public({}, diag, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST((ec == asio::error::connection_refused));
    BOOST_TEST(
        diag.message.find("could not connect to 127.0.0.1:" + std::to_string(port)) !=
            std::string::npos,
        diag.message);
    BOOST_TEST(client.open_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_fails_the_handshake)
{
    asio::io_context io;
    auto options = options_for(shared_api());
    options.ca_pem.clear(); // only the system store, which does not know the local API
    auto client = make_client(io, options);
    auto requests_before = shared_api().requests_received();
    scenario::diagnostics diag;
    auto [ec, page] =
        run(io, client.models().list_public({}, diag, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST((ec.category() == scenario::certificate_category()), ec.message());
    BOOST_TEST(diag.message.find("TLS handshake") != std::string::npos, diag.message);
    BOOST_TEST(diag.message.find("certificate") != std::string::npos, diag.message);
    BOOST_TEST(shared_api().requests_received() == requests_before);
    BOOST_TEST(client.handshakes() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
