// JSON into the typed model and page: every field, absent optionals, unknown fields, errors.
#include <scenario/detail/model_parse.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace scenario;

namespace {

char const* const full_model = R"({
  "id": "model_abc",
  "capabilities": ["txt2img", "img2img"],
  "collectionIds": ["col_1"],
  "createdAt": "2026-04-22T08:57:03.106Z",
  "custom": true,
  "exampleAssetIds": ["asset_1", "asset_2"],
  "privacy": "public",
  "source": "scenario",
  "status": "trained",
  "tags": ["sc:scenario", "Image to 3D"],
  "trainingImagesNumber": 12,
  "type": "flux.1-lora",
  "updatedAt": "2026-04-23T08:57:03.106Z",
  "name": "Painter \ud83c\udfa8 \u00e9",
  "shortDescription": "short",
  "authorId": "user_1",
  "ownerId": "proj_1",
  "userId": "user_1",
  "accessRestrictions": 25,
  "thumbnail": {"assetId": "asset_t", "url": "https://cdn/x.png"},
  "concepts": [{"modelId": "model_c", "scale": 0.75, "modelEpoch": 3},
               {"modelId": "model_e", "scale": 1, "modelEpoch": "000010"},
               {"modelId": "model_f", "scale": 1}],
  "compliantModelIds": ["model_d"],
  "parentModelId": "model_p",
  "softDeletionOn": "2027-01-01T00:00:00.000Z",
  "trainingImages": [{"id": "ti_1"}],
  "trainingImagePairs": [],
  "trainingProgress": {},
  "parameters": {"seed": 1},
  "complianceMetadata": {"modelProvider": "acme"},
  "epoch": "000010",
  "epochs": [{"epoch": "000010"}],
  "class": {"category": "art"},
  "trainingStats": {"steps": 10},
  "performanceStats": {"p50": 1.5},
  "inputs": [{"name": "prompt"}],
  "uiConfig": {"layout": "x"},
  "brandNewField": {"nested": [1, 2, 3]}
})";

error_code parse_model(std::string_view text, model& out, std::string& problem)
{
    out = model(boost::json::parse(text).as_object());
    return detail::read_model(out, problem) ? error_code{}
                                            : make_error_code(client_errc::unexpected_response);
}

} // namespace

BOOST_AUTO_TEST_SUITE(model_parsing)

BOOST_AUTO_TEST_CASE(every_documented_field_is_read)
{
    model m;
    std::string problem;
    BOOST_TEST_REQUIRE(!parse_model(full_model, m, problem), problem);

    BOOST_TEST(m.id == "model_abc");
    BOOST_TEST((m.capabilities == std::vector<std::string>{"txt2img", "img2img"}));
    BOOST_TEST((m.collection_ids == std::vector<std::string>{"col_1"}));
    BOOST_TEST(m.created_at == "2026-04-22T08:57:03.106Z");
    BOOST_TEST(m.custom);
    auto const assets = m.example_asset_ids();
    BOOST_TEST_REQUIRE(assets.size() == 2u);
    BOOST_TEST(assets[1] == "asset_2");
    BOOST_TEST((assets.to_vector() == std::vector<std::string>{"asset_1", "asset_2"}));
    BOOST_TEST(m.privacy == "public");
    BOOST_TEST(m.source == "scenario");
    BOOST_TEST(m.status == "trained");
    BOOST_TEST(m.has_tag("Image to 3D"));
    BOOST_TEST(!m.has_tag("image to 3d"));
    BOOST_TEST(m.training_images_number == 12);
    BOOST_TEST(m.type == "flux.1-lora");
    BOOST_TEST(m.updated_at == "2026-04-23T08:57:03.106Z");
    BOOST_TEST(*m.short_description == "short");
    BOOST_TEST(*m.author_id == "user_1");
    BOOST_TEST(*m.owner_id == "proj_1");
    BOOST_TEST(*m.user_id == "user_1");
    BOOST_TEST(*m.access_restrictions == 25);
    BOOST_TEST(m.thumbnail->asset_id == "asset_t");
    BOOST_TEST(m.thumbnail->url == "https://cdn/x.png");
    BOOST_TEST_REQUIRE(m.concepts->size() == 3u);
    BOOST_TEST((*m.concepts)[0].model_id == "model_c");
    BOOST_TEST((*m.concepts)[0].scale == 0.75);
    BOOST_TEST(*(*m.concepts)[0].model_epoch == "3");
    BOOST_TEST(*(*m.concepts)[1].model_epoch == "000010");
    BOOST_TEST(!(*m.concepts)[2].model_epoch);
    BOOST_TEST((*m.compliant_model_ids == std::vector<std::string>{"model_d"}));
    BOOST_TEST(*m.parent_model_id == "model_p");
    BOOST_TEST(*m.soft_deletion_on == "2027-01-01T00:00:00.000Z");
    BOOST_TEST(m.training_images->size() == 1u);
    BOOST_TEST(m.training_image_pairs->empty());
    BOOST_TEST(m.training_progress->empty());
    BOOST_TEST(m.parameters->at("seed").as_int64() == 1);
    BOOST_TEST(m.compliance_metadata->at("modelProvider").as_string() == "acme");
    BOOST_TEST(m.epoch->as_string() == "000010");
    BOOST_TEST(m.epochs->is_array());
    BOOST_TEST(m.model_class->at("category").as_string() == "art");
    BOOST_TEST(m.training_stats->is_object());
    BOOST_TEST(m.performance_stats->is_object());
    BOOST_TEST(m.inputs->size() == 1u);
    BOOST_TEST(m.ui_config->contains("layout"));
}

