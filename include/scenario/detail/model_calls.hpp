#ifndef SCENARIO_DETAIL_MODEL_CALLS_HPP
#define SCENARIO_DETAIL_MODEL_CALLS_HPP

#include <scenario/detail/client_state.hpp>
#include <scenario/detail/model_parse.hpp>
#include <scenario/list_params.hpp>
#include <scenario/model.hpp>
#include <scenario/model_spec.hpp>
#include <scenario/tag_changes.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// The models endpoints as coroutines that report failure through (diag, ec); the public
// classes wrap each in an awaitable that throws and in a completion-token operation.

namespace scenario::detail {

enum class listing
{
    own,    // GET /models
    public_ // GET /models/public
};

// Reads a 2xx body as JSON (an empty one, from a 204 or a DELETE, as null), then hands it to
// `read(value&&, problem) -> error_code`, which fills the call's result.
template <class Read>
class json_reader final : public body_reader
{
public:
    explicit json_reader(Read read)
        : read_(std::move(read))
    {}

    error_code read(std::string_view body, std::string& problem) override
    {
        auto json = body.empty() ? boost::json::value() : parse_body(body, problem);
        if (!problem.empty())
            return client_errc::invalid_json;
        auto ec = read_(std::move(json), problem);
        if (ec)
            problem = "unexpected response: " + problem;
        return ec;
    }

private:
    Read read_;
};

// The fixed part of a listing: its endpoint and its encoded filters. It owns its strings, so
// a stream may outlive the caller's `list_params`.
struct listing_request
{
    listing which = listing::own;
    std::string query{};       // encoded, without the pagination token
    std::string start_token{}; // where the caller asked to start, if anywhere
    std::shared_ptr<call_options const> overrides{};
};

inline listing_request make_listing(
    client_state const& state, listing which, list_params const& params,
    std::shared_ptr<call_options const> overrides)
{
    target_builder encoder(state.where().base_path, {});
    encoder.add_listing(params, state.options().project_id);
    listing_request request;
    request.which = which;
    request.query = encoder.encoded_query();
    request.start_token = std::string(params.pagination_token);
    request.overrides = std::move(overrides);
    return request;
}

inline asio::awaitable<model_page> fetch_page(
    std::shared_ptr<client_state> state, listing_request request, std::string token,
    diagnostics& diag, error_code& ec)
{
    target_builder target(
        state->where().base_path, request.which == listing::public_
                                      ? std::initializer_list<std::string_view>{"models", "public"}
                                      : std::initializer_list<std::string_view>{"models"});
    target.add_encoded(request.query);
    target.add("paginationToken", token);

    // GCC 12 destroys a braced temporary in a co_await expression twice: name it first.
    request_spec spec{
        .target = target.target(),
        .path = target.path(),
        .idempotent = true,
        .overrides = std::move(request.overrides)};
    model_page page;
    json_reader reader([&page](boost::json::value&& body, std::string& problem) {
        return read_page(std::move(body), page, problem);
    });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
    co_return ec ? model_page{} : std::move(page);
}

// Refuses what cannot name a model: nothing, and the dot segments that servers and proxies
// would read as "this folder" or "the one above".
inline bool check_model_id(std::string_view model_id, diagnostics& diag, error_code& ec)
{
    if (!model_id.empty() && model_id != "." && model_id != "..")
        return true;
    ec = client_errc::invalid_argument;
    diag.message = "the model id '" + std::string(model_id) +
                   "' cannot name a model; pass the id of a model, such as model_abc";
    return false;
}

// The project query of a single-model call: the client's default project, if any.
inline target_builder model_target(
    client_state const& state, std::string_view model_id, std::string_view leaf = {})
{
    auto target = leaf.empty()
                      ? target_builder(state.where().base_path, {"models", model_id})
                      : target_builder(state.where().base_path, {"models", model_id, leaf});
    target.add("projectId", state.options().project_id);
    return target;
}

// Sends a request whose answer is `{"model": {...}}`, and reads that model.
inline asio::awaitable<model> call_for_model(
    std::shared_ptr<client_state> state, request_spec spec, diagnostics& diag, error_code& ec)
{
    std::optional<model> result;
    json_reader reader([&result](boost::json::value&& body, std::string& problem) {
        return read_single_model(std::move(body), result, problem);
    });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
    co_return ec ? model{} : std::move(*result);
}

inline asio::awaitable<model> fetch_model(
    std::shared_ptr<client_state> state, std::string model_id,
    std::shared_ptr<call_options const> overrides, diagnostics& diag, error_code& ec)
{
    if (!check_model_id(model_id, diag, ec))
        co_return model{};
    auto target = model_target(*state, model_id);
    request_spec spec{
        .target = target.target(),
        .path = target.path(),
        .idempotent = true,
        .overrides = std::move(overrides)};
    co_return co_await call_for_model(std::move(state), std::move(spec), diag, ec);
}

// GET the description, or PUT a new one (`replacement` null deletes it).
inline asio::awaitable<model_description> exchange_description(
    std::shared_ptr<client_state> state, std::string model_id,
    std::optional<boost::json::value> replacement, std::shared_ptr<call_options const> overrides,
    diagnostics& diag, error_code& ec)
{
    model_description result;
    if (!check_model_id(model_id, diag, ec))
        co_return result;
    auto target = model_target(*state, model_id, "description");
    request_spec spec{
        .target = target.target(),
        .path = target.path(),
        .idempotent = true,
        .overrides = std::move(overrides)};
    if (replacement)
    {
        spec.method = http::verb::put;
        spec.body = boost::json::serialize(boost::json::object{{"description", *replacement}});
    }
    json_reader reader([&result](boost::json::value&& body, std::string& problem) {
        return read_description(std::move(body), result, problem);
    });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
    co_return ec ? model_description{} : std::move(result);
}

// The models of `ids`, asked for in batches of `bulk_batch_size` distinct ids, one request
// after another, under one deadline for the whole call.
inline asio::awaitable<bulk_models> fetch_many(
    std::shared_ptr<client_state> state, std::vector<std::string> ids,
    std::shared_ptr<call_options const> overrides, diagnostics& diag, error_code& ec)
{
    for (auto const& id : ids)
        if (!check_model_id(id, diag, ec))
            co_return bulk_models{};

    // Each id once, in the order first asked; `last` is where each is asked for last, the
    // position that takes its model rather than a copy.
    std::vector<std::string_view> distinct;
    std::unordered_map<std::string_view, std::size_t> last;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (last.insert_or_assign(ids[i], i).second)
            distinct.push_back(ids[i]);

    std::unordered_map<std::string_view, model> found;
    auto const deadline = state->call_deadline(overrides.get());
    auto const batch_size = state->options().bulk_batch_size;
    for (std::size_t start = 0; start < distinct.size(); start += batch_size)
    {
        auto const end = std::min(distinct.size(), start + batch_size);
        boost::json::array batch;
        batch.reserve(end - start);
        for (std::size_t k = start; k < end; ++k)
            batch.emplace_back(distinct[k]);

        target_builder target(state->where().base_path, {"models", "get-bulk"});
        target.add("projectId", state->options().project_id);
        // A POST, but it only reads: sending it twice does no more than once, so it is retried
        // like a GET.
        request_spec spec{
            .method = http::verb::post,
            .target = target.target(),
            .path = target.path(),
            .body = boost::json::serialize(boost::json::object{{"modelIds", std::move(batch)}}),
            .idempotent = true,
            .overrides = overrides,
            .deadline = deadline};
        std::vector<model> rows;
        json_reader reader([&rows](boost::json::value&& body, std::string& problem) {
            return read_bulk(std::move(body), rows, problem);
        });
        spec.reader = &reader;
        co_await state->execute(spec, ec, diag);
        if (ec)
            co_return bulk_models{};

        // Keyed by the caller's copy of the id; models no one asked for are left aside.
        for (auto& row : rows)
            if (auto asked = last.find(row.id); asked != last.end())
                found.try_emplace(asked->first, std::move(row));
    }

    bulk_models result;
    result.models.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
    {
        auto const it = found.find(ids[i]);
        if (it == found.end())
            result.models.emplace_back();
        else if (last.at(ids[i]) == i)
            result.models.emplace_back(std::move(it->second));
        else
            result.models.emplace_back(it->second); // a copy, on the heap
    }
    for (auto id : distinct)
        if (!found.contains(id))
            result.missing.emplace_back(id);
    co_return result;
}

inline asio::awaitable<tag_update_result> exchange_tags(
    std::shared_ptr<client_state> state, std::string model_id, std::string body, bool strict,
    std::shared_ptr<call_options const> overrides, diagnostics& diag, error_code& ec)
{
    tag_update_result result;
    if (!check_model_id(model_id, diag, ec))
        co_return result;
    auto target = model_target(*state, model_id, "tags");
    // A PUT, so idempotent in HTTP's terms, and a repeat leaves the tags as the first did; but
    // a strict one would be refused the second time, so it is sent again only if it cannot
    // have arrived.
    request_spec spec{
        .method = http::verb::put,
        .target = target.target(),
        .path = target.path(),
        .body = std::move(body),
        .idempotent = !strict,
        .overrides = std::move(overrides)};
    json_reader reader([&result](boost::json::value&& answer, std::string& problem) {
        return read_tag_update(std::move(answer), result, problem);
    });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
    co_return ec ? tag_update_result{} : std::move(result);
}

// Characters as the service's limits count them, at most: Unicode code points, the bytes that
// do not continue a UTF-8 sequence. A service that counts UTF-16 units counts as many or more.
inline std::size_t count_characters(std::string_view text) noexcept
{
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    }));
}

