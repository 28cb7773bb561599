#ifndef SCENARIO_DETAIL_CLIENT_STATE_HPP
#define SCENARIO_DETAIL_CLIENT_STATE_HPP

#include <scenario/client_options.hpp>
#include <scenario/credentials.hpp>
#include <scenario/detail/connection_pool.hpp>
#include <scenario/detail/endpoint.hpp>
#include <scenario/detail/http_exchange.hpp>
#include <scenario/detail/model_parse.hpp>
#include <scenario/error.hpp>
#include <scenario/retry_policy.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace scenario::detail {

namespace http = boost::beast::http;

// What a request needs besides the connection.
struct request_spec
{
    http::verb method = http::verb::get;
    std::string target{};    // origin-form, query included
    std::string path{};      // for messages: the target without its query
    std::string body{};      // JSON, or empty for none
    bool idempotent = false; // may be sent again after a failure that left no answer
    std::shared_ptr<call_options const> overrides{}; // of the client's settings, if any
    body_reader* reader = nullptr; // of a 2xx body, if it is to be read
    // The end of a call that sends several requests, from `call_deadline` when it began;
    // empty for a call of one request, whose deadline starts with it.
    std::optional<clock::time_point> deadline{};
};

inline bool is_http_error(error_code const& ec) noexcept
{
    return ec.category() == http_category();
}

