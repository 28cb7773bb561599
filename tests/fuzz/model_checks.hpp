// What the harnesses check of a response body read into the typed model: the body goes through
// the client's own reading (as json_reader in model_calls.hpp does it), every typed field is
// compared with the JSON it came from, each model is copied and moved, and models moved out of
// a page are read again after the page and its body are gone.
#ifndef SCENARIO_FUZZ_MODEL_CHECKS_HPP
#define SCENARIO_FUZZ_MODEL_CHECKS_HPP

#include <scenario/detail/model_parse.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Aborts with the condition that failed; libFuzzer keeps the input as a crash.
#define FUZZ_CHECK(condition)                                                                      \
    do                                                                                             \
    {                                                                                              \
        if (!(condition))                                                                          \
            ::scenario_fuzz::check_failed(#condition, __FILE__, __LINE__);                         \
    } while (false)

namespace scenario_fuzz {

namespace json = boost::json;
using scenario::model;

[[noreturn]] inline void check_failed(char const* condition, char const* file, int line)
{
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, condition);
    std::abort();
}

// Reads every byte it is given, so that a view into freed memory shows under ASan.
struct reader
{
    std::size_t sum = 0;

    void add(std::string_view text)
    {
        for (char c : text)
            sum = sum * 31 + static_cast<unsigned char>(c);
    }
    void add(json::value const& v)
    {
        add(json::serialize(v));
    }
    void add(json::array const& v)
    {
        add(json::serialize(v));
    }
    void add(json::object const& v)
    {
        add(json::serialize(v));
    }
    void add(std::vector<std::string> const& items)
    {
        for (auto const& item : items)
            add(item);
    }
    void add(double number)
    {
        sum += std::hash<double>()(number);
    }
    template <class T>
    void add(std::optional<T> const& item)
    {
        if (item)
            add(*item);
    }
};

inline volatile std::size_t sink = 0;

// The field at `key`, or null when it is absent or null: the client reads both alike.
inline json::value const* field(json::object const& object, std::string_view key)
{
    auto const* v = object.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

// The integer a JSON number names: an integral double names one if it is in range.
inline std::optional<std::int64_t> integer_of(json::value const& v)
{
    if (v.is_int64())
        return v.get_int64();
    if (v.is_uint64())
    {
        if (v.get_uint64() > std::uint64_t(INT64_MAX))
            return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double())
    {
        double const d = v.get_double();
        if (!(d >= -0x1p63 && d < 0x1p63) || d != std::trunc(d))
            return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

inline bool same_number(double a, double b)
{
    return a == b || (std::isnan(a) && std::isnan(b));
}

// JSON equality under which NaN equals itself: Boost.JSON 1.81 reads 0e400 as NaN.
inline bool same_json(json::value const& a, json::value const& b);

inline bool same_json(json::array const& a, json::array const& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same_json(a[i], b[i]))
            return false;
    return true;
}

inline bool same_json(json::object const& a, json::object const& b)
{
    if (a.size() != b.size())
        return false;
    for (auto const& item : a)
    {
        auto const* other = b.if_contains(item.key());
        if (other == nullptr || !same_json(item.value(), *other))
            return false;
    }
    return true;
}

inline bool same_json(json::value const& a, json::value const& b)
{
    if (a.is_double() && b.is_double())
        return same_number(a.get_double(), b.get_double());
    if (a.is_array() && b.is_array())
        return same_json(a.get_array(), b.get_array());
    if (a.is_object() && b.is_object())
        return same_json(a.get_object(), b.get_object());
    return a == b;
}

inline void expect(json::object const& raw, std::string_view key, std::string const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? got.empty() : v->is_string() && v->get_string() == got);
}

inline void expect(
    json::object const& raw, std::string_view key, std::optional<std::string> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : v->is_string() && got && v->get_string() == *got);
}

inline void expect(json::object const& raw, std::string_view key, bool got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : v->is_bool() && v->get_bool() == got);
}

