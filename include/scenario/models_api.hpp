#ifndef SCENARIO_MODELS_API_HPP
#define SCENARIO_MODELS_API_HPP

#include <scenario/detail/async_front.hpp>
#include <scenario/detail/model_calls.hpp>
#include <scenario/list_params.hpp>
#include <scenario/model.hpp>
#include <scenario/model_spec.hpp>
#include <scenario/pagination.hpp>
#include <scenario/tag_changes.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scenario {

/// The models endpoints, from `client::models()`. A cheap handle: copies share the client.
///
/// Every call comes in three forms:
/// - `co_await models.get(id)`: an awaitable that throws `scenario::error` (a
///   `boost::system::system_error` whose message says what failed and what to do);
/// - `models.get(id, token)`: an Asio operation for any completion token, completion
///   signature `void(error_code, T)`;
/// - `models.get(id, diag, token)`: the same, with what is known of a failure in `diag`.
///
/// `remove` has no result: `co_await` gives nothing, and the signature is `void(error_code)`.
///
/// Arguments are copied before the call returns; only `diag` must outlive the operation, which
/// writes it just before completing. Completions run on the token's associated executor, by
/// default the client's, never inside the initiating call.
///
/// Every operation supports terminal cancellation (partial and total requests are ignored:
/// a call cannot stop half-way and stay usable). A call cancelled while it waits for a
/// connection leaves the queue; one cancelled in flight closes its connection instead of
/// returning it to the pool; one cancelled between two attempts ends its wait. It completes
/// with `operation_aborted` at once. `co_await (models.get(id) || timer.async_wait(...))`
/// works that way.
///
/// Failed attempts are retried as the client's `retry_policy` says, within its timeouts;
/// `with` (or `client::models(call_options)`) makes a handle whose calls use other settings.
/// Not thread-safe: use the client from the one thread that runs its `io_context`.
class models_api
{
    template <class T>
    using result = boost::asio::awaitable<T>;

    // Defined first: the members below deduce their types from these.
    auto list_call(detail::listing which, list_params const& params) const
    {
        return detail::list_call(state_, which, params, overrides_);
    }

    auto description_call(std::string model_id, std::optional<boost::json::value> replacement) const
    {
        return detail::description_call(
            state_, std::move(model_id), std::move(replacement), overrides_);
    }

    template <class T, class Op, class CompletionToken>
    auto start(Op op, diagnostics* diag, CompletionToken&& token) const
    {
        return detail::run_with_token<T>(
            state_->executor(), std::move(op), diag, std::forward<CompletionToken>(token));
    }

public:
    explicit models_api(
        std::shared_ptr<detail::client_state> state,
        std::shared_ptr<call_options const> overrides = nullptr)
        : state_(std::move(state))
        , overrides_(std::move(overrides))
    {}

    /// A handle whose calls run with `options` in place of the client's settings; fields left
    /// empty keep this handle's.
    models_api with(call_options const& options) const
    {
        auto merged = overrides_ ? *overrides_ : call_options{};
        if (options.retry)
            merged.retry = options.retry;
        if (options.request_timeout)
            merged.request_timeout = options.request_timeout;
        if (options.call_timeout)
            merged.call_timeout = options.call_timeout;
        return models_api(state_, std::make_shared<call_options const>(std::move(merged)));
    }

    /// One page of `GET /models`: by default the caller's own models.
    result<model_page> list(list_params params = {}) const
    {
        return detail::run_or_throw<model_page>(list_call(detail::listing::own, params));
    }

