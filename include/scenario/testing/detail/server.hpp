// The local Scenario API server's network side: TLS, HTTP/1.1 keep-alive connections, one
// coroutine each, on a thread of its own.

#ifndef SCENARIO_TESTING_DETAIL_SERVER_HPP
#define SCENARIO_TESTING_DETAIL_SERVER_HPP

#include <scenario/testing/detail/service.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace scenario::testing::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

/// Where and how the server listens.
struct server_settings
{
    std::string host;
    std::uint16_t port = 0;
    std::chrono::seconds idle_timeout{30};
    std::string certificate_pem;
    std::string private_key_pem;
};

/// Accepts TLS connections and answers their requests with a `service`, on its own thread and
/// io_context. The constructor binds and listens, so the port is known and failures surface
/// before it returns; the destructor stops.
class server
{
public:
    /// How many request-targets `received_targets` remembers.
    static constexpr std::size_t remembered_targets = 1000;

    /// Starts serving `answers`, which must outlive the server. Throws
    /// boost::system::system_error when the address cannot be resolved or bound, and
    /// std::runtime_error (Asio's) when the certificate or key is refused.
    server(service& answers, server_settings const& settings)
        : service_(answers)
        , idle_timeout_(settings.idle_timeout)
        , ssl_context_(asio::ssl::context::tls_server)
        , io_context_(1)
        , acceptor_(io_context_)
    {
        configure_tls(settings);
        listen(settings.host, settings.port);

        asio::co_spawn(io_context_, accept_connections(), asio::detached);
        thread_ = std::thread([this] { run(); });
    }

    server(server const&) = delete;
    server& operator=(server const&) = delete;

    ~server()
    {
        stop();
    }

    /// The port the server listens on.
    std::uint16_t port() const noexcept
    {
        return port_;
    }

    /// Requests read so far.
    std::size_t requests_received() const noexcept
    {
        return requests_received_.load();
    }

    /// TCP connections accepted so far.
    std::size_t connections_accepted() const noexcept
    {
        return connections_accepted_.load();
    }

    /// The last request-targets received, oldest first, exactly as they came.
    std::vector<std::string> received_targets() const
    {
        std::lock_guard lock{targets_mutex_};
        return {targets_.begin(), targets_.end()};
    }