inline void expect(json::object const& raw, std::string_view key, double got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(
        v == nullptr ? got == 0 : v->is_number() && same_number(v->to_number<double>(), got));
}

inline void expect(json::object const& raw, std::string_view key, std::int64_t got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? got == 0 : integer_of(*v) == got);
}

inline void expect(
    json::object const& raw, std::string_view key, std::optional<std::int64_t> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : got && integer_of(*v) == *got);
}

inline bool same_strings(json::value const& v, std::vector<std::string> const& got)
{
    if (!v.is_array() || v.get_array().size() != got.size())
        return false;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (!v.get_array()[i].is_string() || v.get_array()[i].get_string() != got[i])
            return false;
    return true;
}

inline void expect(
    json::object const& raw, std::string_view key, std::vector<std::string> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? got.empty() : same_strings(*v, got));
}

inline void expect(
    json::object const& raw, std::string_view key,
    std::optional<std::vector<std::string>> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : got && same_strings(*v, *got));
}

template <class Json>
void expect(json::object const& raw, std::string_view key, std::optional<Json> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : got && same_json(json::value(*got), *v));
}

inline void expect(
    json::object const& raw, std::string_view key,
    std::optional<scenario::model_thumbnail> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : got && v->is_object());
    if (v == nullptr)
        return;
    expect(v->get_object(), "assetId", got->asset_id);
    expect(v->get_object(), "url", got->url);
}

inline void expect(
    json::object const& raw, std::string_view key,
    std::optional<std::vector<scenario::model_concept>> const& got)
{
    auto const* v = field(raw, key);
    FUZZ_CHECK(v == nullptr ? !got : got && v->is_array() && v->get_array().size() == got->size());
    if (v == nullptr)
        return;
    for (std::size_t i = 0; i < got->size(); ++i)
    {
        auto const& item = v->get_array()[i];
        auto const& c = (*got)[i];
        FUZZ_CHECK(item.is_object());
        expect(item.get_object(), "modelId", c.model_id);
        expect(item.get_object(), "scale", c.scale);
        auto const* epoch = field(item.get_object(), "modelEpoch");
        if (epoch == nullptr)
            FUZZ_CHECK(!c.model_epoch);
        else if (epoch->is_string())
            FUZZ_CHECK(c.model_epoch && epoch->get_string() == *c.model_epoch);
        else
            FUZZ_CHECK(integer_of(*epoch) && c.model_epoch == std::to_string(*integer_of(*epoch)));
    }
}

// Whether valid JSON text has an object that repeats a key (compared unescaped), told from the
// text by Boost.JSON's SAX parser rather than from a parsed value.
class repeated_key_finder
{
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    bool found = false;

    bool on_document_begin(boost::system::error_code&)
    {
        return true;
    }
    bool on_document_end(boost::system::error_code&)
    {
        return true;
    }
    bool on_array_begin(boost::system::error_code&)
    {
        return true;
    }
    bool on_array_end(std::size_t, boost::system::error_code&)
    {
        return true;
    }
    bool on_object_begin(boost::system::error_code&)
    {
        keys_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&)
    {
        keys_.pop_back();
        return true;
    }
    bool on_string_part(json::string_view, std::size_t, boost::system::error_code&)
    {
        return true;
    }
    bool on_string(json::string_view, std::size_t, boost::system::error_code&)
    {
        return true;
    }
    bool on_key_part(json::string_view part, std::size_t, boost::system::error_code&)
    {
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(json::string_view part, std::size_t, boost::system::error_code&)
    {
        key_.append(part.data(), part.size());
        if (!keys_.back().insert(key_).second)
            found = true;
        key_.clear();
        return true;
    }
    bool on_number_part(json::string_view, boost::system::error_code&)
    {
        return true;
    }
    bool on_int64(std::int64_t, json::string_view, boost::system::error_code&)
    {
        return true;
    }
    bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&)
    {
        return true;
    }
    bool on_double(double, json::string_view, boost::system::error_code&)
    {
        return true;
    }
    bool on_bool(bool, boost::system::error_code&)
    {
        return true;
    }
    bool on_null(boost::system::error_code&)
    {
        return true;
    }
    bool on_comment_part(json::string_view, boost::system::error_code&)
    {
        return true;
    }
    bool on_comment(json::string_view, boost::system::error_code&)
    {
        return true;
    }

private:
    std::vector<std::set<std::string>> keys_;
    std::string key_;
};

