// scenario_bench: this library on the benchmark workloads, through its public API only.
//
//     scenario_bench --base-url URL --ca-file PEM --key K --secret S --workload get|pages
//                    --concurrency N --pool N --count N [--page-size N] [--ids FILE]
//                    [--consume-ms N] [--prefetch 0|1]
//
// Prints one JSON line of results (see peers/peer_common.hpp and benchmarks/README.md).

#include "peers/peer_common.hpp"

#include <scenario.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;

namespace {

constexpr std::string_view client_name = "scenario-cpp";

/// One of the `concurrency` callers of the get workload: GETs until `count` have been started.
asio::awaitable<void> get_models(
    scenario::client& client, bench::peer_options const& options,
    std::vector<std::string> const& ids, std::size_t& started, bench::results& results)
{
    auto models = client.models();
    while (started < options.count)
    {
        auto const& id = ids[started++ % ids.size()];
        auto const start = bench::clock::now();
        try
        {
            auto const model = co_await models.get(id);
            results.checksum += model.id.size();
            ++results.requests;
        }
        catch (scenario::error const& failure)
        {
            results.add_error(failure.what());
        }
        results.add_latency(bench::clock::now() - start);
    }
}

/// The pages workload as users read a listing, model by model: a page is fetched when its
/// first model is asked for, so that model's wait is the page's latency.
asio::awaitable<void> stream_models(
    scenario::client& client, bench::peer_options const& options, bench::results& results)
{
    auto stream = client.models().all_public({.page_size = options.page_size});
    while (results.models < options.count)
    {
        auto const start = bench::clock::now();
        auto const model = co_await stream.next();
        if (!model)
            break;
        if (results.models % options.page_size == 0)
        {
            results.add_latency(bench::clock::now() - start);
            ++results.pages;
            ++results.requests;
        }
        ++results.models;
        results.checksum += model->id.size();
    }
}

/// The pages workload with a consumer that spends `consume` on each page (awaiting, as a
/// consumer that writes the page somewhere would): a page's latency is how long the consumer
/// waited for it.
asio::awaitable<void> consume_pages(
    scenario::client& client, bench::peer_options const& options, bench::results& results)
{
    // With --prefetch 1 the next page is on its way while the consumer works on this one.
    auto pages =
        client.models().public_pages({.page_size = options.page_size}).prefetch(options.prefetch);
    asio::steady_timer consumer(co_await asio::this_coro::executor);
    while (results.models < options.count)
    {
        auto const start = bench::clock::now();
        auto const page = co_await pages.next();
        if (!page)
            break;
        results.add_latency(bench::clock::now() - start);
        ++results.pages;
        ++results.requests;
        for (auto const& model : page->models)
        {
            if (results.models == options.count)
                break;
            ++results.models;
            results.checksum += model.id.size();
        }

        consumer.expires_after(options.consume);
        co_await consumer.async_wait(asio::use_awaitable);
    }
}

} // namespace

int main(int argc, char** argv)
{
    bench::peer_options options;
    try
    {
        options = bench::parse_options(argc, argv);
    }
    catch (std::invalid_argument const& failure)
    {
        std::cerr << client_name << ": " << failure.what() << '\n';
        return 1;
    }
    try
    {
        asio::io_context io(1);
        scenario::client_options settings;
        settings.base_url = options.base_url;
        settings.ca_file = options.ca_file;
        settings.max_connections = options.pool;
        scenario::client client(io, {options.key, options.secret}, settings);
        auto const ids = options.workload == "get" ? bench::read_ids(options.ids_file)
                                                   : std::vector<std::string>{};

        std::exception_ptr failure;
        auto remember = [&](std::exception_ptr e) {
            if (e && !failure)
                failure = e;
        };
        bench::results results;
        std::size_t started = 0;
        results.start();
        if (options.workload == "get")
        {
            for (std::size_t i = 0; i < options.concurrency; ++i)
                asio::co_spawn(io, get_models(client, options, ids, started, results), remember);
        }
        else if (options.consume.count() > 0)
            asio::co_spawn(io, consume_pages(client, options, results), remember);
        else
            asio::co_spawn(io, stream_models(client, options, results), remember);
        io.run();
        results.stop();
        if (failure)
            std::rethrow_exception(failure);

        results.handshakes = client.handshakes();
        bench::print_results(client_name, options, results);
        return results.errors == 0 ? 0 : 2;
    }
    catch (std::exception const& failure)
    {
        std::cerr << client_name << ": " << failure.what() << '\n';
        return 2;
    }
}
