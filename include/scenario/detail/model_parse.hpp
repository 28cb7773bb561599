#ifndef SCENARIO_DETAIL_MODEL_PARSE_HPP
#define SCENARIO_DETAIL_MODEL_PARSE_HPP

#include <scenario/error.hpp>
#include <scenario/model.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <cmath>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>

namespace scenario::detail {

// Reads JSON fields into typed members. The first mismatch is kept with the field's name, so
// the error says which field of which object was wrong; later reads are then skipped.
class field_reader
{
public:
    field_reader(boost::json::object const& object, std::string context)
        : object_(object)
        , context_(std::move(context))
    {}

    bool failed() const noexcept
    {
        return !problem_.empty();
    }

    std::string const& problem() const noexcept
    {
        return problem_;
    }

    // Absent and null leave `out` as it is; a present value of another type is an error.
    template <class T>
    void read(std::string_view key, T& out)
    {
        auto const* value = find(key);
        if (value != nullptr && !assign(*value, out))
            fail(key, expected_name(out));
    }

    template <class T>
    void read(std::string_view key, std::optional<T>& out)
    {
        auto const* value = find(key);
        if (value == nullptr)
            return;
        T converted{};
        if (!assign(*value, converted))
            return fail(key, expected_name(converted));
        out = std::move(converted);
    }

    // JSON kept as JSON is copy-constructed, so the copy lives in the source's memory resource
    // (a response's arena) instead of being rebuilt node by node with the default allocator.
    void read(std::string_view key, std::optional<boost::json::value>& out)
    {
        if (auto const* value = find(key))
            out.emplace(*value);
    }

    template <class Json>
    requires std::same_as<Json, boost::json::array> || std::same_as<Json, boost::json::object>
    void read(std::string_view key, std::optional<Json>& out)
    {
        auto const* value = find(key);
        if (value == nullptr)
            return;
        Json const* json = nullptr;
        if constexpr (std::same_as<Json, boost::json::array>)
            json = value->if_array();
        else
            json = value->if_object();
        if (json == nullptr)
            return fail(key, expected_name(Json{}));
        out.emplace(*json);
    }

    // Checks that the field, if present, is an array of strings, copying nothing.
    void check_strings(std::string_view key)
    {
        auto const* value = find(key);
        if (value == nullptr)
            return;
        bool fine = value->is_array();
        if (fine)
            for (auto const& item : value->get_array())
                fine = fine && item.is_string();
        if (!fine)
            fail(key, "an array of strings");
    }

    void require(std::string_view key, std::string& out)
    {
        if (find(key) == nullptr && !failed())
            return fail(key, "a string, and it is missing");
        read(key, out);
    }

private:
    boost::json::value const* find(std::string_view key) const
    {
        if (failed())
            return nullptr;
        auto const* value = object_.if_contains(key);
        return value == nullptr || value->is_null() ? nullptr : value;
    }

    void fail(std::string_view key, std::string_view expected)
    {
        problem_ =
            "field '" + std::string(key) + "' of " + context_ + " is not " + std::string(expected);
    }

    static bool assign(boost::json::value const& v, std::string& out)
    {
        if (!v.is_string())
            return false;
        out.assign(v.get_string().data(), v.get_string().size());
        return true;
    }

    static bool assign(boost::json::value const& v, bool& out)
    {
        if (!v.is_bool())
            return false;
        out = v.get_bool();
        return true;
    }