// The body of `POST /models`, or why it cannot be sent.
struct creation_request
{
    std::string body;
    std::string problem; // empty when the body may be sent
};

inline creation_request make_creation_request(model_spec const& spec)
{
    boost::json::object fields;
    if (spec.more_fields != nullptr)
        fields = *spec.more_fields;
    if (!spec.name.empty())
        fields["name"] = spec.name;
    if (!spec.short_description.empty())
        fields["shortDescription"] = spec.short_description;
    if (!spec.type.empty())
        fields["type"] = spec.type;

    creation_request request;
    struct limit
    {
        char const* key;
        std::size_t most;
    };
    for (auto const [key, most] :
         {limit{"name", model_spec::max_name_length},
          limit{"shortDescription", model_spec::max_short_description_length}})
    {
        auto const* value = fields.if_contains(key);
        if (value == nullptr || !value->is_string())
            continue;
        auto const length = count_characters(value->get_string());
        if (length > most)
        {
            request.problem = std::string("the model's ") + key + " is " + std::to_string(length) +
                              " characters long; the service takes at most " +
                              std::to_string(most) + ": shorten it";
            return request;
        }
    }
    request.body = boost::json::serialize(fields);
    return request;
}

inline asio::awaitable<model> create_model(
    std::shared_ptr<client_state> state, creation_request request,
    std::shared_ptr<call_options const> overrides, diagnostics& diag, error_code& ec)
{
    if (!request.problem.empty())
    {
        ec = client_errc::invalid_argument;
        diag.message = std::move(request.problem);
        co_return model{};
    }
    target_builder target(state->where().base_path, {"models"});
    target.add("projectId", state->options().project_id);
    // Not idempotent: a repeat would create a second model. The request is sent again only
    // when it cannot have reached the service.
    request_spec spec{
        .method = http::verb::post,
        .target = target.target(),
        .path = target.path(),
        .body = std::move(request.body),
        .idempotent = false,
        .overrides = std::move(overrides)};
    co_return co_await call_for_model(std::move(state), std::move(spec), diag, ec);
}