BOOST_AUTO_TEST_CASE(surrogate_pair_emoji_become_utf8)
{
    model m;
    std::string problem;
    BOOST_TEST_REQUIRE(!parse_model(full_model, m, problem), problem);
    // U+1F3A8 ARTIST PALETTE and U+00E9, from \ud83c\udfa8 and \u00e9.
    BOOST_TEST(*m.name == "Painter \xf0\x9f\x8e\xa8 \xc3\xa9");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_kept_in_raw)
{
    model m;
    std::string problem;
    BOOST_TEST_REQUIRE(!parse_model(full_model, m, problem), problem);
    BOOST_TEST_REQUIRE(m.raw.contains("brandNewField"));
    BOOST_TEST(boost::json::serialize(m.raw.at("brandNewField")) == R"({"nested":[1,2,3]})");
    BOOST_TEST(m.raw == boost::json::parse(full_model).as_object());
}

BOOST_AUTO_TEST_CASE(absent_and_null_optionals_stay_empty)
{
    model m;
    std::string problem;
    BOOST_TEST_REQUIRE(
        !parse_model(R"({"id": "flux.1-dev", "name": null, "thumbnail": null})", m, problem),
        problem);
    BOOST_TEST(m.id == "flux.1-dev");
    BOOST_TEST(!m.name);
    BOOST_TEST(!m.thumbnail);
    BOOST_TEST(!m.access_restrictions);
    BOOST_TEST(!m.concepts);
    BOOST_TEST(!m.inputs);
    BOOST_TEST(m.tags.empty());
    BOOST_TEST(!m.custom);
}

BOOST_AUTO_TEST_CASE(a_wrong_type_names_the_field_and_the_model)
{
    std::pair<char const*, char const*> const cases[] = {
        {R"({"id": "m1", "tags": "x"})", "field 'tags' of model 'm1' is not an array of strings"},
        {R"({"id": "m1", "tags": ["a", 1]})", "field 'tags'"},
        {R"({"id": "m1", "exampleAssetIds": ["a", 1]})",
         "field 'exampleAssetIds' of model 'm1' is not an array of strings"},
        {R"({"id": "m1", "exampleAssetIds": {}})", "field 'exampleAssetIds'"},
        {R"({"id": "m1", "custom": "yes"})", "field 'custom' of model 'm1' is not a boolean"},
        {R"({"id": "m1", "trainingImagesNumber": 1.5})", "field 'trainingImagesNumber'"},
        {R"({"id": "m1", "trainingImagesNumber": 18446744073709551615})",
         "field 'trainingImagesNumber'"},
        {R"({"id": "m1", "thumbnail": {"url": 3}})", "field 'thumbnail'"},
        {R"({"id": "m1", "concepts": [{"modelId": 1}]})", "field 'concepts'"},
        {R"({"id": "m1", "concepts": [{"modelId": "x", "modelEpoch": [1]}]})", "field 'concepts'"},
        {R"({"id": "m1", "parameters": []})", "field 'parameters' of model 'm1' is not an object"},
        {R"({"id": 7})", "field 'id' of a model is not a string"},
        {R"({"name": "no id"})", "field 'id' of a model is not a string, and it is missing"},
    };
    for (auto const& [text, expected] : cases)
    {
        BOOST_TEST_CONTEXT("json " << text)
        {
            model m;
            std::string problem;
            auto ec = parse_model(text, m, problem);
            BOOST_TEST((ec == client_errc::unexpected_response));
            BOOST_TEST(problem.find(expected) != std::string::npos, problem);
        }
    }
}