inline bool has_forbidden_header_bytes(std::string_view value) noexcept
{
    return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

inline std::string base64(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int written = EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data()),
        reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

// The server's explanation in an error body: `reason`, then `message`, `error`, `detail`.
inline std::string server_reason(std::string_view body)
{
    boost::system::error_code ec;
    auto parsed = boost::json::parse(body, ec);
    if (ec || !parsed.is_object())
        return {};
    for (char const* key : {"reason", "message", "error", "detail"})
    {
        auto const* value = parsed.get_object().if_contains(key);
        if (value != nullptr && value->is_string())
            return std::string(value->get_string());
    }
    return {};
}

// What became of one attempt, for the decision to send the request again.
struct attempt_report
{
    bool sent = false;      // the request may have reached the server
    bool delivered = false; // all of it was written
    bool reused = false;    // on a connection that served earlier requests
    bool answered = false;  // some of a response arrived
};

// Whether a failed attempt looks like a keep-alive connection that the server had closed
// while it sat idle, so the request goes once more, at once, on a new connection: it failed on
// a reused connection before any byte of an answer, and not by timing out. A request that may
// be sent twice qualifies whenever that holds; any other only if it was not written in full,
// since a server acts on no request it has not received whole.
inline bool worth_a_fresh_connection(
    attempt_report const& report, bool idempotent, error_code const& ec)
{
    if (!report.reused || report.answered || is_http_error(ec) || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted)
        return false;
    return idempotent || !report.delivered;
}

// Everything a client's calls share: settings, TLS context, pool. Lives as long as the client
// or the longest call in flight, whichever is later.
class client_state
{
public:
    client_state(asio::any_io_executor executor, credentials creds, client_options options)
        : executor_(std::move(executor))
        , options_(std::move(options))
        , tls_(asio::ssl::context::tls_client)
    {
        check_arguments(creds);
        configure_tls();
        authorization_ = "Basic " + base64(creds.api_key + ":" + creds.api_secret);
        pool_ = std::make_shared<connection_pool>(
            executor_, tls_,
            pool_settings{
                endpoint_, options_.max_connections, options_.connect_timeout,
                options_.handshake_timeout, options_.shutdown_timeout, options_.read_buffer_size,
                !options_.insecure_skip_certificate_verification});
    }

    ~client_state()
    {
        pool_->close();
    }

    asio::any_io_executor const& executor() const noexcept
    {
        return executor_;
    }

    client_options const& options() const noexcept
    {
        return options_;
    }

    endpoint const& where() const noexcept
    {
        return endpoint_;
    }

    connection_pool& pool() noexcept
    {
        return *pool_;
    }

    void shutdown()
    {
        pool_->close();
    }

    // When a call that begins now must end, by the call_timeout in force; never without one.
    clock::time_point call_deadline(call_options const* overrides) const
    {
        auto total = options_.call_timeout;
        if (overrides != nullptr)
            total = overrides->call_timeout.value_or(total);
        if (total > std::chrono::milliseconds::zero())
            return clock::now() + total;
        return clock::time_point::max();
    }

    // Sends one request and reads its whole response, trying again as the call's retry policy
    // allows. A connection that served earlier requests may have been closed by the server
    // while idle: an idempotent request that fails on one before any byte of the answer goes
    // once more on a new connection, at once and outside the retry budget. Statuses outside
    // 2xx come back as errors, with the server's reason in `diag`.
    asio::awaitable<http_response> execute(
        request_spec const& spec, error_code& ec, diagnostics& diag)
    {
        diag.method = std::string(http::to_string(spec.method));
        diag.path = spec.path;
        auto const settings = settings_for(spec);
        auto const request = make_request(spec);
        http_response response;
        bool fresh = false;
        std::size_t retries = 0;

        for (;;)
        {
            ++diag.attempts;
            attempt_report report;
            co_await attempt(request, spec.reader, settings, fresh, response, report, ec, diag);
            if (!ec)
            {
                diag.message.clear();
                co_return response;
            }
            if (pool_->closed() || ec == asio::error::operation_aborted)
                break;

            if (!fresh && worth_a_fresh_connection(report, spec.idempotent, ec))
            {
                fresh = true;
                continue;
            }
            fresh = false;

            attempt_outcome const outcome{diag.method, spec.idempotent, retries, ec, report.sent};
            if (retries == settings.retry->max_retries || !settings.retry->retries(outcome))
                break;
            auto const wait = wait_before_retry(*settings.retry, retries + 1, response, diag);
            if (!wait)
                break;
            if (clock::now() + *wait >= settings.deadline)
            {
                diag.message += diag.message.empty() ? "" : "; ";
                diag.message += "the call's deadline leaves no time to try again";
                break;
            }
            if (!co_await pool_->pause(*wait))
                break;
            ++retries;
        }

        if (pool_->closed())
        {
            ec = asio::error::operation_aborted;
            diag.message = "the client was shut down";
        }
        else if (response.status != 0) // a whole answer came: a status outside 2xx, or a body
        {                              // that did not read
            diag.http_status = response.status;
            if (is_http_error(ec))
                diag.server_reason = server_reason(response.body);
            diag.request_id = std::move(response.request_id);
            diag.retry_after = response.retry_after.value_or(std::chrono::milliseconds(0));
            diag.body = std::move(response.body);
        }
        co_return http_response{};
    }

private:
    void check_arguments(credentials const& creds)
    {
        std::string problem;
        if (auto ec = parse_endpoint(options_.base_url, endpoint_, problem))
            throw error(ec, diagnostics{.message = problem});
        if (creds.api_key.empty() || creds.api_secret.empty())
            throw error(
                client_errc::missing_credentials,
                diagnostics{
                    .message = "an API key and secret are required; set "
                               "SCENARIO_API_KEY and SCENARIO_API_SECRET"});
        if (has_forbidden_header_bytes(creds.api_key) ||
            has_forbidden_header_bytes(creds.api_secret) ||
            has_forbidden_header_bytes(options_.user_agent))
            throw error(
                client_errc::invalid_argument,
                diagnostics{
                    .message = "the credentials or the user agent hold a CR, LF or "
                               "NUL byte, which would split the HTTP request"});
        if (options_.max_connections == 0)
            throw error(
                client_errc::invalid_argument,
                diagnostics{.message = "max_connections must be at least 1"});
        if (options_.bulk_batch_size == 0)
            throw error(
                client_errc::invalid_argument,
                diagnostics{.message = "bulk_batch_size must be at least 1"});
    }

    void configure_tls()
    {
        SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
        tls_.set_verify_mode(
            options_.insecure_skip_certificate_verification ? asio::ssl::verify_none
                                                            : asio::ssl::verify_peer);
        error_code ec;
        if (options_.use_system_trust_store)
            tls_.set_default_verify_paths(ec);
        if (!options_.ca_pem.empty())
        {
            tls_.add_certificate_authority(asio::buffer(options_.ca_pem), ec);
            if (ec)
                throw error(
                    client_errc::invalid_trust_anchor,
                    diagnostics{
                        .message = "the ca_pem option holds no usable PEM certificate (" +
                                   ec.message() + ")"});
        }
        if (!options_.ca_file.empty())
        {
            tls_.load_verify_file(options_.ca_file, ec);
            if (ec)
                throw error(
                    client_errc::invalid_trust_anchor,
                    diagnostics{
                        .message = "could not load trust anchors from '" + options_.ca_file +
                                   "' (" + ec.message() + "); give a readable PEM file"});
        }
    }

    http::request<http::string_body> make_request(request_spec const& spec) const
    {
        http::request<http::string_body> request{spec.method, spec.target, 11};
        request.set(http::field::host, endpoint_.host_header);
        request.set(http::field::user_agent, options_.user_agent);
        request.set(http::field::accept, "application/json");
        request.set(http::field::authorization, authorization_);
        if (!spec.body.empty())
        {
            request.set(http::field::content_type, "application/json");
            request.body() = spec.body;
        }
        request.keep_alive(true);
        request.prepare_payload();
        return request;
    }

    // The settings of one call: the client's, or the overrides of the handle it came through.
    struct call_settings
    {
        retry_policy const* retry;
        std::chrono::milliseconds request_timeout;
        clock::time_point deadline; // of the whole call
    };

    call_settings settings_for(request_spec const& spec) const
    {
        auto const* overrides = spec.overrides.get();
        call_settings settings{
            &options_.retry, options_.request_timeout,
            spec.deadline ? *spec.deadline : call_deadline(overrides)};
        if (overrides != nullptr)
        {
            if (overrides->retry)
                settings.retry = &*overrides->retry;
            settings.request_timeout =
                overrides->request_timeout.value_or(options_.request_timeout);
        }
        return settings;
    }


    asio::awaitable<void> attempt(
        http::request<http::string_body> const& request, body_reader* reader,
        call_settings const& settings, bool fresh,
        http_response& response, attempt_report& report, error_code& ec, diagnostics& diag)
    {
        ec = {};
        response = http_response{};
        lease conn = co_await pool_->acquire(settings.deadline, fresh, ec, diag);
        if (ec)
            co_return;

        report.sent = true;
        report.reused = conn.reused();
        std::string problem;
        ec = co_await exchange(conn, request, reader, settings, response, report, problem);
        if (!problem.empty())
            diag.message = std::move(problem);
        else if (ec)
            diag.message = describe_transport_failure(ec, settings);
        else if (response.status < 200 || response.status >= 300)
            ec = make_http_error(response.status);
    }

    // The wait before retry `n`: the policy's, or longer if the service asked for it. None
    // when the service asks for more than the policy's cap.
    std::optional<std::chrono::milliseconds> wait_before_retry(
        retry_policy const& policy, std::size_t n, http_response const& response,
        diagnostics& diag) const
    {
        auto wait = policy.wait_before(n);
        if (!response.retry_after)
            return wait;
        if (*response.retry_after > policy.max_backoff)
        {
            diag.message = "the service asked to wait " +
                           std::to_string(response.retry_after->count()) +
                           " ms, more than retry.max_backoff allows";
            return std::nullopt;
        }
        return std::max(wait, *response.retry_after);
    }

    // One request and response on one connection. The connection goes back to the pool only
    // after a complete HTTP/1.1 response the server did not ask to close, and whose body, if
    // 2xx and `reader` is given, made sense.
    asio::awaitable<error_code> exchange(
        lease& conn, http::request<http::string_body> const& request, body_reader* reader,
        call_settings const& settings, http_response& response, attempt_report& report,
        std::string& problem)
    {
        auto use = asio::as_tuple(asio::use_awaitable);
        auto& tcp = beast::get_lowest_layer(conn->stream);
        tcp.expires_at(std::min(clock::now() + settings.request_timeout, settings.deadline));

        auto [write_ec, written] = co_await http::async_write(conn->stream, request, use);
        if (write_ec)
            co_return write_ec;
        report.delivered = true;

        auto const limits =
            response_limits{options_.header_limit, options_.body_limit, options_.max_idle_time};
        if (auto ec = co_await read_response(
                conn->stream, conn->buffer, limits, response, report.answered))
            co_return ec;
        tcp.expires_never();

        if (reader != nullptr && response.status >= 200 && response.status < 300)
        {
            if (auto ec = reader->read(response.body, problem))
            {
                conn.retire();
                co_return ec;
            }
        }
        if (response.keep_for)
            conn.give_back(*response.keep_for);
        else
            conn.retire();
        co_return error_code{};
    }

    std::string describe_transport_failure(
        error_code const& ec, call_settings const& settings) const
    {
        if (ec == beast::error::timeout && clock::now() >= settings.deadline)
            return "the call did not complete before its deadline (raise call_timeout)";
        if (ec == beast::error::timeout)
            return "no complete response within " +
                   std::to_string(settings.request_timeout.count()) +
                   " ms (raise request_timeout or try again)";
        if (ec == http::error::body_limit)
            return "the response body is larger than body_limit (" +
                   std::to_string(options_.body_limit) +
                   " bytes); raise body_limit or ask for smaller pages";
        if (ec == http::error::header_limit)
            return "the response header is larger than header_limit (" +
                   std::to_string(options_.header_limit) + " bytes); raise header_limit";
        if (ec == asio::error::operation_aborted)
            return "the call was cancelled";
        return "the connection to " + endpoint_.host_header + " failed: " + ec.message();
    }

    asio::any_io_executor executor_;
    client_options options_;
    asio::ssl::context tls_;
    endpoint endpoint_;
    std::string authorization_;
    std::shared_ptr<connection_pool> pool_;
};

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_CLIENT_STATE_HPP