inline bool repeats_a_key(std::string_view text)
{
    json::basic_parser<repeated_key_finder> parser{json::parse_options()};
    boost::system::error_code ec;
    parser.write_some(false, text.data(), text.size(), ec);
    return parser.handler().found;
}

// Every typed field of `m` against `m.raw`, and every byte of it read.
inline void check_model(model const& m)
{
    auto const& raw = m.raw;
    auto const* id = field(raw, "id");
    FUZZ_CHECK(id != nullptr && id->is_string() && id->get_string() == m.id);
    expect(raw, "capabilities", m.capabilities);
    expect(raw, "collectionIds", m.collection_ids);
    expect(raw, "createdAt", m.created_at);
    expect(raw, "custom", m.custom);
    expect(raw, "privacy", m.privacy);
    expect(raw, "source", m.source);
    expect(raw, "status", m.status);
    expect(raw, "tags", m.tags);
    expect(raw, "trainingImagesNumber", m.training_images_number);
    expect(raw, "type", m.type);
    expect(raw, "updatedAt", m.updated_at);
    expect(raw, "name", m.name);
    expect(raw, "shortDescription", m.short_description);
    expect(raw, "authorId", m.author_id);
    expect(raw, "ownerId", m.owner_id);
    expect(raw, "userId", m.user_id);
    expect(raw, "accessRestrictions", m.access_restrictions);
    expect(raw, "thumbnail", m.thumbnail);
    expect(raw, "concepts", m.concepts);
    expect(raw, "compliantModelIds", m.compliant_model_ids);
    expect(raw, "parentModelId", m.parent_model_id);
    expect(raw, "softDeletionOn", m.soft_deletion_on);
    expect(raw, "trainingImages", m.training_images);
    expect(raw, "trainingImagePairs", m.training_image_pairs);
    expect(raw, "trainingProgress", m.training_progress);
    expect(raw, "parameters", m.parameters);
    expect(raw, "complianceMetadata", m.compliance_metadata);
    expect(raw, "epoch", m.epoch);
    expect(raw, "epochs", m.epochs);
    expect(raw, "class", m.model_class);
    expect(raw, "trainingStats", m.training_stats);
    expect(raw, "performanceStats", m.performance_stats);
    expect(raw, "inputs", m.inputs);
    expect(raw, "uiConfig", m.ui_config);

    // exampleAssetIds is read from raw on demand, through string_list.
    auto const ids = m.example_asset_ids();
    auto const* listed = field(raw, "exampleAssetIds");
    FUZZ_CHECK(ids.size() == (listed != nullptr ? listed->get_array().size() : 0));
    FUZZ_CHECK(ids.empty() == (ids.size() == 0));
    std::size_t counted = 0;
    for (auto it = ids.begin(); it != ids.end(); ++it, ++counted)
    {
        FUZZ_CHECK(*it == ids[counted]);
        FUZZ_CHECK(listed->get_array()[counted].get_string() == *it);
    }
    FUZZ_CHECK(counted == ids.size());
    auto const owned = ids.to_vector();
    FUZZ_CHECK(owned.size() == ids.size());

    if (!m.tags.empty())
        FUZZ_CHECK(m.has_tag(m.tags.back()));

    reader r;
    r.add(m.id);
    r.add(m.capabilities);
    r.add(m.collection_ids);
    r.add(m.created_at);
    r.add(m.privacy);
    r.add(m.source);
    r.add(m.status);
    r.add(m.tags);
    r.add(m.type);
    r.add(m.updated_at);
    r.add(m.name);
    r.add(m.short_description);
    r.add(m.author_id);
    r.add(m.owner_id);
    r.add(m.user_id);
    if (m.thumbnail)
    {
        r.add(m.thumbnail->asset_id);
        r.add(m.thumbnail->url);
    }
    if (m.concepts)
        for (auto const& c : *m.concepts)
        {
            r.add(c.model_id);
            r.add(c.scale);
            r.add(c.model_epoch);
        }
    r.add(m.compliant_model_ids);
    r.add(m.parent_model_id);
    r.add(m.soft_deletion_on);
    r.add(m.training_images);
    r.add(m.training_image_pairs);
    r.add(m.training_progress);
    r.add(m.parameters);
    r.add(m.compliance_metadata);
    r.add(m.epoch);
    r.add(m.epochs);
    r.add(m.model_class);
    r.add(m.training_stats);
    r.add(m.performance_stats);
    r.add(m.inputs);
    r.add(m.ui_config);
    r.add(m.raw);
    for (auto id : ids)
        r.add(id);
    sink = sink + r.sum + static_cast<std::size_t>(m.custom) +
           static_cast<std::size_t>(m.training_images_number) +
           static_cast<std::size_t>(m.access_restrictions.value_or(0));
}

