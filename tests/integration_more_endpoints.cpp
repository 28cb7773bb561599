// get_many, update_tags, create and remove against the local API over real TLS on loopback,
// the local API's answers to them, and what the client makes of answers of the wrong shape.
#include "support/calls.hpp"
#include "support/local_api.hpp"
#include "support/run.hpp"
#include "support/scripted_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace scenario_tests;
using namespace std::chrono_literals;
using scenario::model;
using scenario::testing::fault_kind;

namespace {

std::string id_of(boost::json::object const& row)
{
    return std::string(row.at("id").as_string());
}

std::vector<std::string> tags_of(boost::json::object const& row)
{
    std::vector<std::string> tags;
    for (auto const& tag : row.at("tags").as_array())
        tags.emplace_back(tag.as_string());
    return tags;
}

bool contains(std::vector<std::string> const& ids, std::string const& id)
{
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A small local API of its own, for tests that change its fault plan.
scenario::testing::local_api_options small_api()
{
    scenario::testing::local_api_options options;
    options.public_models = 40;
    options.private_models = 3;
    return options;
}

scenario::client client_of(
    asio::io_context& io, scenario::testing::local_api& api, scenario::client_options options)
{
    options.base_url = api.base_url();
    options.ca_pem = api.certificate_pem();
    return scenario::client(io, credentials_for(api), std::move(options));
}

scenario::testing::fault_plan first_request_fails(std::string path_prefix = {})
{
    scenario::testing::fault_rule rule;
    rule.kind = fault_kind::service_unavailable;
    rule.sequence = {1};
    rule.path_prefix = std::move(path_prefix);
    return {{rule}};
}

// The local API's request handling alone, without I/O, for what a client refuses to send.
struct direct_service
{
    scenario::testing::detail::service service{"k", "s", 5, 3, "proj_direct", "user_direct"};
    std::string authorization = "Basic " + scenario::testing::detail::base64_encode("k:s");

    scenario::testing::detail::service_response handle(
        boost::beast::http::verb method, std::string_view target, std::string_view body = {})
    {
        return service.handle(method, target, authorization, body);
    }
};

std::string reason_of(scenario::testing::detail::service_response const& response)
{
    return std::string(boost::json::parse(response.body).at("reason").as_string());
}

} // namespace

BOOST_AUTO_TEST_SUITE(more_endpoints)

BOOST_AUTO_TEST_CASE(get_many_answers_every_position_in_the_order_asked_across_batches)
{
    asio::io_context io;
    auto options = options_for(shared_api());
    options.bulk_batch_size = 3;
    auto client = make_client(io, options);
    auto const shown = shared_api().public_catalogue();
    auto const own = shared_api().private_catalogue();
    std::map<std::string, boost::json::object> rows;
    for (auto const* list : {&shown, &own})
        for (auto const& row : *list)
            rows.emplace(id_of(row), row);

    // 10 positions, 8 distinct ids (2 unknown): 3 requests of at most 3 ids.
    std::vector<std::string> const ids = {
        id_of(shown.at(5)),   "model_unknown-1",    id_of(own.at(2)),  id_of(shown.at(5)),
        id_of(shown.at(100)), id_of(shown.at(147)), "model_unknown-1", "model_unknown-2",
        id_of(own.at(0)),     id_of(shown.at(7))};
    BOOST_TEST_REQUIRE(ids[5] == "community/sd 1.5?inpaint#v2%"); // an id no path could hold
    auto const before = shared_api().requests_received();

    auto found = run(io, client.models().get_many(ids));

    BOOST_TEST(shared_api().requests_received() - before == 3u);
    auto const targets = shared_api().received_targets();
    for (std::size_t k = targets.size() - 3; k < targets.size(); ++k)
        BOOST_TEST(targets[k] == "/v1/models/get-bulk");
    BOOST_TEST_REQUIRE(found.models.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        BOOST_TEST_CONTEXT("position " << i << ", id " << ids[i])
        {
            bool const known = rows.count(ids[i]) == 1;
            BOOST_TEST_REQUIRE(found.models[i].has_value() == known);
            if (known)
            {
                BOOST_TEST(found.models[i]->id == ids[i]);
                BOOST_TEST((found.models[i]->raw == rows.at(ids[i])));
            }
        }
    BOOST_TEST(
        found.missing == (std::vector<std::string>{"model_unknown-1", "model_unknown-2"}),
        boost::test_tools::per_element());
    // The repeated id: the last position keeps the response's arena, the first holds a copy.
    BOOST_TEST((found.models[0]->raw.storage() == boost::json::storage_ptr()));
    BOOST_TEST((found.models[3]->raw.storage() != boost::json::storage_ptr()));
}

BOOST_AUTO_TEST_CASE(get_many_splits_what_one_request_could_not_carry)
{
    asio::io_context io;
    auto const shown = shared_api().public_catalogue();
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 120; ++i)
        ids.push_back(id_of(shown.at(3 * i)));

    // The local API takes at most 100 ids a request: the default batches stay under it.
    auto client = make_client(io);
    auto const before = shared_api().requests_received();
    auto found = run(io, client.models().get_many(ids));
    BOOST_TEST(shared_api().requests_received() - before == 3u);
    BOOST_TEST(found.missing.empty());
    BOOST_TEST_REQUIRE(found.models.size() == ids.size());
    BOOST_TEST(found.models.back()->id == ids.back());

    auto options = options_for(shared_api());
    options.bulk_batch_size = 150;
    auto unbatched = make_client(io, options);
    auto e = failure_of(io, unbatched.models().get_many(ids));
    BOOST_TEST(e.http_status() == 400u);
    BOOST_TEST(
        e.get_diagnostics().server_reason.find("modelIds") != std::string::npos,
        e.get_diagnostics().server_reason);
}

BOOST_AUTO_TEST_CASE(get_many_of_nothing_sends_nothing_and_a_bad_id_is_refused_before_sending)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    auto const before = shared_api().requests_received();