    template <detail::completes_with<model_page> CompletionToken>
    auto list(list_params params, CompletionToken&& token) const
    {
        return start<model_page>(
            list_call(detail::listing::own, params), nullptr, std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model_page> CompletionToken>
    auto list(list_params params, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model_page>(
            list_call(detail::listing::own, params), &diag, std::forward<CompletionToken>(token));
    }

    /// One page of `GET /models/public`: the public catalogue.
    result<model_page> list_public(list_params params = {}) const
    {
        return detail::run_or_throw<model_page>(list_call(detail::listing::public_, params));
    }

    template <detail::completes_with<model_page> CompletionToken>
    auto list_public(list_params params, CompletionToken&& token) const
    {
        return start<model_page>(
            list_call(detail::listing::public_, params), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model_page> CompletionToken>
    auto list_public(list_params params, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model_page>(
            list_call(detail::listing::public_, params), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `GET /models/{model_id}`: one model, with `inputs` and `ui_config` for custom models.
    /// The id is sent percent-encoded as one path segment.
    result<model> get(std::string model_id) const
    {
        return detail::run_or_throw<model>(
            detail::get_call(state_, std::move(model_id), overrides_));
    }

    template <detail::completes_with<model> CompletionToken>
    auto get(std::string model_id, CompletionToken&& token) const
    {
        return start<model>(
            detail::get_call(state_, std::move(model_id), overrides_), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model> CompletionToken>
    auto get(std::string model_id, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model>(
            detail::get_call(state_, std::move(model_id), overrides_), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `GET /models/{model_id}/description`; an empty `value` when there is none.
    result<model_description> get_description(std::string model_id) const
    {
        return detail::run_or_throw<model_description>(
            description_call(std::move(model_id), std::nullopt));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto get_description(std::string model_id, CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), std::nullopt), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto get_description(std::string model_id, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), std::nullopt), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `PUT /models/{model_id}/description`: replaces the markdown; answers like the GET.
    result<model_description> set_description(std::string model_id, std::string markdown) const
    {
        return detail::run_or_throw<model_description>(
            description_call(std::move(model_id), boost::json::value(markdown)));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto set_description(std::string model_id, std::string markdown, CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), boost::json::value(markdown)), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto set_description(
        std::string model_id, std::string markdown, diagnostics& diag,
        CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), boost::json::value(markdown)), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `PUT /models/{model_id}/description` with `null`: deletes the description.
    result<model_description> delete_description(std::string model_id) const
    {
        return detail::run_or_throw<model_description>(
            description_call(std::move(model_id), boost::json::value(nullptr)));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto delete_description(std::string model_id, CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), boost::json::value(nullptr)), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model_description> CompletionToken>
    auto delete_description(std::string model_id, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model_description>(
            description_call(std::move(model_id), boost::json::value(nullptr)), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `POST /models/get-bulk`: the models of `model_ids`, one entry per id in the order
    /// asked (see `bulk_models`). A repeated id is asked for once and answered at each of its
    /// positions; an id the service does not return is empty at its positions and listed once
    /// in `missing`. A list of more than `client_options::bulk_batch_size` distinct ids is
    /// split into requests of that many, sent one after another; if one fails, the call fails
    /// with no partial result. `call_timeout` bounds the whole call. An empty list completes
    /// with an empty result and sends nothing; an id `get` refuses (empty, `.`, `..`) fails
    /// the call with `client_errc::invalid_argument` before anything is sent. Though POSTs, the
    /// requests only read, so they are retried like GETs.
    ///
    /// Completion signature `void(error_code, bulk_models)`. The ids are copied before the
    /// call returns; only `diag` must outlive it. Terminal cancellation, as for every call: the
    /// request in flight is abandoned and no later batch is sent. GCC 12 cannot compile a
    /// braced list inside `co_await` (`co_await models.get_many({"a", "b"})`): name the vector.
    result<bulk_models> get_many(std::vector<std::string> model_ids) const
    {
        return detail::run_or_throw<bulk_models>(
            detail::get_many_call(state_, std::move(model_ids), overrides_));
    }

    template <detail::completes_with<bulk_models> CompletionToken>
    auto get_many(std::vector<std::string> model_ids, CompletionToken&& token) const
    {
        return start<bulk_models>(
            detail::get_many_call(state_, std::move(model_ids), overrides_), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<bulk_models> CompletionToken>
    auto get_many(
        std::vector<std::string> model_ids, diagnostics& diag, CompletionToken&& token) const
    {
        return start<bulk_models>(
            detail::get_many_call(state_, std::move(model_ids), overrides_), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `PUT /models/{model_id}/tags`: adds and deletes tags; answers what changed (see
    /// `tag_update_result`). A change that is not strict is retried like any PUT: should an
    /// earlier attempt have applied it before its answer was lost, the answer of the retry
    /// lists fewer changes than were made. A strict one is not retried once it may have been
    /// sent (see `tag_changes::strict`).
    ///
    /// Completion signature `void(error_code, tag_update_result)`. The id and the tags are
    /// copied before the call returns; only `diag` must outlive it. Terminal cancellation;
    /// a change cancelled in flight may or may not have been made.
    result<tag_update_result> update_tags(std::string model_id, tag_changes changes) const
    {
        return detail::run_or_throw<tag_update_result>(
            detail::update_tags_call(state_, std::move(model_id), changes, overrides_));
    }

    template <detail::completes_with<tag_update_result> CompletionToken>
    auto update_tags(std::string model_id, tag_changes changes, CompletionToken&& token) const
    {
        return start<tag_update_result>(
            detail::update_tags_call(state_, std::move(model_id), changes, overrides_), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<tag_update_result> CompletionToken>
    auto update_tags(
        std::string model_id, tag_changes changes, diagnostics& diag, CompletionToken&& token) const
    {
        return start<tag_update_result>(
            detail::update_tags_call(state_, std::move(model_id), changes, overrides_), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `POST /models`: creates a model of the caller's project and returns it. A `name` or
    /// `short_description` longer than the service takes (`model_spec::max_name_length`,
    /// `max_short_description_length`, counted in Unicode code points) fails the call with
    /// `client_errc::invalid_argument` before anything is sent. (A service that counts UTF-16
    /// units may still refuse a shorter text full of emoji, with a 400.) Not idempotent: never
    /// sent again once it may have reached the service, whatever the retry policy's default
    /// says about the failure, so a failure may leave a model created.
    ///
    /// Completion signature `void(error_code, model)`. The spec, `more_fields` included, is
    /// copied before the call returns; only `diag` must outlive it. Terminal cancellation; a
    /// creation cancelled in flight may or may not have happened.
    result<model> create(model_spec spec) const
    {
        return detail::run_or_throw<model>(detail::create_call(state_, spec, overrides_));
    }

    template <detail::completes_with<model> CompletionToken>
    auto create(model_spec spec, CompletionToken&& token) const
    {
        return start<model>(
            detail::create_call(state_, spec, overrides_), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<model> CompletionToken>
    auto create(model_spec spec, diagnostics& diag, CompletionToken&& token) const
    {
        return start<model>(
            detail::create_call(state_, spec, overrides_), &diag,
            std::forward<CompletionToken>(token));
    }

    /// `DELETE /models/{model_id}`: deletes the model. Any 2xx answer with an empty or JSON
    /// body is success; a body that is not JSON fails with `client_errc::invalid_json`.
    /// Retried like any DELETE, so a 404 may mean that an earlier attempt, whose answer was
    /// lost, deleted it.
    ///
    /// Completion signature `void(error_code)`; `co_await` gives nothing. The id is copied
    /// before the call returns; only `diag` must outlive it. Terminal cancellation; a deletion
    /// cancelled in flight may or may not have happened.
    result<void> remove(std::string model_id) const
    {
        return detail::run_or_throw<void>(
            detail::remove_call(state_, std::move(model_id), overrides_));
    }

    template <detail::completes_with<void> CompletionToken>
    auto remove(std::string model_id, CompletionToken&& token) const
    {
        return start<void>(
            detail::remove_call(state_, std::move(model_id), overrides_), nullptr,
            std::forward<CompletionToken>(token));
    }

    template <detail::completes_with<void> CompletionToken>
    auto remove(std::string model_id, diagnostics& diag, CompletionToken&& token) const
    {
        return start<void>(
            detail::remove_call(state_, std::move(model_id), overrides_), &diag,
            std::forward<CompletionToken>(token));
    }

    /// Every page of `GET /models` with these filters, one at a time. See `page_stream`.
    page_stream pages(list_params params = {}) const
    {
        return page_stream(
            state_, detail::make_listing(*state_, detail::listing::own, params, overrides_));
    }

    /// Every page of `GET /models/public` with these filters, one at a time.
    page_stream public_pages(list_params params = {}) const
    {
        return page_stream(
            state_, detail::make_listing(*state_, detail::listing::public_, params, overrides_));
    }

    /// Every model of `GET /models` with these filters, one at a time. See `model_stream`.
    model_stream all(list_params params = {}) const
    {
        return model_stream(pages(params));
    }

    /// Every model of `GET /models/public` with these filters, one at a time.
    model_stream all_public(list_params params = {}) const
    {
        return model_stream(public_pages(params));
    }

private:
    std::shared_ptr<detail::client_state> state_;
    std::shared_ptr<call_options const> overrides_;
};

} // namespace scenario

#endif // SCENARIO_MODELS_API_HPP
