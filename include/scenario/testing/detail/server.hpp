// The local Scenario API server's network side: TLS, HTTP/1.1 keep-alive connections, one
// coroutine each, on a thread of its own; and the faults it injects on the wire.

#ifndef SCENARIO_TESTING_DETAIL_SERVER_HPP
#define SCENARIO_TESTING_DETAIL_SERVER_HPP

#include <scenario/testing/detail/fault_selector.hpp>
#include <scenario/testing/detail/json_writer.hpp>
#include <scenario/testing/detail/service.hpp>
#include <scenario/testing/fault_plan.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
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

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>
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
    std::chrono::milliseconds idle_timeout{30'000};
    std::string certificate_pem;
    std::string private_key_pem;
    fault_plan faults{};
    std::string required_server_name{}; // refuse handshakes without this SNI, if set
};

/// `when`, rounded up to the second, as an IMF-fixdate: the HTTP-date form of RFC 9110,
/// `Sun, 06 Nov 1994 08:49:37 GMT`. Written by hand because strftime's names follow the locale.
inline std::string http_date(std::chrono::system_clock::time_point when)
{
    static constexpr char const* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    auto const second = std::chrono::ceil<std::chrono::seconds>(when);
    auto const day = std::chrono::floor<std::chrono::days>(second);
    std::chrono::year_month_day const date{day};
    std::chrono::hh_mm_ss const time{second - day};

    char text[40];
    std::snprintf(
        text, sizeof(text), "%s, %02u %s %04d %02d:%02d:%02d GMT",
        weekdays[std::chrono::weekday{day}.c_encoding()], static_cast<unsigned>(date.day()),
        months[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
        static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
        static_cast<int>(time.seconds().count()));
    return text;
}

/// Accepts TLS connections and answers their requests with a `service`, on its own thread and
/// io_context, injecting the faults of a `fault_plan`. The constructor binds and listens, so
/// the port is known and failures surface before it returns; the destructor stops.
class server
{
public:
    /// How many request-targets `received_targets` remembers.
    static constexpr std::size_t remembered_targets = 1000;

    /// Starts serving `answers`, which must outlive the server. Throws
    /// boost::system::system_error when the address cannot be resolved or bound,
    /// std::runtime_error (Asio's) when the certificate or key is refused, and
    /// std::invalid_argument when the fault plan cannot be obeyed.
    server(service& answers, server_settings const& settings)
        : service_(answers)
        , idle_timeout_(settings.idle_timeout)
        , faults_(settings.faults)
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

    /// Replaces the fault plan for the requests read from now on; see
    /// `fault_selector::replace`.
    void set_fault_plan(fault_plan plan)
    {
        faults_.replace(std::move(plan));
    }

    /// Requests that got a fault so far.
    std::size_t faults_injected() const noexcept
    {
        return faults_.injected();
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
    using request_message = http::request<http::string_body>;
    using response_message = http::response<http::string_body>;
    using duration = std::chrono::steady_clock::duration;

    static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    static constexpr std::chrono::seconds handshake_timeout{10};
    static constexpr std::chrono::seconds shutdown_timeout{2};
    static constexpr std::size_t body_limit = 8 * 1024 * 1024;

    /// How much a stalled connection reads ahead, of requests pipelined behind the stalled one.
    static constexpr std::size_t stall_read_ahead = 1024 * 1024;

    /// The pieces in which an oversized body is written, so that none is held whole.
    static constexpr std::size_t padding_chunk = 64 * 1024;

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
        required_server_name_ = settings.required_server_name;
        if (!required_server_name_.empty())
        {
            SSL_CTX_set_tlsext_servername_callback(ssl_context_.native_handle(), &check_sni);
            SSL_CTX_set_tlsext_servername_arg(ssl_context_.native_handle(), this);
        }
    }

    // OpenSSL calls it for every ClientHello, with or without a server name in it.
    static int check_sni(SSL* ssl, int* alert, void* self)
    {
        char const* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        auto const& required = static_cast<server*>(self)->required_server_name_;
        if (name != nullptr && required == name)
            return SSL_TLSEXT_ERR_OK;
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
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

        // A keep_alive_timeout fault shortens this for the rest of the connection.
        duration idle_timeout = idle_timeout_;
        for (;;)
        {
            // Beast needs a fresh parser per message; the buffer carries pipelined requests
            // already received over to the next one.
            http::request_parser<http::string_body> parser;
            parser.body_limit(body_limit);

            tcp.expires_after(idle_timeout);
            auto [read_error, header_size] =
                co_await http::async_read_header(stream, buffer, parser, use_tuple);
            if (!read_error && !parser.is_done())
                read_error = co_await read_body(stream, buffer, parser);
            if (read_error)
            {
                co_await end_after_read_error(stream, read_error);
                co_return;
            }

            request_message const& request = parser.get();
            std::optional<fault_rule> const fault = receive(request);
            bool open = false;
            if (fault)
            {
                open = co_await inject(*fault, stream, buffer, request, idle_timeout);
            }
            else
            {
                response_message response = answer(request);
                open = co_await respond(stream, response, idle_timeout);
            }
            if (!open || stopping_)
                co_return;
        }
    }

    /// Writes `response`, and closes with close_notify when it does not keep the connection
    /// alive. Answers whether the connection stays open for the next request.
    asio::awaitable<bool> respond(
        tls_stream& stream, response_message& response, duration idle_timeout)
    {
        beast::get_lowest_layer(stream).expires_after(idle_timeout);
        auto [error, written] = co_await http::async_write(stream, response, use_tuple);
        if (error || stopping_)
            co_return false;
        if (!response.keep_alive())
        {
            co_await shut_down(stream);
            co_return false;
        }
        co_return true;
    }

// GCC 11 to 15 warn, wrongly, that the frame of this coroutine is freed by a function that
// does not match its allocation (GCC bug 109224, about Asio's frame operators new and delete).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
    /// Answers `request` with `fault` instead of (or around) its normal answer. Answers whether
    /// the connection stays open for the next request.
    asio::awaitable<bool> inject(
        fault_rule const& fault, tls_stream& stream, beast::flat_buffer& buffer,
        request_message const& request, duration& idle_timeout)
    {
        switch (fault.kind)
        {
        case fault_kind::too_many_requests:
        case fault_kind::too_many_requests_date:
        case fault_kind::too_many_requests_body:
        {
            response_message response = too_many_requests(fault, request);
            co_return co_await respond(stream, response, idle_timeout);
        }

        case fault_kind::internal_error:
        case fault_kind::bad_gateway:
        case fault_kind::service_unavailable:
        {
            response_message response = server_failure(fault.kind, request);
            co_return co_await respond(stream, response, idle_timeout);
        }

        case fault_kind::close_after_response:
        {
            response_message response = answer(request);
            response.keep_alive(true);
            if (co_await respond(stream, response, idle_timeout))
                abandon(stream);
            co_return false;
        }

        case fault_kind::reset_mid_headers:
        {
            response_message const response = answer(request);
            std::string const header = header_bytes(response);
            std::string_view const part{header.data(), header.size() / 2};
            if (co_await write_bytes(stream, part, {}, idle_timeout))
                reset(stream);
            co_return false;
        }

        case fault_kind::reset_mid_body:
        case fault_kind::truncated_body:
        {
            response_message const response = answer(request);
            std::string const header = header_bytes(response);
            std::string_view const half{response.body().data(), response.body().size() / 2};
            if (!co_await write_bytes(stream, header, half, idle_timeout))
                co_return false;
            if (fault.kind == fault_kind::reset_mid_body)
                reset(stream);
            else
                co_await shut_down(stream);
            co_return false;
        }

        case fault_kind::stall:
        {
            if (!co_await stall(stream, buffer, fault.delay))
                co_return false;
            response_message response = answer(request);
            co_return co_await respond(stream, response, idle_timeout);
        }

        case fault_kind::oversized_body:
            co_return co_await write_oversized(stream, request, fault.body_bytes, idle_timeout);

        case fault_kind::connection_close:
        {
            response_message response = answer(request);
            response.keep_alive(false);
            co_return co_await respond(stream, response, idle_timeout);
        }

        case fault_kind::keep_alive_timeout:
        {
            response_message response = answer(request);
            response.keep_alive(true);
            response.set(
                http::field::keep_alive, "timeout=" + std::to_string(fault.retry_after_seconds));
            idle_timeout = std::chrono::seconds(fault.retry_after_seconds);
            co_return co_await respond(stream, response, idle_timeout);
        }
        }

        // A kind added to fault_kind but not here: answer normally rather than misbehave.
        response_message response = answer(request);
        co_return co_await respond(stream, response, idle_timeout);
    }
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif

    /// A 429 in one of the three shapes rate-limited clients meet.
    response_message too_many_requests(fault_rule const& fault, request_message const& request)
    {
        service_response limited = error_response(429, "Too many requests");
        if (fault.kind == fault_kind::too_many_requests_body)
        {
            limited.body.clear();
            json_writer writer{limited.body};
            writer.begin_object();
            writer.member("reason", "Too many requests");
            writer.member("remainingSeconds", fault.retry_after_seconds);
            writer.end_object();
        }

        response_message response = make_response(std::move(limited), request);
        if (fault.kind == fault_kind::too_many_requests)
        {
            response.set(http::field::retry_after, std::to_string(fault.retry_after_seconds));
        }
        else if (fault.kind == fault_kind::too_many_requests_date)
        {
            auto const later =
                std::chrono::system_clock::now() + std::chrono::seconds(fault.retry_after_seconds);
            response.set(http::field::retry_after, http_date(later));
        }
        return response;
    }

    /// A 500, 502 or 503, worded as the usual proxies and servers word them.
    response_message server_failure(fault_kind kind, request_message const& request)
    {
        unsigned status = 503;
        std::string_view reason = "Service unavailable";
        if (kind == fault_kind::internal_error)
        {
            status = 500;
            reason = "Internal server error";
        }
        else if (kind == fault_kind::bad_gateway)
        {
            status = 502;
            reason = "Bad gateway";
        }
        return make_response(error_response(status, reason), request);
    }

    /// Waits `delay` without answering. Meanwhile it keeps reading, so that a client that
    /// leaves (or `stop`) ends the wait at once, and keeps in `buffer` whatever requests the
    /// client pipelines behind this one. Answers whether the client is still there.
    asio::awaitable<bool> stall(
        tls_stream& stream, beast::flat_buffer& buffer, std::chrono::milliseconds delay)
    {
        using asio::experimental::awaitable_operators::operator||;

        // The stall bounds the wait, not the idle timeout.
        beast::get_lowest_layer(stream).expires_never();

        asio::steady_timer timer{io_context_, delay};
        auto waiting = wait(timer);
        auto watching = watch(stream, buffer);
        auto const first = co_await (std::move(waiting) || std::move(watching));
        co_return first.index() == 0 && !stopping_;
    }

    static asio::awaitable<void> wait(asio::steady_timer& timer)
    {
        co_await timer.async_wait(use_tuple);
    }

    /// Reads until the client leaves. Once `buffer` holds `stall_read_ahead` bytes it stops
    /// reading, and only a reset or `stop` closing the socket ends the watch.
    static asio::awaitable<void> watch(tls_stream& stream, beast::flat_buffer& buffer)
    {
        while (buffer.size() < stall_read_ahead)
        {
            auto [error, size] =
                co_await stream.async_read_some(buffer.prepare(16 * 1024), use_tuple);
            buffer.commit(size);
            if (error)
                co_return;
        }

        auto& socket = beast::get_lowest_layer(stream).socket();
        co_await socket.async_wait(asio::socket_base::wait_error, use_tuple);
    }

    /// A 200 of exactly `size` bytes of valid JSON, written in pieces: the normal answer with a
    /// `"padding"` member when it is a success that fits, otherwise only the padding.
    asio::awaitable<bool> write_oversized(
        tls_stream& stream, request_message const& request, std::size_t size, duration idle_timeout)
    {
        response_message response = answer(request);
        std::string_view const padding_member = "\"padding\":\"";
        std::string_view const end = "\"}";

        std::string start;
        std::string const& normal = response.body();
        if (response.result_int() / 100 == 2 && normal.size() >= 2 && normal.front() == '{' &&
            normal.back() == '}')
        {
            start.assign(normal, 0, normal.size() - 1);
            if (normal != "{}")
                start += ',';
            start += padding_member;
        }
        if (start.empty() || start.size() + end.size() > size)
            start = "{" + std::string(padding_member);

        response.result(http::status::ok);
        response.erase(http::field::allow);
        response.body().clear();
        response.content_length(size);
        std::string const header = header_bytes(response);
        if (!co_await write_bytes(stream, header, start, idle_timeout))
            co_return false;

        static std::string const padding(padding_chunk, 'x');
        for (std::size_t left = size - start.size() - end.size(); left > 0;)
        {
            std::size_t const piece = std::min(left, padding.size());
            if (!co_await write_bytes(stream, {padding.data(), piece}, {}, idle_timeout))
                co_return false;
            left -= piece;
        }
        if (!co_await write_bytes(stream, end, {}, idle_timeout))
            co_return false;
        if (!response.keep_alive())
        {
            co_await shut_down(stream);
            co_return false;
        }
        co_return true;
    }

    /// Writes bytes as they are, through TLS. Answers whether they were all written.
    asio::awaitable<bool> write_bytes(
        tls_stream& stream, std::string_view first, std::string_view second, duration idle_timeout)
    {
        beast::get_lowest_layer(stream).expires_after(idle_timeout);
        std::array<asio::const_buffer, 2> const pieces{
            asio::buffer(first.data(), first.size()), asio::buffer(second.data(), second.size())};
        auto [error, written] = co_await asio::async_write(stream, pieces, use_tuple);
        co_return !error && !stopping_;
    }

    /// The status line and headers of `response`, as they go on the wire.
    static std::string header_bytes(http::response_header<> const& header)
    {
        std::ostringstream text;
        text << header;
        return std::move(text).str();
    }

    /// Closes the TCP connection without a TLS close_notify: the peer sees the stream end
    /// without the TLS ending (ssl::error::stream_truncated).
    static void abandon(tls_stream& stream)
    {
        beast::get_lowest_layer(stream).close();
    }

    /// Closes the TCP connection with a reset (RST) instead of the orderly FIN: a zero linger
    /// time makes close drop whatever is unsent. On loopback the bytes already written have
    /// reached the peer by then, so it reads them before the reset.
    static void reset(tls_stream& stream)
    {
        beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
        boost::system::error_code ignored;
        tcp.socket().set_option(asio::socket_base::linger(true, 0), ignored);
        tcp.close();
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

    /// Counts and records a request read whole, and picks its fault, if any.
    std::optional<fault_rule> receive(request_message const& request)
    {
        ++requests_received_;
        std::string_view const target = request.target();
        remember_target(target);
        return faults_.select(target.substr(0, target.find('?')));
    }

    /// The normal answer to `request`.
    response_message answer(request_message const& request)
    {
        service_response result = service_.handle(
            request.method(), request.target(), request[http::field::authorization],
            request.body());
        return make_response(std::move(result), request);
    }

    response_message make_response(service_response result, request_message const& request)
    {
        response_message response{static_cast<http::status>(result.status), request.version()};
        decorate(response, result);
        response.keep_alive(request.keep_alive());
        response.body() = std::move(result.body);
        response.prepare_payload();
        return response;
    }

    /// Sets the headers every answer carries.
    void decorate(response_message& response, service_response const& result)
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
    duration idle_timeout_;
    fault_selector faults_;
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
    std::string required_server_name_;
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