    auto none = run(io, models.get_many({}));
    BOOST_TEST(none.models.empty());
    BOOST_TEST(none.missing.empty());

    std::vector<std::string> const ids = {id_of(shared_api().public_catalogue().at(0)), ""};
    scenario::diagnostics diag;
    auto [ec, found] = run(io, models.get_many(ids, diag, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST((ec == scenario::client_errc::invalid_argument));
    BOOST_TEST(found.models.empty());
    BOOST_TEST(!diag.message.empty());
    BOOST_TEST(shared_api().requests_received() == before);

    BOOST_CHECK_THROW(
        scenario::client(
            io, credentials_for(shared_api()),
            [] {
                auto options = options_for(shared_api());
                options.bulk_batch_size = 0;
                return options;
            }()),
        scenario::error);
}

BOOST_AUTO_TEST_CASE(tags_added_and_deleted_show_in_a_later_get_and_listing)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    auto const own = shared_api().private_catalogue();
    auto const row = *std::find_if(
        own.begin(), own.end(), [](auto const& r) { return !r.at("tags").as_array().empty(); });
    std::string const id = id_of(row);
    auto const original = tags_of(row);
    std::vector<std::string> const add = {"hero", "Night Scene"};
    std::vector<std::string> const remove = {original.at(0), "never-there"};

    auto changed = run(io, models.update_tags(id, {.add = add, .remove = remove}));

    BOOST_TEST(changed.added == add, boost::test_tools::per_element());
    BOOST_TEST(changed.deleted == std::vector<std::string>{original.at(0)});
    auto expected = original;
    expected.erase(expected.begin());
    expected.insert(expected.end(), add.begin(), add.end());
    auto const after = run(io, models.get(id));
    BOOST_TEST(after.tags == expected, boost::test_tools::per_element());
    BOOST_TEST(after.updated_at > std::string(row.at("updatedAt").as_string()));
    auto const tagged = run(io, collect(models.all({.tags = "Night Scene"})));
    BOOST_TEST(tagged == std::vector<std::string>{id}, boost::test_tools::per_element());

    // Strict: a change that does not apply as asked is refused whole.
    std::vector<std::string> const hero = {"hero"};
    auto e = failure_of(io, models.update_tags(id, {.add = hero, .strict = true}));
    BOOST_TEST(e.http_status() == 400u);
    std::vector<std::string> const missing = {"hero", "never-there"};
    e = failure_of(io, models.update_tags(id, {.remove = missing, .strict = true}));
    BOOST_TEST(e.http_status() == 400u);
    BOOST_TEST(
        e.get_diagnostics().server_reason.find("never-there") != std::string::npos,
        e.get_diagnostics().server_reason);
    BOOST_TEST(run(io, models.get(id)).tags == expected, boost::test_tools::per_element());

    auto strict = run(io, models.update_tags(id, {.remove = hero, .strict = true}));
    BOOST_TEST(strict.deleted == hero);
    BOOST_TEST(strict.added.empty());

    // Back as it was, but for the order of the tags and updatedAt.
    std::vector<std::string> const first = {original.at(0)};
    std::vector<std::string> const night = {"Night Scene"};
    run(io, models.update_tags(id, {.add = first, .remove = night}));
    auto restored = run(io, models.get(id)).tags;
    auto sorted = original;
    std::sort(restored.begin(), restored.end());
    std::sort(sorted.begin(), sorted.end());
    BOOST_TEST(restored == sorted, boost::test_tools::per_element());

    // Public models belong to someone else.
    auto foreign = failure_of(
        io, models.update_tags(id_of(shared_api().public_catalogue().at(0)), {.add = hero}));
    BOOST_TEST(foreign.http_status() == 403u);
}

BOOST_AUTO_TEST_CASE(a_created_model_is_read_listed_and_removed)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    std::string const name = "\xf0\x9f\x8e\xa8 Props LoRA";
    boost::json::object const more = {{"parameters", {{"maxTrainSteps", 500}}}};
    scenario::model_spec const spec{
        .name = name,
        .short_description = "Barrels, crates and lanterns.",
        .type = "flux.1-lora",
        .more_fields = &more};