// True if `storage` is the default heap, not a response's arena.
inline bool on_heap(json::storage_ptr const& storage)
{
    return storage.get() == json::storage_ptr().get();
}

template <class Json>
bool on_heap(std::optional<Json> const& json)
{
    return !json || on_heap(json->storage());
}

// A copy holds every field and none of its JSON in the source's arena.
inline void check_copy(model const& copy, model const& source)
{
    check_model(copy);
    FUZZ_CHECK(same_json(copy.raw, source.raw));
    FUZZ_CHECK(copy.id == source.id);
    FUZZ_CHECK(on_heap(copy.raw.storage()));
    FUZZ_CHECK(on_heap(copy.training_images) && on_heap(copy.training_image_pairs));
    FUZZ_CHECK(on_heap(copy.training_progress) && on_heap(copy.parameters));
    FUZZ_CHECK(on_heap(copy.compliance_metadata) && on_heap(copy.epoch));
    FUZZ_CHECK(on_heap(copy.epochs) && on_heap(copy.model_class));
    FUZZ_CHECK(on_heap(copy.training_stats) && on_heap(copy.performance_stats));
    FUZZ_CHECK(on_heap(copy.inputs) && on_heap(copy.ui_config));
}

// Copies and moves `m` every way the model allows, self-assignment included.
inline void check_copies_and_moves(model const& m)
{
    model copy(m);
    check_copy(copy, m);

    model moved(std::move(copy));
    check_model(moved);
    FUZZ_CHECK(same_json(moved.raw, m.raw));

    model assigned;
    assigned = std::move(moved);
    check_model(assigned);
    FUZZ_CHECK(same_json(assigned.raw, m.raw));

    assigned = m;
    check_copy(assigned, m);

    model& same = assigned;
    assigned = same;
    assigned = std::move(same);
    check_copy(assigned, m);
}