    static bool assign(boost::json::value const& v, std::int64_t& out)
    {
        if (v.is_int64())
            out = v.get_int64();
        else if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX))
            out = static_cast<std::int64_t>(v.get_uint64());
        else if (v.is_double() && is_whole_int64(v.get_double()))
            out = static_cast<std::int64_t>(v.get_double());
        else
            return false;
        return true;
    }

    // Whether `d` is a whole number in the range of int64: checked before any cast, since
    // casting a double beyond that range is undefined behaviour.
    static bool is_whole_int64(double d) noexcept
    {
        constexpr double limit = 9223372036854775808.0; // 2^63
        return d >= -limit && d < limit && d == std::trunc(d);
    }

    static bool assign(boost::json::value const& v, double& out)
    {
        if (!v.is_number())
            return false;
        out = v.to_number<double>();
        return std::isfinite(out); // a number beyond a double's range parses as infinity
    }

    static bool assign(boost::json::value const& v, std::vector<std::string>& out)
    {
        if (!v.is_array())
            return false;
        out.clear();
        out.reserve(v.get_array().size());
        for (auto const& item : v.get_array())
        {
            if (!item.is_string())
                return false;
            out.emplace_back(item.get_string());
        }
        return true;
    }

    static bool assign(boost::json::value const& v, boost::json::array& out)
    {
        if (!v.is_array())
            return false;
        out = v.get_array();
        return true;
    }

    static bool assign(boost::json::value const& v, boost::json::object& out)
    {
        if (!v.is_object())
            return false;
        out = v.get_object();
        return true;
    }

    static bool assign(boost::json::value const& v, boost::json::value& out)
    {
        out = v;
        return true;
    }

    static bool assign(boost::json::value const& v, model_thumbnail& out)
    {
        if (!v.is_object())
            return false;
        field_reader fields(v.get_object(), "thumbnail");
        fields.read("assetId", out.asset_id);
        fields.read("url", out.url);
        return !fields.failed();
    }

    static bool assign(boost::json::value const& v, std::vector<model_concept>& out)
    {
        if (!v.is_array())
            return false;
        out.clear();
        for (auto const& item : v.get_array())
        {
            if (!item.is_object())
                return false;
            field_reader fields(item.get_object(), "concept");
            model_concept& c = out.emplace_back();
            fields.read("modelId", c.model_id);
            fields.read("scale", c.scale);
            if (fields.failed() || !assign_epoch(item.get_object(), c.model_epoch))
                return false;
        }
        return true;
    }

    // Epochs are zero-padded strings ("000010"); a plain number names the same epoch.
    static bool assign_epoch(boost::json::object const& entry, std::optional<std::string>& out)
    {
        auto const* epoch = entry.if_contains("modelEpoch");
        if (epoch == nullptr || epoch->is_null())
            return true;
        std::int64_t number = 0;
        if (epoch->is_string())
            out.emplace(epoch->get_string());
        else if (assign(*epoch, number))
            out = std::to_string(number);
        else
            return false;
        return true;
    }

    static char const* expected_name(std::string const&)
    {
        return "a string";
    }
    static char const* expected_name(bool)
    {
        return "a boolean";
    }
    static char const* expected_name(std::int64_t)
    {
        return "an integer";
    }
    static char const* expected_name(double)
    {
        return "a finite number";
    }
    static char const* expected_name(std::vector<std::string> const&)
    {
        return "an array of strings";
    }
    static char const* expected_name(boost::json::array const&)
    {
        return "an array";
    }
    static char const* expected_name(boost::json::object const&)
    {
        return "an object";
    }
    static char const* expected_name(boost::json::value const&)
    {
        return "JSON";
    }
    static char const* expected_name(model_thumbnail const&)
    {
        return "an object of strings assetId and url";
    }
    static char const* expected_name(std::vector<model_concept> const&)
    {
        return "an array of {modelId, scale, modelEpoch}";
    }

    boost::json::object const& object_;
    std::string context_;
    std::string problem_;
};