BOOST_AUTO_TEST_CASE(page_tokens_absent_null_and_empty_all_mean_the_end)
{
    std::pair<char const*, std::optional<std::string>> const cases[] = {
        {R"({"models": []})", std::nullopt},
        {R"({"models": [], "nextPaginationToken": null})", std::nullopt},
        {R"({"models": [], "nextPaginationToken": ""})", std::nullopt},
        {R"({"models": [], "nextPaginationToken": "abc"})", std::string("abc")},
    };
    for (auto const& [text, expected] : cases)
    {
        BOOST_TEST_CONTEXT("json " << text)
        {
            model_page page;
            std::string problem;
            BOOST_TEST(!detail::read_page(boost::json::parse(text), page, problem));
            BOOST_TEST((page.next_pagination_token == expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_page_of_the_wrong_shape_is_an_error_that_says_so)
{
    std::pair<char const*, char const*> const cases[] = {
        {R"({"items": []})", "no 'models' array"},
        {R"({"models": {}})", "no 'models' array"},
        {R"([])", "no 'models' array"},
        {R"({"models": [1]})", "entry 0 of 'models' is not an object"},
        {R"({"models": [{"id": "a"}, {"id": "b", "tags": "x"}]})", "field 'tags' of model 'b'"},
        {R"({"models": [], "nextPaginationToken": 5})", "'nextPaginationToken'"},
    };
    for (auto const& [text, expected] : cases)
    {
        BOOST_TEST_CONTEXT("json " << text)
        {
            model_page page;
            std::string problem;
            auto ec = detail::read_page(boost::json::parse(text), page, problem);
            BOOST_TEST((ec == client_errc::unexpected_response));
            BOOST_TEST(problem.find(expected) != std::string::npos, problem);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_page_reads_every_model_in_order)
{
    model_page page;
    std::string problem;
    auto ec = detail::read_page(
        boost::json::parse(R"({"models": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                               "nextPaginationToken": "t"})"),
        page, problem);
    BOOST_TEST_REQUIRE(!ec);
    BOOST_TEST_REQUIRE(page.models.size() == 3u);
    BOOST_TEST(page.models[0].id == "a");
    BOOST_TEST(page.models[2].id == "c");
}

BOOST_AUTO_TEST_CASE(descriptions_read_objects_null_and_missing)
{
    model_description d;
    std::string problem;
    BOOST_TEST(!detail::read_description(
        boost::json::parse(R"({"description": {"value": "# Hi", "assets": [1], "models": []}})"), d,
        problem));
    BOOST_TEST(d.value == "# Hi");
    BOOST_TEST(d.assets.size() == 1u);

    BOOST_TEST(
        !detail::read_description(boost::json::parse(R"({"description": null})"), d, problem));
    BOOST_TEST(d.value.empty());

    auto ec = detail::read_description(boost::json::parse(R"({"description": 3})"), d, problem);
    BOOST_TEST((ec == client_errc::unexpected_response));
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_json_are_reported)
{
    std::string problem;
    BOOST_TEST(detail::parse_body("<html>502 Bad Gateway</html>", problem).is_null());
    BOOST_TEST(problem.find("not valid JSON") != std::string::npos);
    problem.clear();
    BOOST_TEST(detail::parse_body(R"({"a":1})", problem).at("a") == 1);
    BOOST_TEST(problem.empty());
}

// Readers disagree on which of two equal keys counts, so a body with one is refused, wherever
// the object lies, small or large (Boost.JSON indexes objects of many keys by hash).
BOOST_AUTO_TEST_CASE(duplicate_keys_anywhere_are_refused_with_their_place)
{
    auto object_of = [](std::size_t keys, bool repeat) {
        std::string text = "{";
        for (std::size_t i = 0; i < keys; ++i)
            text += (i ? "," : "") + ("\"k" + std::to_string(i) + "\": " + std::to_string(i));
        return text + (repeat ? ", \"k0\": 0}" : "}");
    };
    for (std::size_t keys : {1u, 5u, 17u, 18u, 19u, 40u, 300u})
    {
        BOOST_TEST_CONTEXT("an object of " << keys << " keys")
        {
            std::string problem;
            auto const clean = "{\"models\": [{}, " + object_of(keys, false) + "]}";
            BOOST_TEST(!detail::parse_body(clean, problem).is_null());
            BOOST_TEST(problem.empty(), problem);

            auto const repeated = "{\"models\": [{}, {\"x\": " + object_of(keys, true) + "}]}";
            BOOST_TEST(detail::parse_body(repeated, problem).is_null());
            BOOST_TEST(problem.find("duplicate key") != std::string::npos, problem);
            BOOST_TEST(problem.find("'/models/1/x'") != std::string::npos, problem);
        }
    }
    std::string problem;
    BOOST_TEST(detail::parse_body(R"({"a": 1, "a": 1})", problem).is_null());
    BOOST_TEST(problem.find("at '/'") != std::string::npos, problem);

    // Nothing else is mistaken for a repeat: a whole model, as the service sends it.
    problem.clear();
    BOOST_TEST(!detail::parse_body(std::string("{\"model\": ") + full_model + "}", problem)
                    .is_null());
    BOOST_TEST(problem.empty(), problem);
}

// A page is parsed into one arena that its models share, JSON-typed fields included; nothing
// of it is copied out into the default allocator on the way to the caller.
BOOST_AUTO_TEST_CASE(a_pages_models_share_the_arena_their_body_was_parsed_into)
{
    std::string problem;
    auto body = detail::parse_body(
        R"({"models": [{"id": "a", "parameters": {"seed": 1}, "inputs": [1]},
                       {"id": "b", "epochs": [{"epoch": "000010"}]}]})",
        problem);
    BOOST_TEST_REQUIRE(problem.empty());
    auto const arena = body.storage();
    BOOST_TEST((arena != boost::json::storage_ptr()));

    model_page page;
    BOOST_TEST_REQUIRE(!detail::read_page(std::move(body), page, problem));
    BOOST_TEST_REQUIRE(page.models.size() == 2u);
    auto const& a = page.models[0];
    BOOST_TEST((a.raw.storage() == arena));
    BOOST_TEST((page.models[1].raw.storage() == arena));
    BOOST_TEST_REQUIRE(a.parameters.has_value());
    BOOST_TEST((a.parameters->storage() == arena));
    BOOST_TEST((a.inputs->storage() == arena));
    BOOST_TEST((page.models[1].epochs->storage() == arena));

    // Moving the page, as every call's result is moved to its caller, keeps the arena.
    model_page moved = std::move(page);
    BOOST_TEST((moved.models[0].raw.storage() == arena));
    BOOST_TEST(moved.models[0].parameters->at("seed") == 1);
}

BOOST_AUTO_TEST_CASE(example_asset_ids_read_raw_and_survive_moves_and_copies)
{
    model m;
    std::string problem;
    BOOST_TEST_REQUIRE(
        !parse_model(R"({"id": "m", "exampleAssetIds": ["x", "y", "z"]})", m, problem));
    model copy = m;
    model moved = std::move(m);
    std::vector<std::string_view> seen;
    for (auto id : copy.example_asset_ids())
        seen.push_back(id);
    BOOST_TEST((seen == std::vector<std::string_view>{"x", "y", "z"}));
    BOOST_TEST(moved.example_asset_ids()[2] == "z");

    // Absent, or changed by the caller into something else: empty, never a crash.
    model bare;
    BOOST_TEST(bare.example_asset_ids().empty());
    BOOST_TEST((bare.example_asset_ids().begin() == bare.example_asset_ids().end()));
    copy.raw["exampleAssetIds"] = boost::json::array{1, "b"};
    BOOST_TEST(copy.example_asset_ids()[0].empty());
    BOOST_TEST(copy.example_asset_ids()[1] == "b");
    copy.raw["exampleAssetIds"] = "not a list";
    BOOST_TEST(copy.example_asset_ids().size() == 0u);
}

// Copies hold their JSON on the heap, not in the source's arena; moves keep the arena, by
// construction and by assignment (Boost.JSON's own move assignment would copy into the old
// arena, which never shrinks: a loop `m = next()` would grow it with every model).
BOOST_AUTO_TEST_CASE(copies_leave_the_arena_and_moves_keep_it)
{
    std::string problem;
    auto body = detail::parse_body(std::string(R"({"models": [)") + full_model + "]}", problem);
    auto const arena = body.storage();
    model_page page;
    BOOST_TEST_REQUIRE(!detail::read_page(std::move(body), page, problem), problem);
    model const& m = page.models.at(0);

    model copy = m;
    auto on_heap = [](boost::json::storage_ptr const& sp) {
        return sp == boost::json::storage_ptr();
    };
    BOOST_TEST(on_heap(copy.raw.storage()));
    BOOST_TEST((copy.raw == m.raw));
    // Every field, typed or JSON, is copied.
    BOOST_TEST(copy.id == m.id);
    BOOST_TEST((copy.capabilities == m.capabilities));
    BOOST_TEST((copy.collection_ids == m.collection_ids));
    BOOST_TEST(copy.created_at == m.created_at);
    BOOST_TEST(copy.custom == m.custom);
    BOOST_TEST(copy.privacy == m.privacy);
    BOOST_TEST(copy.source == m.source);
    BOOST_TEST(copy.status == m.status);
    BOOST_TEST((copy.tags == m.tags));
    BOOST_TEST(copy.training_images_number == m.training_images_number);
    BOOST_TEST(copy.type == m.type);
    BOOST_TEST(copy.updated_at == m.updated_at);
    BOOST_TEST((copy.name == m.name));
    BOOST_TEST((copy.short_description == m.short_description));
    BOOST_TEST((copy.author_id == m.author_id));
    BOOST_TEST((copy.owner_id == m.owner_id));
    BOOST_TEST((copy.user_id == m.user_id));
    BOOST_TEST((copy.access_restrictions == m.access_restrictions));
    BOOST_TEST(copy.thumbnail->url == m.thumbnail->url);
    BOOST_TEST(copy.concepts->size() == m.concepts->size());
    BOOST_TEST((copy.compliant_model_ids == m.compliant_model_ids));
    BOOST_TEST((copy.parent_model_id == m.parent_model_id));
    BOOST_TEST((copy.soft_deletion_on == m.soft_deletion_on));
    auto same_on_heap = [&](auto const& a, auto const& b) {
        return a.has_value() && b.has_value() && *a == *b && on_heap(a->storage()) &&
               b->storage() == arena;
    };
    BOOST_TEST(same_on_heap(copy.training_images, m.training_images));
    BOOST_TEST(same_on_heap(copy.training_image_pairs, m.training_image_pairs));
    BOOST_TEST(same_on_heap(copy.training_progress, m.training_progress));
    BOOST_TEST(same_on_heap(copy.parameters, m.parameters));
    BOOST_TEST(same_on_heap(copy.compliance_metadata, m.compliance_metadata));
    BOOST_TEST(same_on_heap(copy.epoch, m.epoch));
    BOOST_TEST(same_on_heap(copy.epochs, m.epochs));
    BOOST_TEST(same_on_heap(copy.model_class, m.model_class));
    BOOST_TEST(same_on_heap(copy.training_stats, m.training_stats));
    BOOST_TEST(same_on_heap(copy.performance_stats, m.performance_stats));
    BOOST_TEST(same_on_heap(copy.inputs, m.inputs));
    BOOST_TEST(same_on_heap(copy.ui_config, m.ui_config));

    // Assigning a model of another page takes that page's arena; the old one is let go.
    auto other_body = detail::parse_body(R"({"models": [{"id": "b", "parameters": {}}]})", problem);
    auto const other_arena = other_body.storage();
    model_page other;
    BOOST_TEST_REQUIRE(!detail::read_page(std::move(other_body), other, problem));
    std::optional<model> held = std::move(page.models.at(0));
    BOOST_TEST((held->raw.storage() == arena));
    held = std::move(other.models.at(0));
    BOOST_TEST((held->raw.storage() == other_arena));
    BOOST_TEST((held->parameters->storage() == other_arena));
    BOOST_TEST(held->id == "b");

    copy = *held; // copy assignment: onto the heap again
    BOOST_TEST(on_heap(copy.raw.storage()));
    BOOST_TEST(copy.id == "b");
}

BOOST_AUTO_TEST_SUITE_END()
