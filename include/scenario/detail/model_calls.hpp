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

// Sends a request and parses its 2xx body as JSON; a body that is not JSON is an error that
// keeps the body for inspection.
inline asio::awaitable<boost::json::value> call_json(
    std::shared_ptr<client_state> state, request_spec spec, diagnostics& diag, error_code& ec)
{
    auto response = co_await state->execute(spec, ec, diag);
    if (ec)
        co_return boost::json::value{};

    // An empty body (204, or a DELETE) reads as null.
    std::string problem;
    auto body = response.body.empty() ? boost::json::value() : parse_body(response.body, problem);
    if (!problem.empty())
    {
        diag.message = std::move(problem);
        ec = client_errc::invalid_json;
        diag.request_id = std::move(response.request_id);
        diag.http_status = response.status;
        diag.body = std::move(response.body);
    }
    co_return body;
}

inline void note_shape_error(error_code ec, diagnostics& diag)
{
    if (ec)
        diag.message = "unexpected response: " + diag.message;
}

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
    auto body = co_await call_json(state, std::move(spec), diag, ec);
    model_page page;
    if (!ec)
        note_shape_error(ec = read_page(std::move(body), page, diag.message), diag);
    co_return page;
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
    auto body = co_await call_json(state, std::move(spec), diag, ec);
    std::optional<model> result;
    if (!ec)
        note_shape_error(ec = read_single_model(std::move(body), result, diag.message), diag);
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
    auto body = co_await call_json(state, std::move(spec), diag, ec);
    if (!ec)
        note_shape_error(ec = read_description(std::move(body), result, diag.message), diag);
    co_return result;
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