    auto const created = run(io, models.create(spec));

    BOOST_TEST(created.id.starts_with("model_"));
    BOOST_TEST(created.id.size() == 28u);
    BOOST_TEST(
        created.id.find_first_not_of(
            "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 6) == std::string::npos);
    BOOST_TEST((created.name == name));
    BOOST_TEST((created.short_description == "Barrels, crates and lanterns."));
    BOOST_TEST(created.type == "flux.1-lora");
    BOOST_TEST(created.privacy == "private");
    BOOST_TEST(created.status == "new");
    BOOST_TEST(created.raw.at("parameters").at("maxTrainSteps").to_number<int>() == 500);
    BOOST_TEST(shared_api().received_targets().back() == "/v1/models");

    BOOST_TEST((run(io, models.get(created.id)).raw == created.raw));
    auto listed = run(io, collect(models.all({.page_size = 7})));
    BOOST_TEST_REQUIRE(!listed.empty());
    BOOST_TEST(listed.back() == created.id);
    std::vector<std::string> const just_it = {created.id};
    BOOST_TEST(run(io, models.get_many(just_it)).missing.empty());

    run(io, models.remove(created.id));

    BOOST_TEST(shared_api().received_targets().back() == "/v1/models/" + created.id);
    BOOST_TEST(failure_of(io, models.get(created.id)).http_status() == 404u);
    scenario::diagnostics diag;
    auto [ec] = run(io, models.remove(created.id, diag, asio::as_tuple(asio::use_awaitable)));
    BOOST_TEST(scenario::http_status(ec) == 404u);
    BOOST_TEST(diag.server_reason == "Model " + created.id + " not found");
    BOOST_TEST(!contains(run(io, collect(models.all())), created.id));
    BOOST_TEST(run(io, models.get_many(just_it)).missing == just_it);
}

BOOST_AUTO_TEST_CASE(an_over_long_name_or_description_is_refused_before_sending)
{
    asio::io_context io;
    auto client = make_client(io);
    auto models = client.models();
    std::string const long_name(65, 'n');
    std::string const long_summary(257, 's');
    boost::json::object const more = {{"name", long_name}};
    auto const before = shared_api().requests_received();

    auto e = failure_of(io, models.create({.name = long_name, .type = "flux.1-lora"}));
    BOOST_TEST((e.code() == scenario::client_errc::invalid_argument));
    std::string const what = e.what();
    BOOST_TEST(what.find("name is 65 characters") != std::string::npos, what);
    BOOST_TEST(what.find("at most 64") != std::string::npos, what);
    e = failure_of(io, models.create({.name = "ok", .short_description = long_summary}));
    BOOST_TEST((e.code() == scenario::client_errc::invalid_argument));
    e = failure_of(io, models.create({.more_fields = &more}));
    BOOST_TEST((e.code() == scenario::client_errc::invalid_argument));

    BOOST_TEST(shared_api().requests_received() == before);

    // Characters, not bytes: 64 two-byte characters pass, on both sides.
    std::string accented;
    for (int i = 0; i < 64; ++i)
        accented += "\xc3\xa9";
    auto const created = run(io, models.create({.name = accented}));
    BOOST_TEST((created.name == accented));
    run(io, models.remove(created.id));
}

BOOST_AUTO_TEST_CASE(the_local_api_refuses_what_the_service_refuses)
{
    using boost::beast::http::verb;
    direct_service api;
    auto const public_id =
        api.service.models().models(scenario::testing::detail::model_privacy::public_models)[0].id;
    auto const own_id = api.service.private_models().at(0)->id;

    std::vector<std::string> const refused = {
        R"({"name": ")" + std::string(65, 'n') + R"("})",
        R"({"shortDescription": ")" + std::string(257, 's') + R"("})",
        R"({"name": 12})",
        R"({"tags": [""]})",
        R"({"parameters": []})",
        R"([])"};
    for (auto const& body : refused)
        BOOST_TEST_CONTEXT("body " << body)
        {
            auto const answer = api.handle(verb::post, "/v1/models", body);
            BOOST_TEST(answer.status == 400u);
            BOOST_TEST(!reason_of(answer).empty());
        }
    BOOST_TEST(
        reason_of(api.handle(verb::post, "/v1/models", R"({"name": 1})")) ==
        "name must be a string");
    BOOST_TEST(api.service.private_models().size() == 3u);

    auto tags = [&](std::string const& id, std::string_view body) {
        return api.handle(verb::put, "/v1/models/" + id + "/tags", body);
    };
    BOOST_TEST(tags(public_id, R"({"add": ["x"]})").status == 403u);
    BOOST_TEST(tags(own_id, R"({"add": ["x"], "delete": ["x"]})").status == 400u);
    BOOST_TEST(tags(own_id, R"({"add": "x"})").status == 400u);
    BOOST_TEST(tags(own_id, R"({"strict": "yes"})").status == 400u);
    BOOST_TEST(tags("model_none", R"({"add": ["x"]})").status == 404u);

    BOOST_TEST(api.handle(verb::delete_, "/v1/models/model_none").status == 404u);
    BOOST_TEST(api.handle(verb::delete_, "/v1/models/" + public_id).status == 403u);
    auto const deleted = api.handle(verb::delete_, "/v1/models/" + own_id);
    BOOST_TEST(deleted.status == 204u);
    BOOST_TEST(deleted.body.empty());
    BOOST_TEST(api.handle(verb::get, "/v1/models/" + own_id).status == 404u);
    BOOST_TEST(api.service.private_models().size() == 2u);

    boost::json::array many;
    for (int i = 0; i < 101; ++i)
        many.emplace_back(public_id);
    auto const bulk = boost::json::serialize(boost::json::object{{"modelIds", many}});
    BOOST_TEST(api.handle(verb::post, "/v1/models/get-bulk", bulk).status == 400u);
    many.pop_back();
    auto const hundred = boost::json::serialize(boost::json::object{{"modelIds", many}});
    auto const answer = api.handle(verb::post, "/v1/models/get-bulk", hundred);
    BOOST_TEST(answer.status == 200u);
    BOOST_TEST(boost::json::parse(answer.body).at("models").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(create_and_strict_tags_are_not_retried_after_a_503_the_others_are)
{
    scenario::testing::local_api api(small_api());
    asio::io_context io;
    scenario::client_options options;
    options.retry.initial_backoff = 1ms;
    auto client = client_of(io, api, options);
    auto models = client.models();
    std::string const own = id_of(api.private_catalogue().at(0));
    std::vector<std::string> const ids = {
        id_of(api.public_catalogue().at(0)), id_of(api.public_catalogue().at(1))};
    std::vector<std::string> const hero = {"hero"};

    // Each call meets one 503 on its first request; the difference is what comes next.
    auto sent_by = [&](auto call) {
        api.set_fault_plan(first_request_fails());
        auto const before = api.requests_received();
        call();
        return api.requests_received() - before;
    };

    BOOST_TEST(sent_by([&] {
                   auto e = failure_of(io, models.create({.name = "Once", .type = "flux.1-lora"}));
                   BOOST_TEST(e.http_status() == 503u);
               }) == 1u);
    BOOST_TEST(api.private_catalogue().size() == 3u);

    BOOST_TEST(sent_by([&] {
                   auto e = failure_of(io, models.update_tags(own, {.add = hero, .strict = true}));
                   BOOST_TEST(e.http_status() == 503u);
               }) == 1u);

    BOOST_TEST(sent_by([&] {
                   auto found = run(io, models.get_many(ids));
                   BOOST_TEST(found.missing.empty());
                   BOOST_TEST(found.models.size() == 2u);
               }) == 2u);

    BOOST_TEST(sent_by([&] {
                   auto changed = run(io, models.update_tags(own, {.add = hero}));
                   BOOST_TEST(changed.added == hero);
               }) == 2u);

    auto created = run(io, models.create({.name = "Doomed"}));
    BOOST_TEST(sent_by([&] { run(io, models.remove(created.id)); }) == 2u);
    BOOST_TEST(api.private_catalogue().size() == 3u);
    BOOST_TEST(api.faults_injected() == 5u);
}

BOOST_AUTO_TEST_CASE(one_deadline_bounds_every_batch_and_cancelling_sends_no_later_batch)
{
    auto settings = small_api();
    scenario::testing::fault_rule stall;
    stall.kind = fault_kind::stall;
    stall.every = 1;
    stall.delay = 300ms;
    stall.path_prefix = "/v1/models/get-bulk";
    settings.faults.rules = {stall};
    scenario::testing::local_api api(settings);
    asio::io_context io;
    scenario::client_options options;
    options.bulk_batch_size = 1;
    auto client = client_of(io, api, options);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 4; ++i)
        ids.push_back(id_of(api.public_catalogue().at(i)));

    // Four batches of 300 ms each: within 3 s, not within 700 ms, though each batch would be.
    auto found = run(io, client.models({.call_timeout = 3s}).get_many(ids));
    BOOST_TEST(found.missing.empty());

    auto const started = std::chrono::steady_clock::now();
    auto e = failure_of(io, client.models({.call_timeout = 700ms}).get_many(ids));
    BOOST_TEST((e.code() == boost::beast::error::timeout), e.what());
    BOOST_TEST((std::chrono::steady_clock::now() - started < 1100ms));

    using namespace asio::experimental::awaitable_operators;
    auto const before = api.requests_received();
    auto models = client.models();
    auto raced = run(io, [&]() -> asio::awaitable<bool> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 450ms);
        auto winner = co_await (models.get_many(ids) || timer.async_wait(asio::use_awaitable));
        co_return winner.index() == 1;
    }());
    BOOST_TEST(raced);
    io.restart();
    io.run_for(700ms); // time enough for a third batch, were one sent
    BOOST_TEST(api.requests_received() - before == 2u);
}

BOOST_AUTO_TEST_CASE(answers_of_the_wrong_shape_are_typed_errors_that_name_the_field)
{
    scripted_server server({
        {200, R"({"deleted": true})"},
        {200, ""},
        {204, ""},
        {200, "<html>gone</html>", {}, "text/html"},
        {200, R"({"added": ["a"]})"},
        {200, R"({"added": "a", "deleted": []})"},
        {200, R"({"model": []})"},
        {200, R"({"models": []})"},
    });
    asio::io_context io;
    scenario::client_options options;
    options.base_url = server.base_url();
    options.ca_pem = server.certificate_pem();
    options.retry.max_retries = 0; // each scripted answer is the one the test checks
    scenario::client client(io, {"key", "secret"}, options);
    auto models = client.models();

    // A deletion's answer may be empty or any JSON, not text that is not JSON.
    run(io, models.remove("model_a"));
    run(io, models.remove("model_b"));
    run(io, models.remove("model_c"));
    auto e = failure_of(io, models.remove("model_d"));
    BOOST_TEST((e.code() == scenario::client_errc::invalid_json));

    std::vector<std::string> const tag = {"a"};
    std::vector<std::string> const ids = {"model_a"};
    struct expectation
    {
        scenario::error error;
        char const* field;
    };
    expectation const cases[] = {
        {failure_of(io, models.update_tags("model_e", {.add = tag})), "'deleted'"},
        {failure_of(io, models.update_tags("model_f", {.add = tag})), "'added'"},
        {failure_of(io, models.get_many(ids)), "'models'"},
        {failure_of(io, models.create({.name = "x"})), "'model'"},
    };
    for (auto const& c : cases)
        BOOST_TEST_CONTEXT("expecting " << c.field)
        {
            BOOST_TEST((c.error.code() == scenario::client_errc::unexpected_response));
            std::string const what = c.error.what();
            BOOST_TEST(what.find(c.field) != std::string::npos, what);
        }

    auto const targets = server.targets();
    BOOST_TEST_REQUIRE(targets.size() == 8u);
    BOOST_TEST(targets[0] == "/v1/models/model_a");
    BOOST_TEST(targets[4] == "/v1/models/model_e/tags");
    BOOST_TEST(targets[6] == "/v1/models/get-bulk");
    BOOST_TEST(targets[7] == "/v1/models");
}

BOOST_AUTO_TEST_SUITE_END()
