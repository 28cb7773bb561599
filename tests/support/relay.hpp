#ifndef SCENARIO_TESTS_SUPPORT_RELAY_HPP
#define SCENARIO_TESTS_SUPPORT_RELAY_HPP

// A TCP relay on loopback in front of a server that breaks chosen connections at chosen moments,
// as a flaky network or a restarting server would: for the steps of a request that the local
// API's fault plan cannot reach (the handshake, a write on a connection already dead, the
// close_notify exchange).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace scenario_tests {

enum class relay_fault
{
    none,
    close_at_once,                   // reset when the client first speaks (its TLS hello)
    reset_on_client_data_after_idle, // reset when the client speaks after 100 ms of silence
    reset_after_server_closes,       // the server's FIN becomes a reset, 100 ms later
};

class relay
{
public:
    explicit relay(std::uint16_t target_port, std::uint16_t listen_port = 0)
        : target_{boost::asio::ip::make_address("127.0.0.1"), target_port}
        , acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), listen_port})
    {
        boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    ~relay()
    {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const
    {
        return acceptor_.local_endpoint().port();
    }

    // The fault of the first, second, … connection accepted from now on; later ones pass.
    void plan(std::vector<relay_fault> faults)
    {
        std::lock_guard lock(mutex_);
        plan_ = std::move(faults);
        next_ = 0;
    }

    std::size_t connections() const
    {
        return connections_;
    }

private:
    using tcp = boost::asio::ip::tcp;
    static constexpr auto use = boost::asio::as_tuple(boost::asio::use_awaitable);

    struct link
    {
        tcp::socket client;
        tcp::socket server;
        relay_fault fault;
        std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
    };

    relay_fault next_fault()
    {
        std::lock_guard lock(mutex_);
        return next_ < plan_.size() ? plan_[next_++] : relay_fault::none;
    }

    static void reset(tcp::socket& socket)
    {
        boost::system::error_code ignored;
        socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
    }

    boost::asio::awaitable<void> accept_loop()
    {
        for (;;)
        {
            auto [ec, socket] = co_await acceptor_.async_accept(use);
            if (ec)
                co_return;
            ++connections_;
            auto fault = next_fault();
            if (fault == relay_fault::close_at_once)
            {
                boost::asio::co_spawn(io_, reset_on_hello(std::move(socket)), boost::asio::detached);
                continue;
            }
            auto shared = std::make_shared<link>(
                link{std::move(socket), tcp::socket(io_), fault, std::chrono::steady_clock::now()});
            boost::asio::co_spawn(io_, serve(shared), boost::asio::detached);
        }
    }

    // Waits for the client's first bytes, so that the connection fails in the handshake and
    // not, by a race with the reset, in the connect.
    boost::asio::awaitable<void> reset_on_hello(tcp::socket socket)
    {
        std::array<char, 512> hello;
        co_await socket.async_read_some(boost::asio::buffer(hello), use);
        reset(socket);
    }

    boost::asio::awaitable<void> serve(std::shared_ptr<link> l)
    {
        auto [ec] = co_await l->server.async_connect(target_, use);
        if (ec)
        {
            reset(l->client);
            co_return;
        }
        boost::asio::co_spawn(io_, pump_to_server(l), boost::asio::detached);
        co_await pump_to_client(l);
    }

    boost::asio::awaitable<void> pump_to_server(std::shared_ptr<link> l)
    {
        std::array<char, 16 * 1024> bytes;
        for (;;)
        {
            auto [ec, n] = co_await l->client.async_read_some(boost::asio::buffer(bytes), use);
            auto const now = std::chrono::steady_clock::now();
            bool const after_idle = now - l->last_activity >= std::chrono::milliseconds(100);
            l->last_activity = now;
            if (!ec && after_idle && l->fault == relay_fault::reset_on_client_data_after_idle)
            {
                reset(l->client);
                reset(l->server);
                co_return;
            }
            if (ec)
            {
                boost::system::error_code ignored;
                l->server.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            auto [write_ec, written] =
                co_await boost::asio::async_write(l->server, boost::asio::buffer(bytes, n), use);
            if (write_ec)
                co_return;
        }
    }

    boost::asio::awaitable<void> pump_to_client(std::shared_ptr<link> l)
    {
        std::array<char, 16 * 1024> bytes;
        for (;;)
        {
            auto [ec, n] = co_await l->server.async_read_some(boost::asio::buffer(bytes), use);
            l->last_activity = std::chrono::steady_clock::now();
            if (ec)
            {
                if (l->fault == relay_fault::reset_after_server_closes)
                {
                    boost::asio::steady_timer later(io_, std::chrono::milliseconds(100));
                    co_await later.async_wait(use);
                    reset(l->client);
                    co_return;
                }
                boost::system::error_code ignored;
                l->client.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            auto [write_ec, written] =
                co_await boost::asio::async_write(l->client, boost::asio::buffer(bytes, n), use);
            if (write_ec)
                co_return;
        }
    }

    tcp::endpoint target_;
    boost::asio::io_context io_;
    tcp::acceptor acceptor_;
    std::mutex mutex_;
    std::vector<relay_fault> plan_;
    std::size_t next_ = 0;
    std::atomic<std::size_t> connections_{0};
    std::thread thread_;
};

} // namespace scenario_tests

#endif