inline asio::awaitable<void> remove_model(
    std::shared_ptr<client_state> state, std::string model_id,
    std::shared_ptr<call_options const> overrides, diagnostics& diag, error_code& ec)
{
    if (!check_model_id(model_id, diag, ec))
        co_return;
    auto target = model_target(*state, model_id);
    request_spec spec{
        .method = http::verb::delete_,
        .target = target.target(),
        .path = target.path(),
        .idempotent = true,
        .overrides = std::move(overrides)};
    // The reference leaves the answer's body unspecified: empty or any JSON will do, but not
    // text that is not JSON, such as a proxy's HTML page.
    json_reader reader([](boost::json::value&&, std::string&) { return error_code{}; });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
}

// Each public call as an operation `op(diag, ec)` for the fronts of async_front.hpp; the
// operation owns copies of its arguments.
inline auto list_call(
    std::shared_ptr<client_state> const& state, listing which, list_params const& params,
    std::shared_ptr<call_options const> const& overrides)
{
    return [state, request = make_listing(*state, which, params, overrides)](
               diagnostics& diag, error_code& ec) {
        return fetch_page(state, request, request.start_token, diag, ec);
    };
}

inline auto get_call(
    std::shared_ptr<client_state> const& state, std::string model_id,
    std::shared_ptr<call_options const> const& overrides)
{
    return [state, id = std::move(model_id), overrides](diagnostics& diag, error_code& ec) {
        return fetch_model(state, id, overrides, diag, ec);
    };
}

