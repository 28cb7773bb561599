#ifndef SCENARIO_DETAIL_MODEL_CALLS_HPP
#define SCENARIO_DETAIL_MODEL_CALLS_HPP

#include <scenario/detail/client_state.hpp>
#include <scenario/detail/model_parse.hpp>
#include <scenario/list_params.hpp>
#include <scenario/model.hpp>

#include <boost/json/serialize.hpp>

#include <memory>
#include <optional>
#include <string>

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
    std::optional<model> result;
    json_reader reader([&result](boost::json::value&& body, std::string& problem) {
        return read_single_model(std::move(body), result, problem);
    });
    spec.reader = &reader;
    co_await state->execute(spec, ec, diag);
    co_return ec ? model{} : std::move(*result);
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

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_MODEL_CALLS_HPP