// Fills the typed fields of `out` from `out.raw`; on a mismatch returns false with `problem`
// naming the field. `out` is constructed around its object (`model(object)`): an assignment
// would copy the object out of its response's arena.
inline bool read_model(model& out, std::string& problem)
{
    auto const& object = out.raw;
    std::string context = "a model";
    if (auto const* id = object.if_contains("id"); id != nullptr && id->is_string())
        context = "model '" + std::string(id->get_string().subview(0, 100)) + "'";

    field_reader f(object, std::move(context));
    f.require("id", out.id);
    f.read("capabilities", out.capabilities);
    f.read("collectionIds", out.collection_ids);
    f.read("createdAt", out.created_at);
    f.read("custom", out.custom);
    f.check_strings("exampleAssetIds"); // read through model::example_asset_ids()
    f.read("privacy", out.privacy);
    f.read("source", out.source);
    f.read("status", out.status);
    f.read("tags", out.tags);
    f.read("trainingImagesNumber", out.training_images_number);
    f.read("type", out.type);
    f.read("updatedAt", out.updated_at);

    f.read("name", out.name);
    f.read("shortDescription", out.short_description);
    f.read("authorId", out.author_id);
    f.read("ownerId", out.owner_id);
    f.read("userId", out.user_id);
    f.read("accessRestrictions", out.access_restrictions);
    f.read("thumbnail", out.thumbnail);
    f.read("concepts", out.concepts);
    f.read("compliantModelIds", out.compliant_model_ids);
    f.read("parentModelId", out.parent_model_id);
    f.read("softDeletionOn", out.soft_deletion_on);
    f.read("trainingImages", out.training_images);
    f.read("trainingImagePairs", out.training_image_pairs);
    f.read("trainingProgress", out.training_progress);
    f.read("parameters", out.parameters);
    f.read("complianceMetadata", out.compliance_metadata);
    f.read("epoch", out.epoch);
    f.read("epochs", out.epochs);
    f.read("class", out.model_class);
    f.read("trainingStats", out.training_stats);
    f.read("performanceStats", out.performance_stats);
    f.read("inputs", out.inputs);
    f.read("uiConfig", out.ui_config);

    if (f.failed())
        problem = f.problem();
    return !f.failed();
}

// Where a parsed value has an object whose text repeated a key, as a JSON pointer ("" for the
// value itself); none if no object did. Boost.JSON keeps the last of repeated keys, and sizes
// a parsed object's table to the pairs of its text, so an object holding fewer entries than
// its capacity had duplicates (a unit test keeps watch, should Boost.JSON change that).
inline std::optional<std::string> find_repeated_keys(boost::json::value const& value)
{
    if (auto const* object = value.if_object())
    {
        if (object->size() != object->capacity())
            return std::string();
        for (auto const& item : *object)
            if (item.value().is_structured())
                if (auto inner = find_repeated_keys(item.value()))
                    return "/" + std::string(item.key()) + *inner;
    }
    else if (auto const* array = value.if_array())
    {
        for (std::size_t i = 0; i < array->size(); ++i)
            if ((*array)[i].is_structured())
                if (auto inner = find_repeated_keys((*array)[i]))
                    return "/" + std::to_string(i) + *inner;
    }
    return std::nullopt;
}

// Parses a response body as JSON into an arena of its own: one allocation or a few instead of
// one per string, array and object, and nothing to free node by node. Every model of a page
// shares its page's arena through `model::raw`, so the arena lives as long as the last of
// them. On failure returns null and says why in `problem`.
inline boost::json::value parse_body(std::string_view body, std::string& problem)
{
    // The first block is sized for one and a half times the text; should the parsed value
    // need more, later blocks grow geometrically.
    auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>(
        body.size() + body.size() / 2 + 1024);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(body, ec, std::move(arena));
    if (ec)
    {
        problem = "the response body is not valid JSON (" + ec.message() + "); it begins '";
        append_printable(problem, body, 60);
        problem += "'";
    }
    else if (auto where = find_repeated_keys(parsed))
    {
        // Readers disagree on which of the two counts; this client takes neither.
        problem = "the response body has an object with a duplicate key, at '";
        append_printable(problem, where->empty() ? "/" : *where, 100);
        problem += "'";
        return boost::json::value();
    }
    return parsed;
}

// The models of a `models` array, each constructed around its object so that it stays in
// the response's arena.
inline error_code read_model_rows(
    boost::json::array& rows, std::vector<model>& out, std::string& problem)
{
    out.clear();
    out.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
    {
        if (!rows[i].is_object())
        {
            problem = "entry " + std::to_string(i) + " of 'models' is not an object";
            return client_errc::unexpected_response;
        }
        auto& row = out.emplace_back(std::move(rows[i].get_object()));
        if (!read_model(row, problem))
            return client_errc::unexpected_response;
    }
    return {};
}

