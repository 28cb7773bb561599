#ifndef SCENARIO_DETAIL_CLIENT_STATE_HPP
#define SCENARIO_DETAIL_CLIENT_STATE_HPP

#include <scenario/client_options.hpp>
#include <scenario/credentials.hpp>
#include <scenario/detail/connection_pool.hpp>
#include <scenario/detail/endpoint.hpp>
#include <scenario/detail/model_parse.hpp>
#include <scenario/error.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/evp.h>

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
};

struct http_response
{
    unsigned status = 0;
    std::string body;
    std::string request_id;
};

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
                options_.read_buffer_size});
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

    // Sends one request and reads its whole response. A connection that served earlier
    // requests may have been closed by the server while idle: if an idempotent request fails
    // on one before any byte of the answer arrived, it goes again on another connection.
    // Statuses outside 2xx come back as errors with the server's reason in `diag`.
    asio::awaitable<http_response> execute(
        request_spec const& spec, error_code& ec, diagnostics& diag)
    {
        diag.method = std::string(http::to_string(spec.method));
        diag.path = spec.path;
        auto request = make_request(spec);
        http_response response;

        for (std::size_t attempt = 0;; ++attempt)
        {
            ec = {};
            lease conn = co_await pool_->acquire(ec, diag);
            if (ec)
                co_return response;

            bool answered = false;
            ec = co_await exchange(conn, request, response, answered);
            if (!ec)
            {
                if (response.status >= 200 && response.status < 300)
                {
                    co_return response;
                }
                ec = make_http_error(response.status);
                diag.http_status = response.status;
                diag.server_reason = server_reason(response.body);
                diag.request_id = response.request_id;
                diag.body = std::move(response.body);
                co_return http_response{};
            }

            // Only a connection that died while idle: not a timeout, not a cancellation.
            bool stale = conn.reused() && !answered && spec.idempotent &&
                         ec != asio::error::operation_aborted && ec != beast::error::timeout;
            if (stale && attempt <= options_.max_connections)
                continue;
            diag.message = describe_transport_failure(ec);
            co_return response;
        }
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
    }

    void configure_tls()
    {
        SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
        tls_.set_verify_mode(asio::ssl::verify_peer);
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

    // One request and response on one connection; the connection goes back to the pool only
    // after a complete response the server did not ask to close.
    asio::awaitable<error_code> exchange(
        lease& conn, http::request<http::string_body> const& request, http_response& response,
        bool& answered)
    {
        auto use = asio::as_tuple(asio::use_awaitable);
        auto& tcp = beast::get_lowest_layer(conn->stream);
        tcp.expires_after(options_.request_timeout);

        auto [write_ec, written] = co_await http::async_write(conn->stream, request, use);
        if (write_ec)
            co_return write_ec;

        http::response_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
        parser.body_limit(options_.body_limit);
        auto [read_ec, read] = co_await http::async_read(conn->stream, conn->buffer, parser, use);
        answered = parser.got_some();
        if (read_ec)
            co_return read_ec;

        tcp.expires_never();
        auto& message = parser.get();
        response.status = message.result_int();
        if (auto id = message.find("x-request-id"); id != message.end())
            response.request_id = std::string(id->value());
        response.body = std::move(message.body());
        if (message.keep_alive())
            conn.give_back();
        co_return error_code{};
    }

    std::string describe_transport_failure(error_code const& ec) const
    {
        if (ec == beast::error::timeout)
            return "no complete response within " +
                   std::to_string(options_.request_timeout.count()) +
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
