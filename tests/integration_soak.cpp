// A soak: many thousands of calls on one thread at high concurrency while the local API injects
// a random tenth of faults. Nothing may be lost, answered twice, or different from a fault-free
// run, the pool must end with every slot free, and memory must stay flat.
#include "support/local_api.hpp"
#include "support/run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace asio = boost::asio;
using namespace scenario_tests;
using namespace std::chrono_literals;
using scenario::error_code;
using scenario::testing::fault_kind;
using scenario::testing::fault_rule;

namespace {

// Calls made, from SCENARIO_SOAK_CALLS; 20,000 by default.
std::size_t soak_calls()
{
    if (char const* text = std::getenv("SCENARIO_SOAK_CALLS"))
        return std::strtoull(text, nullptr, 10);
    return 20000;
}

std::size_t resident_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtoull(line.c_str() + 6, nullptr, 10);
    return 0;
}

std::size_t peak_kib()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::size_t>(usage.ru_maxrss);
}

// A tenth of the requests hit one fault or another, drawn from a fixed seed.
scenario::testing::fault_plan a_tenth_of_faults()
{
    auto share = [](fault_kind kind, double p) {
        fault_rule rule;
        rule.kind = kind;
        rule.share = p;
        rule.retry_after_seconds = 0;
        rule.delay = 30ms;
        return rule;
    };
    scenario::testing::fault_plan plan;
    plan.seed = 20261203;
    plan.rules = {
        share(fault_kind::service_unavailable, 0.015),
        share(fault_kind::bad_gateway, 0.01),
        share(fault_kind::too_many_requests, 0.01),
        share(fault_kind::too_many_requests_body, 0.005),
        share(fault_kind::close_after_response, 0.015),
        share(fault_kind::connection_close, 0.01),
        share(fault_kind::reset_mid_headers, 0.01),
        share(fault_kind::reset_mid_body, 0.01),
        share(fault_kind::truncated_body, 0.01),
        share(fault_kind::stall, 0.005),
    };
    return plan;
}

struct tally
{
    std::size_t calls = 0;
    std::size_t failures = 0;
    std::size_t wrong = 0;
    std::size_t attempts = 0; // requests sent, retries and replays included
    std::size_t requests = 0; // requests asked for: pages and gets
    std::vector<unsigned> completions; // per call: how many times it completed
};

} // namespace

BOOST_AUTO_TEST_SUITE(soak)

BOOST_AUTO_TEST_CASE(twenty_thousand_calls_at_concurrency_200_with_a_tenth_of_faults)
{
    scenario::testing::local_api_options api_options;
    api_options.public_models = 500;
    api_options.private_models = 1;
    scenario::testing::local_api api(api_options);
    std::vector<std::string> catalogue;
    std::unordered_map<std::string, std::string> names;
    for (auto const& row : api.public_catalogue())
    {
        catalogue.emplace_back(row.at("id").as_string());
        auto const* name = row.if_contains("name");
        names[catalogue.back()] = name != nullptr ? std::string(name->as_string()) : "";
    }

    asio::io_context io(1);
    auto options = options_for(api);
    options.retry.max_retries = 8;
    options.retry.initial_backoff = 1ms;
    options.retry.max_backoff = 50ms;
    options.request_timeout = 10s;
    scenario::client client(io, credentials_for(api), options);
    api.set_fault_plan(a_tenth_of_faults());

    std::size_t const total = soak_calls();
    std::size_t const concurrency = 200;
    std::size_t const listing_every = 50; // one call in 50 lists the whole catalogue
    tally result;
    result.completions.assign(total, 0);
    std::size_t next = 0;
    std::size_t listings = 0;
    std::size_t rss_early = 0;
    auto const start = std::chrono::steady_clock::now();

    auto worker = [&]() -> asio::awaitable<void> {
        auto models = client.models();
        while (next < total)
        {
            std::size_t const call = next++;
            if (call == total / 4)
                rss_early = resident_kib();
            scenario::diagnostics diag;
            if (call % listing_every == 0)
            {
                // A whole listing, page by page: it must equal the catalogue exactly.
                ++listings;
                auto pages = models.public_pages({.page_size = 50});
                std::vector<std::string> seen;
                for (;;)
                {
                    auto [ec, page] =
                        co_await pages.next(diag, asio::as_tuple(asio::use_awaitable));
                    result.attempts += diag.attempts;
                    ++result.requests;
                    if (ec)
                    {
                        ++result.failures;
                        BOOST_TEST_MESSAGE(scenario::describe(ec, diag));
                        break;
                    }
                    if (!page)
                        break;
                    for (auto const& m : page->models)
                        seen.push_back(m.id);
                    diag.clear();
                }
                if (seen != catalogue && ++result.wrong <= 5)
                    BOOST_TEST_MESSAGE(
                        "a listing of " << seen.size() << " models instead of "
                                        << catalogue.size());
            }
            else
            {
                auto const& id = catalogue[(call * 7919) % catalogue.size()];
                auto [ec, found] =
                    co_await models.get(id, diag, asio::as_tuple(asio::use_awaitable));
                result.attempts += diag.attempts;
                ++result.requests;
                if (ec)
                {
                    ++result.failures;
                    BOOST_TEST_MESSAGE(scenario::describe(ec, diag));
                }
                else if (found.id != id || found.name.value_or("") != names[id])
                {
                    if (++result.wrong <= 5)
                        BOOST_TEST_MESSAGE(
                            "asked " << id << " (" << names[id] << "), got " << found.id << " ("
                                     << found.name.value_or("") << ")");
                }
            }
            ++result.completions[call];
            ++result.calls;
        }
    };
    auto all = [&]() -> asio::awaitable<void> {
        std::size_t running = concurrency;
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer done(ex, asio::steady_timer::time_point::max());
        for (std::size_t i = 0; i < concurrency; ++i)
            asio::co_spawn(ex, worker(), [&](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
                if (--running == 0)
                    done.cancel();
            });
        co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    run(io, all(), std::chrono::seconds(900));
    auto const wall = std::chrono::steady_clock::now() - start;
    auto const rss_late = resident_kib();
    auto const requests = api.requests_received();
    auto const faults = api.faults_injected();

    BOOST_TEST_MESSAGE(
        "soak: " << result.calls << " calls (" << listings << " whole listings), " << requests
                 << " requests received, " << faults << " faults injected, "
                 << (result.attempts - result.requests) << " retries and replays, "
                 << client.handshakes() << " TLS handshakes, "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()
                 << " ms wall, RSS " << rss_early << " KiB at a quarter, " << rss_late
                 << " KiB at the end, peak " << peak_kib() << " KiB");

    BOOST_TEST(result.calls == total);
    BOOST_TEST(
        std::count(result.completions.begin(), result.completions.end(), 1u) ==
        static_cast<std::ptrdiff_t>(total)); // each call completed exactly once
    BOOST_TEST(result.failures == 0u);
    BOOST_TEST(result.wrong == 0u);
    BOOST_TEST(faults >= requests / 20); // about a tenth, and surely more than a twentieth
    BOOST_TEST(client.open_connections() == client.idle_connections()); // every slot free
    BOOST_TEST(client.open_connections() <= options.max_connections);
    BOOST_TEST(rss_late < rss_early + rss_early / 4); // flat: within a quarter
}

BOOST_AUTO_TEST_SUITE_END()
