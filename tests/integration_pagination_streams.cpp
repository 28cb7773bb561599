// Page and model streams over real TLS: lazy fetching, end conditions, failures.
#include "support/local_api.hpp"
#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using namespace scenario_tests;

namespace {

std::string page_body(std::vector<std::string> const& ids, char const* token_json)
{
    std::string body = R"({"models": [)";
    for (std::size_t i = 0; i < ids.size(); ++i)
        body += (i ? "," : "") + std::string(R"({"id": ")") + ids[i] + R"(", "tags": []})";
    body += "]";
    if (token_json != nullptr)
        body += std::string(R"(, "nextPaginationToken": )") + token_json;
    return body + "}";
}

scenario::client client_for(asio::io_context& io, scripted_server const& server)
{
    scenario::client_options options;
    options.base_url = server.base_url();
    options.ca_pem = server.certificate_pem();
    options.retry.max_retries = 0; // each scripted answer is the one the test checks
    return scenario::client(io, {"key", "secret"}, options);
}

struct outcome
{
    std::vector<std::string> ids;
    scenario::error_code ec;
    scenario::diagnostics diag;
};

// Drains a model stream with the (error_code, value) form so a failure ends the loop.
asio::awaitable<outcome> drain(scenario::model_stream& stream)
{
    outcome result;
    for (;;)
    {
        auto [ec, m] = co_await stream.next(result.diag, asio::as_tuple(asio::use_awaitable));
        if (ec || !m)
        {
            result.ec = ec;
            co_return result;
        }
        result.ids.push_back(m->id);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(pagination_streams)

BOOST_AUTO_TEST_CASE(an_empty_page_with_a_token_does_not_end_the_listing)
{
    scripted_server server({
        {200, page_body({"a", "b"}, R"("t1")")},
        {200, page_body({}, R"("t2")")},
        {200, page_body({"c"}, nullptr)},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto stream = client.models().all({.tags = "sc:scenario", .page_size = 2});
    auto result = run(io, drain(stream));

    BOOST_TEST(!result.ec);
    BOOST_TEST(
        result.ids == (std::vector<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
    auto targets = server.targets();
    BOOST_TEST_REQUIRE(targets.size() == 3u);
    BOOST_TEST(targets[0] == "/v1/models?pageSize=2&tags=sc:scenario");
    BOOST_TEST(targets[1] == "/v1/models?pageSize=2&tags=sc:scenario&paginationToken=t1");
    BOOST_TEST(targets[2] == "/v1/models?pageSize=2&tags=sc:scenario&paginationToken=t2");
}

BOOST_AUTO_TEST_CASE(null_and_empty_tokens_end_the_listing)
{
    for (char const* end : {"null", R"("")"})
    {
        BOOST_TEST_CONTEXT("token " << end)
        {
            scripted_server server(
                {{200, page_body({"a"}, R"("t1")")}, {200, page_body({"b"}, end)}});
            asio::io_context io;
            auto client = client_for(io, server);
            auto stream = client.models().all();
            auto result = run(io, drain(stream));
            BOOST_TEST(!result.ec);
            BOOST_TEST(
                result.ids == (std::vector<std::string>{"a", "b"}),
                boost::test_tools::per_element());
            BOOST_TEST(server.targets().size() == 2u);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_repeated_token_stops_with_an_error_not_a_loop)
{
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {200, page_body({"b"}, R"("t2")")},
        {200, page_body({"c"}, R"("t1")")},
        {200, page_body({"never"}, nullptr)},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto stream = client.models().all();
    auto result = run(io, drain(stream));

    BOOST_TEST((result.ec == scenario::client_errc::repeated_pagination_token));
    BOOST_TEST(result.diag.message.find("pagination token") != std::string::npos);
    // The models of the page that repeated the token are not handed out as if all were well.
    BOOST_TEST(
        result.ids == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
    BOOST_TEST(server.targets().size() == 3u);
    BOOST_TEST(stream.pages().done());
    BOOST_TEST(stream.pages().resume_token().empty());
}

BOOST_AUTO_TEST_CASE(a_failed_page_can_be_asked_for_again)
{
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {503, R"({"reason": "try later"})"},
        {200, page_body({"b"}, nullptr)},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto stream = client.models().all();

    auto first = run(io, drain(stream));
    BOOST_TEST(scenario::http_status(first.ec) == 503u);
    BOOST_TEST(first.diag.server_reason == "try later");
    BOOST_TEST(stream.pages().resume_token() == "t1");

    auto second = run(io, drain(stream));
    BOOST_TEST(!second.ec);
    BOOST_TEST(stream.pages().resume_token().empty());
    BOOST_TEST(first.ids == std::vector<std::string>{"a"}, boost::test_tools::per_element());
    BOOST_TEST(second.ids == std::vector<std::string>{"b"}, boost::test_tools::per_element());
    auto targets = server.targets();
    BOOST_TEST_REQUIRE(targets.size() == 3u);
    BOOST_TEST(targets[2] == "/v1/models?paginationToken=t1");
}

BOOST_AUTO_TEST_CASE(a_page_of_the_wrong_shape_is_a_typed_error)
{
    scripted_server server({{200, R"({"models": {}})"}, {200, "<html>oops</html>"}});
    asio::io_context io;
    auto client = client_for(io, server);

    auto stream = client.models().all();
    auto shape = run(io, drain(stream));
    BOOST_TEST((shape.ec == scenario::client_errc::unexpected_response));
    BOOST_TEST(shape.diag.message.find("'models'") != std::string::npos, shape.diag.message);

    auto again = client.models().all();
    auto html = run(io, drain(again));
    BOOST_TEST((html.ec == scenario::client_errc::invalid_json));
    BOOST_TEST(html.diag.body == "<html>oops</html>");
}

BOOST_AUTO_TEST_CASE(a_response_slower_than_the_request_timeout_is_a_timeout_error)
{
    using namespace std::chrono_literals;
    scripted_server server(
        {{200, page_body({"late"}, nullptr), 3s}, {200, page_body({"on time"}, nullptr)}});
    asio::io_context io;
    scenario::client_options options;
    options.base_url = server.base_url();
    options.ca_pem = server.certificate_pem();
    options.request_timeout = 300ms;
    options.retry.max_retries = 0;
    scenario::client client(io, {"key", "secret"}, options);

    auto started = std::chrono::steady_clock::now();
    auto stream = client.models().all();
    auto late = run(io, drain(stream));
    BOOST_TEST((late.ec == boost::beast::error::timeout));
    BOOST_TEST(late.diag.message.find("300 ms") != std::string::npos, late.diag.message);
    BOOST_TEST((std::chrono::steady_clock::now() - started < 2s));
    // The timed-out connection was closed, not reused: the next call gets its own answer.
    BOOST_TEST(client.open_connections() == 0u);
    auto again = run(io, drain(stream));
    BOOST_TEST(!again.ec);
    BOOST_TEST(again.ids == std::vector<std::string>{"on time"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pages_are_fetched_only_when_asked_for)
{
    asio::io_context io;
    auto client = make_client(io);
    auto stream = client.models().all_public({.page_size = 10});
    auto before = shared_api().requests_received();

    run(io, [&]() -> asio::awaitable<void> {
        auto first = co_await stream.next();
        BOOST_TEST(first.has_value());
        BOOST_TEST(shared_api().requests_received() - before == 1u);
        for (int i = 1; i < 10; ++i)
            co_await stream.next();
        BOOST_TEST(shared_api().requests_received() - before == 1u);
        co_await stream.next();
        BOOST_TEST(shared_api().requests_received() - before == 2u);
    }());
}

BOOST_AUTO_TEST_CASE(a_page_stream_sends_the_same_filters_on_every_page)
{
    asio::io_context io;
    auto client = make_client(io);
    auto pages = client.models().public_pages({.tags = "sc:scenario", .page_size = 50});
    std::size_t count = 0;
    std::size_t models = 0;
    auto before = shared_api().received_targets().size();
    run(io, [&]() -> asio::awaitable<void> {
        while (auto page = co_await pages.next())
        {
            ++count;
            models += page->models.size();
            for (auto const& m : page->models)
                BOOST_TEST(m.has_tag("sc:scenario"));
        }
    }());
    BOOST_TEST(pages.done());
    BOOST_TEST(count >= 2u);
    auto targets = shared_api().received_targets();
    for (auto i = targets.size() - count; i < targets.size(); ++i)
        BOOST_TEST(targets[i].find("tags=sc:scenario") != std::string::npos, targets[i]);
    (void)before;
}

BOOST_AUTO_TEST_CASE(prefetch_asks_for_the_next_page_while_the_consumer_holds_one)
{
    using namespace std::chrono_literals;
    asio::io_context io;
    auto client = make_client(io);
    auto pages = client.models().public_pages({.page_size = 100}).prefetch(true);
    auto before = shared_api().requests_received();
    std::vector<std::string> ids;
    std::size_t count = 0;

    run(io, [&]() -> asio::awaitable<void> {
        asio::steady_timer consumer(co_await asio::this_coro::executor);
        while (auto page = co_await pages.next())
        {
            if (++count == 1)
            {
                // The consumer works on page 1; meanwhile page 2 is asked for, and only it.
                consumer.expires_after(300ms);
                co_await consumer.async_wait(asio::use_awaitable);
                BOOST_TEST(shared_api().requests_received() - before == 2u);
            }
            for (auto const& m : page->models)
                ids.push_back(m.id);
        }
    }());

    std::vector<std::string> catalogue;
    for (auto const& row : shared_api().public_catalogue())
        catalogue.emplace_back(row.at("id").as_string());
    BOOST_TEST(ids == catalogue, boost::test_tools::per_element());
    BOOST_TEST(pages.done());
    BOOST_TEST(shared_api().requests_received() - before == count); // none past the last page
}

BOOST_AUTO_TEST_CASE(a_failed_prefetched_page_is_reported_by_next_and_asked_for_again)
{
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {503, R"({"reason": "try later"})"},
        {200, page_body({"b"}, nullptr)},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto stream = client.models().all().prefetch(true);

    // The failed page was asked for ahead, before the consumer wanted it.
    std::optional<scenario::error_code> got_first;
    stream.next([&](scenario::error_code ec, std::optional<scenario::model>) { got_first = ec; });
    while (!got_first && io.run_one_for(std::chrono::seconds(5)) != 0)
        ;
    io.run_for(std::chrono::milliseconds(200));
    BOOST_TEST(server.targets().size() == 2u);

    auto first = run(io, drain(stream));
    first.ids.insert(first.ids.begin(), "a");
    BOOST_TEST(scenario::http_status(first.ec) == 503u);
    BOOST_TEST(first.diag.server_reason == "try later");
    BOOST_TEST(first.ids == std::vector<std::string>{"a"}, boost::test_tools::per_element());
    BOOST_TEST(stream.pages().resume_token() == "t1");

    auto second = run(io, drain(stream));
    BOOST_TEST(!second.ec);
    BOOST_TEST(second.ids == std::vector<std::string>{"b"}, boost::test_tools::per_element());
    auto targets = server.targets();
    BOOST_TEST_REQUIRE(targets.size() == 3u);
    BOOST_TEST(targets[1] == "/v1/models?paginationToken=t1");
    BOOST_TEST(targets[2] == "/v1/models?paginationToken=t1");
}

BOOST_AUTO_TEST_CASE(destroying_a_stream_cancels_the_page_it_fetches_ahead)
{
    using namespace std::chrono_literals;
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {200, page_body({"b"}, nullptr), 5s},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    {
        auto pages = client.models().pages().prefetch(true);
        // Only until the first page is here: `run` would wait for the prefetch too.
        std::optional<scenario::error_code> first;
        pages.next([&](scenario::error_code ec, std::optional<scenario::model_page>) { first = ec; });
        while (!first && io.run_one_for(5s) != 0)
            ;
        BOOST_TEST_REQUIRE(first.has_value());
        BOOST_TEST(!*first);
        io.run_for(200ms); // the second request is out, its answer 5 s away
        BOOST_TEST(server.targets().size() == 2u);
        BOOST_TEST(client.open_connections() == 1u);
        BOOST_TEST(client.idle_connections() == 0u);
    }
    auto const started = std::chrono::steady_clock::now();
    io.restart();
    io.run_for(3s); // returns as soon as the cancelled fetch has ended
    BOOST_TEST((std::chrono::steady_clock::now() - started < 2s));
    BOOST_TEST(client.open_connections() == 0u); // its connection closed, not pooled
}

BOOST_AUTO_TEST_CASE(cancelling_a_next_that_waits_for_a_prefetch_cancels_the_prefetch)
{
    using namespace std::chrono_literals;
    using namespace asio::experimental::awaitable_operators;
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {200, page_body({"late"}, nullptr), 3s},
        {200, page_body({"b"}, nullptr)},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto pages = client.models().pages().prefetch(true);

    auto outcome = run(io, [&]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> seen;
        auto first = co_await pages.next();
        seen.push_back(first->models.at(0).id);
        asio::steady_timer timeout(co_await asio::this_coro::executor, 200ms);
        auto raced = co_await (pages.next() || timeout.async_wait(asio::use_awaitable));
        seen.push_back(raced.index() == 1 ? "timed out" : "no timeout");
        auto again = co_await pages.next(); // asked for afresh, not the cancelled one
        seen.push_back(again->models.at(0).id);
        co_return seen;
    }());

    BOOST_TEST(
        outcome == (std::vector<std::string>{"a", "timed out", "b"}),
        boost::test_tools::per_element());
    BOOST_TEST(server.targets().size() == 3u);
    BOOST_TEST(pages.done());
}

BOOST_AUTO_TEST_CASE(shutdown_ends_a_next_that_waits_for_a_prefetch)
{
    using namespace std::chrono_literals;
    scripted_server server({
        {200, page_body({"a"}, R"("t1")")},
        {200, page_body({"late"}, nullptr), 3s},
    });
    asio::io_context io;
    auto client = client_for(io, server);
    auto pages = client.models().pages().prefetch(true);
    scenario::diagnostics diag;

    auto const started = std::chrono::steady_clock::now();
    auto ec = run(io, [&]() -> asio::awaitable<scenario::error_code> {
        co_await pages.next();
        asio::steady_timer soon(co_await asio::this_coro::executor, 100ms);
        soon.async_wait([&](scenario::error_code) { client.shutdown(); });
        auto [ec, page] = co_await pages.next(diag, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    }());

    BOOST_TEST((ec == asio::error::operation_aborted));
    BOOST_TEST(diag.message.find("shut down") != std::string::npos, diag.message);
    BOOST_TEST((std::chrono::steady_clock::now() - started < 2s));
}

BOOST_AUTO_TEST_SUITE_END()