    /// Stops accepting, closes every connection and joins the thread. Idempotent; must not be
    /// called from the server's own thread, which only runs the server's code.
    void stop()
    {
        std::lock_guard lock{stop_mutex_};
        if (!thread_.joinable())
            return;

        asio::post(io_context_, [this] {
            stopping_ = true;
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            for (beast::tcp_stream* connection : connections_)
                connection->close();
        });

        // Closing makes every pending operation complete at once, so the loop runs dry almost
        // immediately; the deadline only guards against a connection that somehow lingers.
        if (finished_.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
            io_context_.stop();
        thread_.join();
    }

private:
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    static constexpr std::chrono::seconds handshake_timeout{10};
    static constexpr std::chrono::seconds shutdown_timeout{2};
    static constexpr std::size_t body_limit = 8 * 1024 * 1024;

    /// Keeps a connection in the list that `stop` closes, for as long as it lives.
    class connection_registration
    {
    public:
        connection_registration(
            std::list<beast::tcp_stream*>& connections, beast::tcp_stream& connection)
            : connections_(connections)
            , position_(connections.insert(connections.end(), &connection))
        {}

        connection_registration(connection_registration const&) = delete;
        connection_registration& operator=(connection_registration const&) = delete;

        ~connection_registration()
        {
            connections_.erase(position_);
        }

    private:
        std::list<beast::tcp_stream*>& connections_;
        std::list<beast::tcp_stream*>::iterator position_;
    };

    void configure_tls(server_settings const& settings)
    {
        ssl_context_.set_options(
            asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(ssl_context_.native_handle(), TLS1_2_VERSION);
        ssl_context_.use_certificate_chain(asio::buffer(settings.certificate_pem));
        ssl_context_.use_private_key(
            asio::buffer(settings.private_key_pem), asio::ssl::context::pem);
    }

    void listen(std::string const& host, std::uint16_t port)
    {
        asio::ip::tcp::endpoint endpoint;
        boost::system::error_code error;
        auto const address = asio::ip::make_address(host, error);
        if (!error)
        {
            endpoint = {address, port};
        }
        else
        {
            // A host name such as "localhost": its first address.
            asio::ip::tcp::resolver resolver{io_context_};
            endpoint = *resolver.resolve(host, std::to_string(port)).begin();
        }

        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
    }

    void run()
    {
        // Connection coroutines catch their own failures; this only keeps the loop alive if
        // something unexpected escapes one of them.
        for (;;)
        {
            try
            {
                io_context_.run();
                break;
            }
            catch (...)
            {}
        }
        done_.set_value();
    }

    asio::awaitable<void> accept_connections()
    {
        for (;;)
        {
            auto [error, socket] = co_await acceptor_.async_accept(use_tuple);
            if (stopping_ || !acceptor_.is_open())
                co_return;
            if (error)
            {
                // Out of descriptors, or a connection reset before it was accepted: pause so
                // that a lasting failure does not spin.
                asio::steady_timer pause{io_context_, std::chrono::milliseconds(20)};
                co_await pause.async_wait(use_tuple);
                continue;
            }

            ++connections_accepted_;
            boost::system::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            asio::co_spawn(io_context_, serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(asio::ip::tcp::socket socket)
    {
        tls_stream stream{std::move(socket), ssl_context_};
        beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
        connection_registration const registration{connections_, tcp};

        // Accepted just before `stop` closed the registered connections: close this one too.
        if (stopping_)
            co_return;

        tcp.expires_after(
            std::min<std::chrono::steady_clock::duration>(handshake_timeout, idle_timeout_));
        auto [handshake_error] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
        if (handshake_error || stopping_)
            co_return;

        beast::flat_buffer buffer;
        buffer.reserve(64 * 1024);
        for (;;)
        {
            // Beast needs a fresh parser per message; the buffer carries pipelined requests
            // already received over to the next one.
            http::request_parser<http::string_body> parser;
            parser.body_limit(body_limit);

            tcp.expires_after(idle_timeout_);
            auto [read_error, header_size] =
                co_await http::async_read_header(stream, buffer, parser, use_tuple);
            if (!read_error && !parser.is_done())
                read_error = co_await read_body(stream, buffer, parser);
            if (read_error)
            {
                co_await end_after_read_error(stream, read_error);
                co_return;
            }

            http::response<http::string_body> response = answer(parser.get());
            tcp.expires_after(idle_timeout_);
            auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
            if (write_error || stopping_)
                co_return;
            if (!response.keep_alive())
            {
                co_await shut_down(stream);
                co_return;
            }
        }
    }

    asio::awaitable<boost::system::error_code> read_body(
        tls_stream& stream, beast::flat_buffer& buffer,
        http::request_parser<http::string_body>& parser)
    {
        // Clients that announce their body with "Expect: 100-continue" wait for this before
        // sending it (curl does for large bodies).
        if (beast::iequals(parser.get()[http::field::expect], "100-continue"))
        {
            http::response<http::empty_body> proceed{http::status::continue_, 11};
            auto [error, written] = co_await http::async_write(stream, proceed, use_tuple);
            if (error)
                co_return error;
        }
        auto [error, size] = co_await http::async_read(stream, buffer, parser, use_tuple);
        co_return error;
    }

    asio::awaitable<void> end_after_read_error(tls_stream& stream, boost::system::error_code error)
    {
        if (stopping_)
            co_return;

        // The client closed the connection between requests: answer its close_notify.
        if (error == http::error::end_of_stream)
        {
            co_await shut_down(stream);
            co_return;
        }

        // Timeouts, resets, truncation, or a client gone mid-request: nothing to answer.
        if (error.category() != http::make_error_code(http::error::end_of_stream).category() ||
            error == http::error::partial_message)
            co_return;

        // The request does not parse: say so before closing, as a real server would.
        bool const too_large = error == http::error::body_limit;
        service_response const failure = error_response(
            too_large ? 413 : 400, too_large ? "Request body too large" : "Malformed HTTP request");
        http::response<http::string_body> response{static_cast<http::status>(failure.status), 11};
        decorate(response, failure);
        response.body() = failure.body;
        response.keep_alive(false);
        response.prepare_payload();

        beast::get_lowest_layer(stream).expires_after(shutdown_timeout);
        auto [write_error, written] = co_await http::async_write(stream, response, use_tuple);
        if (!write_error)
            co_await shut_down(stream);
    }

    asio::awaitable<void> shut_down(tls_stream& stream)
    {
        // Bounded: a client that never answers our close_notify must not hold the connection.
        beast::get_lowest_layer(stream).expires_after(shutdown_timeout);
        co_await stream.async_shutdown(use_tuple);
    }

    http::response<http::string_body> answer(http::request<http::string_body> const& request)
    {
        ++requests_received_;
        remember_target(request.target());

        service_response result = service_.handle(
            request.method(), request.target(), request[http::field::authorization],
            request.body());

        http::response<http::string_body> response{
            static_cast<http::status>(result.status), request.version()};
        decorate(response, result);
        response.keep_alive(request.keep_alive());
        response.body() = std::move(result.body);
        response.prepare_payload();
        return response;
    }

    /// Sets the headers every answer carries.
    void decorate(http::response<http::string_body>& response, service_response const& result)
    {
        response.set(http::field::content_type, "application/json");
        response.set("x-request-id", "req_" + std::to_string(++request_counter_));
        if (!result.allow.empty())
            response.set(http::field::allow, result.allow);
    }

    void remember_target(std::string_view target)
    {
        std::lock_guard lock{targets_mutex_};
        if (targets_.size() == remembered_targets)
            targets_.pop_front();
        targets_.emplace_back(target);
    }

    service& service_;
    std::chrono::steady_clock::duration idle_timeout_;
    std::uint16_t port_ = 0;

    std::atomic<std::size_t> requests_received_{0};
    std::atomic<std::size_t> connections_accepted_{0};
    mutable std::mutex targets_mutex_;
    std::deque<std::string> targets_;

    // Touched only on the server thread.
    bool stopping_ = false;
    std::uint64_t request_counter_ = 0;

    // Declared before the io_context so that they outlive it: if stop ever has to abandon
    // connections, their coroutines are destroyed with the io_context, and unregister then.
    asio::ssl::context ssl_context_;
    std::list<beast::tcp_stream*> connections_;

    asio::io_context io_context_;
    asio::ip::tcp::acceptor acceptor_;

    std::promise<void> done_;
    std::future<void> finished_ = done_.get_future();
    std::mutex stop_mutex_;
    std::thread thread_;
};

} // namespace scenario::testing::detail

#endif