// What a listing, a single model and a description read from the same body must satisfy.
// The body is parsed anew for each, as the client parses each response once.
inline void read_every_way(std::string_view body)
{
    using namespace scenario;

    // The same text parsed on the default heap, to compare with. The client refuses JSON
    // whose objects repeat a key, which Boost.JSON alone would read as the last one.
    boost::system::error_code plain_ec;
    json::value const expected = body.empty() ? json::value() : json::parse(body, plain_ec);
    bool const refused = plain_ec || (!body.empty() && repeats_a_key(body));

    auto parse = [&](std::string& problem) {
        auto parsed = body.empty() ? json::value() : detail::parse_body(body, problem);
        FUZZ_CHECK(problem.empty() == !refused);
        if (problem.empty())
            FUZZ_CHECK(same_json(parsed, expected));
        return parsed;
    };
    auto check_failure = [](error_code ec, std::string const& problem) {
        FUZZ_CHECK(ec == client_errc::unexpected_response);
        FUZZ_CHECK(!problem.empty());
    };

    {
        std::string problem;
        auto parsed = parse(problem);
        if (!problem.empty())
            return; // the client answers invalid_json; nothing else reads the body
    }

    // A page. Half of its models are moved out and read again once the page and its arena's
    // other owners are gone.
    std::vector<model> survivors;
    std::vector<std::string> snapshots;
    {
        std::string problem;
        model_page page;
        auto ec = detail::read_page(parse(problem), page, problem);
        if (ec)
            check_failure(ec, problem);
        else
        {
            FUZZ_CHECK(problem.empty());
            auto const& envelope = expected.get_object();
            auto const& rows = envelope.at("models").get_array();
            FUZZ_CHECK(page.models.size() == rows.size());
            auto const* token = field(envelope, "nextPaginationToken");
            if (token == nullptr || token->get_string().empty())
                FUZZ_CHECK(!page.next_pagination_token);
            else
                FUZZ_CHECK(page.next_pagination_token == std::string_view(token->get_string()));
            for (std::size_t i = 0; i < page.models.size(); ++i)
            {
                FUZZ_CHECK(same_json(page.models[i].raw, rows[i].get_object()));
                check_model(page.models[i]);
                check_copies_and_moves(page.models[i]);
                if (i % 2 == 0)
                {
                    snapshots.push_back(json::serialize(page.models[i].raw));
                    survivors.push_back(std::move(page.models[i]));
                }
            }
        }
    }
    for (std::size_t i = 0; i < survivors.size(); ++i)
    {
        check_model(survivors[i]);
        FUZZ_CHECK(json::serialize(survivors[i].raw) == snapshots[i]);
    }
    survivors.clear();

    // A single model, kept past its body.
    {
        std::optional<model> kept;
        std::string snapshot;
        {
            std::string problem;
            std::optional<model> result;
            auto ec = detail::read_single_model(parse(problem), result, problem);
            if (ec)
                check_failure(ec, problem);
            else
            {
                FUZZ_CHECK(problem.empty() && result);
                FUZZ_CHECK(same_json(result->raw, expected.get_object().at("model").get_object()));
                check_model(*result);
                check_copies_and_moves(*result);
                snapshot = json::serialize(result->raw);
                kept.emplace(std::move(*result));
            }
        }
        if (kept)
        {
            check_model(*kept);
            FUZZ_CHECK(json::serialize(kept->raw) == snapshot);
        }
    }

    // A description, copied and moved.
    {
        std::string problem;
        model_description description;
        description.value = "left over from an earlier call";
        auto ec = detail::read_description(parse(problem), description, problem);
        if (ec)
            check_failure(ec, problem);
        else
        {
            FUZZ_CHECK(problem.empty());
            auto const* d = field(expected.get_object(), "description");
            if (d == nullptr || d->is_string())
            {
                auto const text =
                    d != nullptr ? std::string_view(d->get_string()) : std::string_view();
                FUZZ_CHECK(description.value == text);
                FUZZ_CHECK(description.assets.empty() && description.models.empty());
                FUZZ_CHECK(description.raw.empty());
            }
            else
            {
                auto const& object = d->get_object();
                expect(object, "value", description.value);
                auto const* assets = field(object, "assets");
                auto const* models = field(object, "models");
                FUZZ_CHECK(
                    assets ? same_json(description.assets, assets->get_array())
                           : description.assets.empty());
                FUZZ_CHECK(
                    models ? same_json(description.models, models->get_array())
                           : description.models.empty());
                FUZZ_CHECK(same_json(description.raw, object));
            }
            model_description copy = description;
            model_description moved = std::move(copy);
            FUZZ_CHECK(moved.value == description.value && same_json(moved.raw, description.raw));
            reader r;
            r.add(moved.value);
            r.add(moved.assets);
            r.add(moved.models);
            r.add(moved.raw);
            sink = sink + r.sum;
        }
    }
}

} // namespace scenario_fuzz

#endif // SCENARIO_FUZZ_MODEL_CHECKS_HPP
