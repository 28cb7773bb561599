#ifndef SCENARIO_TESTS_SUPPORT_SCRIPTED_SERVER_HPP
#define SCENARIO_TESTS_SUPPORT_SCRIPTED_SERVER_HPP

// A TLS server on loopback that answers each request with the next response of a script,
// for what the local API would never send: repeated pagination tokens, bodies of the wrong
// shape, raw bytes, endless or trickling answers. It records every request it reads and
// counts the connections it accepts.

#include <scenario/testing/certificate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <deque>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scenario_tests {

struct scripted_response
{
    unsigned status = 200;
    std::string body{};
    std::chrono::milliseconds delay{0}; // before the response is written
    std::string content_type = "application/json";
    std::string raw{};                    // bytes sent as they are, instead of a response
    std::chrono::milliseconds trickle{0}; // sends 16 bytes at a time, this long apart
    bool endless_chunks = false;          // a chunked 200 whose chunks never end
    bool close_after = false;             // ends TLS and the connection once it is sent
};

class scripted_server
{
public:
    explicit scripted_server(std::vector<scripted_response> script)
        : script_(script.begin(), script.end())
        , tls_(boost::asio::ssl::context::tls_server)
        , acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0})
    {
        auto cert = scenario::testing::make_self_signed_certificate();
        certificate_pem_ = cert.certificate_pem;
        tls_.use_certificate_chain(boost::asio::buffer(cert.certificate_pem));
        tls_.use_private_key(
            boost::asio::buffer(cert.private_key_pem), boost::asio::ssl::context::pem);
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    ~scripted_server()
    {
        io_.stop();
        thread_.join();
    }

    std::string base_url() const
    {
        return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1";
    }

    std::string const& certificate_pem() const
    {
        return certificate_pem_;
    }

    std::vector<std::string> targets() const
    {
        std::lock_guard lock(mutex_);
        return targets_;
    }

    // Connections whose TLS handshake completed.
    std::size_t connections() const
    {
        std::lock_guard lock(mutex_);
        return connections_;
    }

private:
    boost::asio::awaitable<void> accept_loop()
    {
        for (;;)
        {
            auto [ec, socket] =
                co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec)
                co_return;
            boost::asio::co_spawn(io_, serve(std::move(socket)), boost::asio::detached);
        }
    }

    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket)
    {
        namespace http = boost::beast::http;
        auto use = boost::asio::as_tuple(boost::asio::use_awaitable);
        boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream(std::move(socket), tls_);
        auto [handshake_ec] =
            co_await stream.async_handshake(boost::asio::ssl::stream_base::server, use);
        if (handshake_ec)
            co_return;
        {
            std::lock_guard lock(mutex_);
            ++connections_;
        }
        boost::beast::flat_buffer buffer;
        for (;;)
        {
            http::request<http::string_body> request;
            auto [read_ec, n] = co_await http::async_read(stream, buffer, request, use);
            if (read_ec)
                co_return;
            scripted_response next{500, R"({"reason":"script exhausted"})"};
            {
                std::lock_guard lock(mutex_);
                targets_.emplace_back(request.target());
                if (!script_.empty())
                {
                    next = std::move(script_.front());
                    script_.pop_front();
                }
            }
            if (next.delay.count() > 0)
            {
                boost::asio::steady_timer pause(io_, next.delay);
                co_await pause.async_wait(use);
            }
            if (next.endless_chunks)
            {
                co_await send_endless_chunks(stream);
                co_return;
            }
            http::response<http::string_body> response{http::int_to_status(next.status), 11};
            response.set(http::field::content_type, next.content_type);
            response.body() = std::move(next.body);
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            if (next.raw.empty() && next.trickle.count() == 0)
            {
                auto [write_ec, w] = co_await http::async_write(stream, response, use);
                if (write_ec)
                    co_return;
                continue;
            }
            std::string bytes = next.raw;
            if (bytes.empty())
            {
                std::ostringstream serialized;
                serialized << response;
                bytes = serialized.str();
            }
            if (!co_await send_bytes(stream, bytes, next.trickle))
                co_return;
            if (next.close_after)
            {
                co_await stream.async_shutdown(use); // close_notify: the end is not a cut
                co_return;
            }
        }
    }

    template <class Stream>
    boost::asio::awaitable<bool> send_bytes(
        Stream& stream, std::string_view bytes, std::chrono::milliseconds trickle)
    {
        auto use = boost::asio::as_tuple(boost::asio::use_awaitable);
        std::size_t const piece = trickle.count() > 0 ? 16 : bytes.size();
        for (std::size_t at = 0; at < bytes.size(); at += piece)
        {
            if (trickle.count() > 0 && at > 0)
            {
                boost::asio::steady_timer pause(io_, trickle);
                co_await pause.async_wait(use);
            }
            auto [ec, n] = co_await boost::asio::async_write(
                stream, boost::asio::buffer(bytes.substr(at, piece)), use);
            if (ec)
                co_return false;
        }
        co_return true;
    }

    // Until the client goes away.
    template <class Stream>
    boost::asio::awaitable<void> send_endless_chunks(Stream& stream)
    {
        std::string const header = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n";
        std::string const chunk = "4000\r\n" + std::string(0x4000, ' ') + "\r\n";
        if (!co_await send_bytes(stream, header, {}))
            co_return;
        while (co_await send_bytes(stream, chunk, {}))
        {
        }
    }

    mutable std::mutex mutex_;
    std::deque<scripted_response> script_;
    std::vector<std::string> targets_;
    std::size_t connections_ = 0;
    std::string certificate_pem_;
    boost::asio::io_context io_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

} // namespace scenario_tests

#endif // SCENARIO_TESTS_SUPPORT_SCRIPTED_SERVER_HPP