// `{"models": [...], "nextPaginationToken": "..."}`. Absent, null and "" tokens all end.
inline error_code read_page(boost::json::value body, model_page& out, std::string& problem)
{
    auto* envelope = body.if_object();
    auto* models = envelope != nullptr ? envelope->if_contains("models") : nullptr;
    if (models == nullptr || !models->is_array())
    {
        problem = "the listing response has no 'models' array";
        return client_errc::unexpected_response;
    }

    out.next_pagination_token.reset();
    if (auto const* token = envelope->if_contains("nextPaginationToken"))
    {
        if (token->is_string())
        {
            if (!token->get_string().empty())
                out.next_pagination_token.emplace(token->get_string());
        }
        else if (!token->is_null())
        {
            problem = "field 'nextPaginationToken' of the listing response is not a string";
            return client_errc::unexpected_response;
        }
    }

    return read_model_rows(models->get_array(), out.models, problem);
}

// `{"models": [...]}` of `POST /models/get-bulk`.
inline error_code read_bulk(boost::json::value body, std::vector<model>& out, std::string& problem)
{
    auto* envelope = body.if_object();
    auto* models = envelope != nullptr ? envelope->if_contains("models") : nullptr;
    if (models == nullptr || !models->is_array())
    {
        problem = "the get-bulk response has no 'models' array";
        return client_errc::unexpected_response;
    }
    return read_model_rows(models->get_array(), out, problem);
}

// `{"added": [...], "deleted": [...]}` of `PUT /models/{id}/tags`; both are required.
inline error_code read_tag_update(
    boost::json::value body, tag_update_result& out, std::string& problem)
{
    auto* envelope = body.if_object();
    if (envelope == nullptr)
    {
        problem = "the tags response is not a JSON object";
        return client_errc::unexpected_response;
    }
    for (char const* key : {"added", "deleted"})
    {
        if (!envelope->contains(key))
        {
            problem = std::string("the tags response has no '") + key + "' array";
            return client_errc::unexpected_response;
        }
    }
    field_reader f(*envelope, "the tags response");
    f.read("added", out.added);
    f.read("deleted", out.deleted);
    if (f.failed())
    {
        problem = f.problem();
        return client_errc::unexpected_response;
    }
    return {};
}

// `{"model": {...}}`.
inline error_code read_single_model(
    boost::json::value body, std::optional<model>& out, std::string& problem)
{
    auto* envelope = body.if_object();
    auto* object = envelope != nullptr ? envelope->if_contains("model") : nullptr;
    if (object == nullptr || !object->is_object())
    {
        problem = "the response has no 'model' object";
        return client_errc::unexpected_response;
    }
    auto& read = out.emplace(std::move(object->get_object()));
    if (!read_model(read, problem))
        return client_errc::unexpected_response;
    return {};
}

// `{"description": {"value": ..., "assets": [...], "models": [...]}}`; null or absent is none.
inline error_code read_description(
    boost::json::value body, model_description& out, std::string& problem)
{
    auto* envelope = body.if_object();
    if (envelope == nullptr)
    {
        problem = "the description response is not a JSON object";
        return client_errc::unexpected_response;
    }
    out = {};
    auto* description = envelope->if_contains("description");
    if (description == nullptr || description->is_null())
        return {};
    if (description->is_string())
    {
        out.value = description->get_string();
        return {};
    }
    if (!description->is_object())
    {
        problem = "field 'description' of the response is not an object";
        return client_errc::unexpected_response;
    }
    field_reader f(description->get_object(), "the description");
    f.read("value", out.value);
    f.read("assets", out.assets);
    f.read("models", out.models);
    if (f.failed())
    {
        problem = f.problem();
        return client_errc::unexpected_response;
    }
    out.raw = std::move(description->get_object());
    return {};
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_MODEL_PARSE_HPP
