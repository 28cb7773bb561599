// Every models endpoint against the local API over real TLS on loopback.
#include "support/calls.hpp"
#include "support/local_api.hpp"
#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>

namespace asio = boost::asio;
using namespace scenario_tests;
using scenario::list_params;
using scenario::model;
using scenario::model_page;

namespace {

std::vector<std::string> ids_of(std::vector<boost::json::object> const& rows)
{
    std::vector<std::string> ids;
    for (auto const& row : rows)
        ids.emplace_back(row.at("id").as_string());
    return ids;
}

std::vector<std::string> ids_of(std::vector<model> const& models)
{
    std::vector<std::string> ids;
    for (auto const& m : models)
        ids.push_back(m.id);
    return ids;
}

std::vector<std::string> public_ids_with_any_tag(std::vector<std::string> const& tags)
{
    std::vector<std::string> ids;
    for (auto const& row : shared_api().public_catalogue())
    {
        bool match = false;
        for (auto const& tag : row.at("tags").as_array())
            match = match || std::find(tags.begin(), tags.end(), tag.as_string()) != tags.end();
        if (match)
            ids.emplace_back(row.at("id").as_string());
    }
    return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(models_api)

BOOST_AUTO_TEST_CASE(the_design_line_compiles_and_works_as_written)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    auto [own, shared] = run(io, [&]() -> asio::awaitable<std::pair<model_page, model_page>> {
        auto own = co_await models.list({.tags = "sc:third-party"});
        auto shared = co_await models.list({.tags = "sc:third-party", .privacy = "public"});
        co_return std::pair{std::move(own), std::move(shared)};
    }());

    // The caller's own models are the default listing; the test account has none of that tag.
    BOOST_TEST(own.models.empty());
    auto targets = shared_api().received_targets();
    BOOST_TEST_REQUIRE(targets.size() >= 2u);
    BOOST_TEST(targets[targets.size() - 2] == "/v1/models?tags=sc:third-party");

    auto expected = public_ids_with_any_tag({"sc:third-party"});
    expected.resize(100);
    BOOST_TEST(ids_of(shared.models) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(list_public_returns_the_first_page_in_catalogue_order)
{
    asio::io_context io;
    auto client = make_client(io);
    auto page = run(io, client.models().list_public({.page_size = 25}));
    auto expected = ids_of(shared_api().public_catalogue());
    expected.resize(25);
    BOOST_TEST(ids_of(page.models) == expected, boost::test_tools::per_element());
    BOOST_TEST(page.next_pagination_token.has_value());
}

BOOST_AUTO_TEST_CASE(the_default_page_holds_one_hundred_models)
{
    asio::io_context io;
    auto client = make_client(io);
    auto page = run(io, client.models().list({.privacy = "public"}));
    BOOST_TEST(page.models.size() == 100u);
}

BOOST_AUTO_TEST_CASE(paging_returns_exactly_the_catalogue_for_every_page_size)
{
    asio::io_context io;
    auto client = make_client(io);
    auto expected = ids_of(shared_api().public_catalogue());
    for (unsigned page_size : {7u, 100u, 333u, 500u})
    {
        BOOST_TEST_CONTEXT("page size " << page_size)
        {
            auto ids = run(io, collect(client.models().all_public({.page_size = page_size})));
            BOOST_TEST(ids == expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_own_listing_returns_exactly_the_private_catalogue)
{
    asio::io_context io;
    auto client = make_client(io);
    auto ids = run(io, collect(client.models().all({.page_size = 9})));
    auto expected = ids_of(shared_api().private_catalogue());
    BOOST_TEST(!expected.empty());
    BOOST_TEST(ids == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(tag_filters_are_exact)
{
    asio::io_context io;
    auto client = make_client(io);
    std::vector<std::vector<std::string>> const filters = {
        {"sc:scenario"}, {"sc:third-party"}, {"sc:featured"}, {"sc:scenario", "sc:featured"},
        {"SC:SCENARIO"}, {"sc:scen"}};
    for (auto const& tags : filters)
    {
        std::string joined;
        for (auto const& tag : tags)
            joined += (joined.empty() ? "" : ",") + tag;
        BOOST_TEST_CONTEXT("tags " << joined)
        {
            auto ids =
                run(io, collect(client.models().all_public({.tags = joined, .page_size = 200})));
            BOOST_TEST(ids == public_ids_with_any_tag(tags), boost::test_tools::per_element());
        }
    }
    BOOST_TEST(!public_ids_with_any_tag({"sc:scenario"}).empty());
    BOOST_TEST(public_ids_with_any_tag({"SC:SCENARIO"}).empty());
}

BOOST_AUTO_TEST_CASE(a_tag_with_spaces_and_capitals_is_matched_exactly)
{
    asio::io_context io;
    auto client = make_client(io);
    auto ids = run(io, collect(client.models().all_public({.tags = "Image to 3D"})));
    BOOST_TEST(ids == public_ids_with_any_tag({"Image to 3D"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(get_returns_the_model_as_listed)
{
    asio::io_context io;
    auto client = make_client(io);
    auto row = shared_api().public_catalogue().at(3);
    std::string id(row.at("id").as_string());
    auto m = run(io, client.models().get(id));
    BOOST_TEST(m.id == id);
    for (auto const& [key, value] : row)
        BOOST_TEST_CONTEXT("field " << key)
        {
            BOOST_TEST_REQUIRE(m.raw.contains(key));
            BOOST_TEST((m.raw.at(key) == value));
        }
}

BOOST_AUTO_TEST_CASE(get_of_a_custom_model_carries_inputs_and_ui_config)
{
    asio::io_context io;
    auto client = make_client(io);
    auto rows = shared_api().private_catalogue();
    auto custom = std::find_if(
        rows.begin(), rows.end(), [](auto const& row) { return row.at("custom").as_bool(); });
    BOOST_TEST_REQUIRE((custom != rows.end()));
    auto m = run(io, client.models().get(std::string(custom->at("id").as_string())));
    BOOST_TEST(m.custom);
    BOOST_TEST(m.inputs.has_value());
    BOOST_TEST(m.ui_config.has_value());
}

BOOST_AUTO_TEST_CASE(an_unknown_id_is_a_typed_404_with_the_reason)
{
    asio::io_context io;
    auto client = make_client(io);
    auto e = failure_of(io, client.models().get("model_does-not-exist"));
    BOOST_TEST(e.http_status() == 404u);
    BOOST_TEST((e.code() == scenario::make_http_error(404)));
    BOOST_TEST(e.get_diagnostics().server_reason == "Model model_does-not-exist not found");
    BOOST_TEST(!e.get_diagnostics().request_id.empty());
    BOOST_TEST(e.get_diagnostics().body.find("reason") != std::string::npos);
    std::string what = e.what();
    BOOST_TEST(what.find("HTTP 404") != std::string::npos, what);
    BOOST_TEST(what.find("Model model_does-not-exist not found") != std::string::npos, what);
}

BOOST_AUTO_TEST_CASE(a_wrong_secret_is_a_typed_401_that_never_shows_the_secret)
{
    asio::io_context io;
    std::string const wrong = "wrong-secret-do-not-print";
    scenario::client client(io, {shared_api().api_key(), wrong}, options_for(shared_api()));
    auto e = failure_of(io, client.models().list_public());
    BOOST_TEST(e.http_status() == 401u);
    BOOST_TEST(!e.get_diagnostics().server_reason.empty());
    std::string what = e.what();
    BOOST_TEST(what.find("SCENARIO_API_SECRET") != std::string::npos, what);
    BOOST_TEST(what.find(wrong) == std::string::npos, what);
    BOOST_TEST(e.get_diagnostics().body.find(wrong) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_out_of_range_page_size_is_a_typed_400)
{
    asio::io_context io;
    auto client = make_client(io);
    for (unsigned size : {0u, 501u})
        BOOST_TEST_CONTEXT("page size " << size)
        {
            auto e = failure_of(io, client.models().list_public({.page_size = size}));
            BOOST_TEST(e.http_status() == 400u);
            BOOST_TEST(e.get_diagnostics().server_reason.find("pageSize") != std::string::npos);
        }
}

BOOST_AUTO_TEST_CASE(the_default_project_goes_with_every_call_and_a_foreign_one_is_a_403)
{
    asio::io_context io;
    auto options = options_for(shared_api());
    options.project_id = shared_api().project_id();
    auto client = make_client(io, options);
    auto page = run(io, client.models().list_public({.page_size = 2}));
    BOOST_TEST(page.models.size() == 2u);
    auto targets = shared_api().received_targets();
    BOOST_TEST(
        targets.back() == "/v1/models/public?pageSize=2&projectId=" + shared_api().project_id());

    options.project_id = "proj_someone-else";
    auto foreign = make_client(io, options);
    auto e = failure_of(
        io, foreign.models().get(
                std::string(shared_api().private_catalogue().at(0).at("id").as_string())));
    BOOST_TEST(e.http_status() == 403u);
    BOOST_TEST(!e.get_diagnostics().server_reason.empty());
    BOOST_TEST(std::string(e.what()).find("project") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_CASE(an_empty_model_id_is_refused_before_sending)
{
    asio::io_context io;
    auto client = make_client(io);
    auto before = shared_api().requests_received();
    for (char const* id : {"", ".", ".."})
        BOOST_TEST_CONTEXT("id '" << id << "'")
        {
            auto e = failure_of(io, client.models().get(id));
            BOOST_TEST((e.code() == scenario::client_errc::invalid_argument));
            auto d = failure_of(io, client.models().set_description(id, "x"));
            BOOST_TEST((d.code() == scenario::client_errc::invalid_argument));
        }
    BOOST_TEST(shared_api().requests_received() == before);
}

BOOST_AUTO_TEST_CASE(an_id_with_reserved_characters_reaches_the_server_as_one_segment)
{
    asio::io_context io;
    auto client = make_client(io);
    auto e = failure_of(io, client.models().get("a/b c?d#e%"));
    BOOST_TEST(e.http_status() == 404u);
    BOOST_TEST(e.get_diagnostics().server_reason == "Model a/b c?d#e% not found");
    auto targets = shared_api().received_targets();
    BOOST_TEST(
        (std::find(targets.begin(), targets.end(), "/v1/models/a%2Fb%20c%3Fd%23e%25") !=
         targets.end()));
}

BOOST_AUTO_TEST_CASE(a_description_is_set_read_and_deleted)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    std::string id(shared_api().private_catalogue().at(0).at("id").as_string());
    std::string const text = "# Painter \xf0\x9f\x8e\xa8\n\nLine \"two\" & more";

    auto set = run(io, models.set_description(id, text));
    BOOST_TEST(set.value == text);
    auto read = run(io, models.get_description(id));
    BOOST_TEST(read.value == text);

    auto deleted = run(io, models.delete_description(id));
    BOOST_TEST(deleted.value.empty());
    BOOST_TEST(run(io, models.get_description(id)).value.empty());
}

BOOST_AUTO_TEST_CASE(calls_take_callbacks_futures_and_as_tuple)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    std::string id(shared_api().public_catalogue().at(0).at("id").as_string());

    scenario::error_code callback_ec = asio::error::would_block;
    model callback_model;
    models.get(id, [&](scenario::error_code ec, model m) {
        callback_ec = ec;
        callback_model = std::move(m);
    });

    scenario::diagnostics diag;
    scenario::error_code missing_ec;
    models.get("model_missing", diag, [&](scenario::error_code ec, model) { missing_ec = ec; });

    auto future = models.list_public({.page_size = 2}, asio::use_future);
    io.run_for(std::chrono::seconds(30));

    BOOST_TEST(!callback_ec);
    BOOST_TEST(callback_model.id == id);
    BOOST_TEST(scenario::http_status(missing_ec) == 404u);
    BOOST_TEST(diag.http_status == 404u);
    BOOST_TEST(diag.server_reason == "Model model_missing not found");
    BOOST_TEST(future.get().models.size() == 2u);

    auto [ec, page] =
        run(io, models.list_public({.page_size = 3}, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST(!ec);
    BOOST_TEST(page.models.size() == 3u);
}

// Each response is parsed into an arena of its own; results must reach the caller without
// being copied out of it (a copy would allocate every node again, and silently).
BOOST_AUTO_TEST_CASE(results_reach_the_caller_in_their_responses_arena)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    std::string id(shared_api().public_catalogue().at(0).at("id").as_string());
    auto const general = boost::json::storage_ptr();
    auto in_an_arena = [&](model const& m) { return m.raw.storage() != general; };

    auto page = run(io, models.list_public({.page_size = 5}));
    BOOST_TEST_REQUIRE(page.models.size() == 5u);
    for (auto const& m : page.models)
        BOOST_TEST((m.raw.storage() == page.models[0].raw.storage()));
    BOOST_TEST(in_an_arena(page.models[0]));

    BOOST_TEST(in_an_arena(run(io, models.get(id))));
    auto [ec, tupled] = run(io, models.get(id, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST(in_an_arena(tupled));

    auto streamed = run(io, [&]() -> asio::awaitable<std::optional<model>> {
        auto stream = models.all_public({.page_size = 3});
        co_return co_await stream.next();
    }());
    BOOST_TEST_REQUIRE(streamed.has_value());
    BOOST_TEST(in_an_arena(*streamed));
}

BOOST_AUTO_TEST_SUITE_END()