inline auto description_call(
    std::shared_ptr<client_state> const& state, std::string model_id,
    std::optional<boost::json::value> change, std::shared_ptr<call_options const> const& overrides)
{
    return [state, id = std::move(model_id), change = std::move(change),
            overrides](diagnostics& diag, error_code& ec) {
        return exchange_description(state, id, change, overrides, diag, ec);
    };
}

inline auto get_many_call(
    std::shared_ptr<client_state> const& state, std::vector<std::string> model_ids,
    std::shared_ptr<call_options const> const& overrides)
{
    return [state, ids = std::move(model_ids), overrides](diagnostics& diag, error_code& ec) {
        return fetch_many(state, ids, overrides, diag, ec);
    };
}

inline auto update_tags_call(
    std::shared_ptr<client_state> const& state, std::string model_id, tag_changes const& changes,
    std::shared_ptr<call_options const> const& overrides)
{
    auto const tag_array = [](std::span<std::string const> tags) {
        boost::json::array array;
        array.reserve(tags.size());
        for (auto const& tag : tags)
            array.emplace_back(std::string_view(tag));
        return array;
    };
    auto body = boost::json::serialize(boost::json::object{
        {"add", tag_array(changes.add)},
        {"delete", tag_array(changes.remove)},
        {"strict", changes.strict}});
    return [state, id = std::move(model_id), body = std::move(body), strict = changes.strict,
            overrides](diagnostics& diag, error_code& ec) {
        return exchange_tags(state, id, body, strict, overrides, diag, ec);
    };
}

inline auto create_call(
    std::shared_ptr<client_state> const& state, model_spec const& spec,
    std::shared_ptr<call_options const> const& overrides)
{
    return [state, request = make_creation_request(spec),
            overrides](diagnostics& diag, error_code& ec) {
        return create_model(state, request, overrides, diag, ec);
    };
}

inline auto remove_call(
    std::shared_ptr<client_state> const& state, std::string model_id,
    std::shared_ptr<call_options const> const& overrides)
{
    return [state, id = std::move(model_id), overrides](diagnostics& diag, error_code& ec) {
        return remove_model(state, id, overrides, diag, ec);
    };
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_MODEL_CALLS_HPP
