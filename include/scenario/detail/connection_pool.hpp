#ifndef SCENARIO_DETAIL_CONNECTION_POOL_HPP
#define SCENARIO_DETAIL_CONNECTION_POOL_HPP

#include <scenario/detail/endpoint.hpp>
#include <scenario/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <vector>

namespace scenario::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

// One keep-alive TLS connection and the bytes read from it but not yet parsed.
struct connection
{
    connection(asio::any_io_executor executor, asio::ssl::context& tls, std::size_t buffer_size)
        : stream(executor, tls)
    {
        buffer.reserve(buffer_size);
    }

    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
};

struct pool_settings
{
    endpoint where;
    std::size_t max_connections = 16;
    std::chrono::milliseconds connect_timeout{10000};
    std::size_t read_buffer_size = 64 * 1024;
};

class connection_pool;

// A connection on loan from the pool. Unless `give_back` says it is fit for reuse, the
// destructor closes it: a lease dropped by an error, a timeout or a cancellation never returns
// a connection in an unknown state.
class lease
{
public:
    lease() = default;
    lease(std::shared_ptr<connection_pool> pool, std::unique_ptr<connection> conn, bool reused)
        : pool_(std::move(pool))
        , connection_(std::move(conn))
        , reused_(reused)
    {}
    lease(lease&&) noexcept = default;
    lease& operator=(lease&& other) noexcept
    {
        release(false);
        pool_ = std::move(other.pool_);
        connection_ = std::move(other.connection_);
        reused_ = other.reused_;
        return *this;
    }
    ~lease()
    {
        release(false);
    }

    explicit operator bool() const noexcept
    {
        return connection_ != nullptr;
    }

    connection& operator*() const noexcept
    {
        return *connection_;
    }

    connection* operator->() const noexcept
    {
        return connection_.get();
    }

    // True if the connection served earlier requests, so the server may have closed it
    // while it sat idle.
    bool reused() const noexcept
    {
        return reused_;
    }

    // After a complete response on a connection the server keeps open.
    void give_back()
    {
        release(true);
    }

private:
    inline void release(bool reusable);

    std::shared_ptr<connection_pool> pool_;
    std::unique_ptr<connection> connection_;
    bool reused_ = false;
};

// A bounded pool of TLS connections to one endpoint. Callers beyond the bound wait in order
// of arrival for a connection to come back or for a slot to free up.
//
// Not thread-safe: every member runs on the client's executor.
class connection_pool : public std::enable_shared_from_this<connection_pool>
{
public:
    connection_pool(asio::any_io_executor executor, asio::ssl::context& tls, pool_settings s)
        : executor_(std::move(executor))
        , tls_(tls)
        , settings_(std::move(s))
    {}

    // A connection for one request: an idle one if any, else a new one while under the bound,
    // else the first one to come back. Callers are served in arrival order: while anyone
    // waits, newcomers queue behind them, and what comes back is handed to the first waiter.
    // Fails with what went wrong in `diag.message`.
    asio::awaitable<lease> acquire(error_code& ec, diagnostics& diag)
    {
        if (!closed_ && waiters_.empty())
        {
            if (!idle_.empty())
            {
                auto conn = std::move(idle_.back());
                idle_.pop_back();
                co_return lease{shared_from_this(), std::move(conn), true};
            }
            if (open_ < settings_.max_connections)
            {
                ++open_;
                co_return co_await open_in_reserved_slot(ec, diag);
            }
        }
        if (closed_)
            co_return shut_down(ec, diag);

        waiter_guard guard(*this);
        co_await guard.wait();
        if (guard.handed_)
            co_return lease{shared_from_this(), std::move(guard.handed_), true};
        if (guard.slot_)
        {
            guard.slot_ = false;
            co_return co_await open_in_reserved_slot(ec, diag);
        }
        co_return shut_down(ec, diag);
    }

    // Closes idle connections and wakes every waiter; later acquisitions fail. Connections
    // in use are closed when they come back.
    void close()
    {
        closed_ = true;
        for (auto& conn : idle_)
            close_socket(*conn);
        open_ -= idle_.size();
        idle_.clear();
        while (!waiters_.empty())
            pop_waiter();
    }

    std::size_t open_connections() const noexcept
    {
        return open_;
    }

    std::size_t idle_connections() const noexcept
    {
        return idle_.size();
    }

    std::size_t handshakes() const noexcept
    {
        return handshakes_;
    }

private:
    friend class lease;

    // A waiter's place in line. What is handed to it (a connection, or a slot to open one in)
    // and not used, because the wait was cancelled or the coroutine destroyed, goes back to
    // the pool, and so to the next waiter.
    class waiter_guard
    {
    public:
        explicit waiter_guard(connection_pool& pool)
            : pool_(pool)
            , timer_(pool.executor_, asio::steady_timer::time_point::max())
        {
            place_ = pool_.waiters_.insert(pool_.waiters_.end(), this);
        }

        waiter_guard(waiter_guard const&) = delete;
        waiter_guard& operator=(waiter_guard const&) = delete;

        ~waiter_guard()
        {
            if (!woken_)
                pool_.waiters_.erase(place_);
            if (handed_)
                pool_.release(std::move(handed_), true);
            else if (slot_)
                pool_.release_slot();
        }

        asio::awaitable<void> wait()
        {
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!woken_)
                throw boost::system::system_error(asio::error::operation_aborted);
        }

        std::unique_ptr<connection> handed_;
        bool slot_ = false;

    private:
        friend class connection_pool;

        connection_pool& pool_;
        asio::steady_timer timer_;
        std::list<waiter_guard*>::iterator place_;
        bool woken_ = false;
    };

    lease shut_down(error_code& ec, diagnostics& diag) const
    {
        ec = asio::error::operation_aborted;
        diag.message = "the client was shut down";
        return lease{};
    }

    // Takes the first waiter out of the line and wakes it; the caller gives it its due.
    waiter_guard& pop_waiter()
    {
        auto* waiter = waiters_.front();
        waiters_.pop_front();
        waiter->woken_ = true;
        waiter->timer_.cancel();
        return *waiter;
    }

    static void close_socket(connection& conn)
    {
        error_code ignored;
        beast::get_lowest_layer(conn.stream).socket().close(ignored);
    }

    void release(std::unique_ptr<connection> conn, bool reusable)
    {
        if (!reusable || closed_)
        {
            close_socket(*conn);
            release_slot();
        }
        else if (!waiters_.empty())
        {
            pop_waiter().handed_ = std::move(conn);
        }
        else
        {
            idle_.push_back(std::move(conn));
        }
    }

    // A connection slot is free: the first waiter may open a connection in it.
    void release_slot()
    {
        if (!closed_ && !waiters_.empty())
            pop_waiter().slot_ = true;
        else
            --open_;
    }

    // Opens a connection in a slot already counted in `open_`. Until the handshake succeeds,
    // the slot is given back by whatever way this ends, an exception included.
    asio::awaitable<lease> open_in_reserved_slot(error_code& ec, diagnostics& diag)
    {
        struct slot_keeper
        {
            connection_pool* pool;
            ~slot_keeper()
            {
                if (pool != nullptr)
                    pool->release_slot();
            }
        } keeper{this};

        auto conn = std::make_unique<connection>(executor_, tls_, settings_.read_buffer_size);
        co_await connect(*conn, ec, diag);
        if (ec)
            co_return lease{};
        keeper.pool = nullptr; // the lease owns the slot now
        co_return lease{shared_from_this(), std::move(conn), false};
    }

    asio::awaitable<void> connect(connection& conn, error_code& ec, diagnostics& diag)
    {
        auto& tcp = beast::get_lowest_layer(conn.stream);
        auto const& where = settings_.where;
        auto use = asio::as_tuple(asio::use_awaitable);

        auto endpoints = co_await resolve(ec, diag);
        if (ec)
            co_return;

        tcp.expires_after(settings_.connect_timeout);
        auto [connect_ec, peer] = co_await tcp.async_connect(endpoints, use);
        if (connect_ec)
        {
            ec = connect_ec;
            diag.message = "could not connect to " + where.host_header + ": " +
                           timeout_aware_message(ec) + " (check the base URL and the network)";
            co_return;
        }
        error_code no_delay_ec; // a latency nicety: the connection works without it
        tcp.socket().set_option(asio::ip::tcp::no_delay(true), no_delay_ec);

        if (where.host_is_name &&
            !SSL_set_tlsext_host_name(conn.stream.native_handle(), where.host.c_str()))
        {
            ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
            diag.message = "could not set the TLS server name: " + ec.message();
            co_return;
        }
        conn.stream.set_verify_mode(asio::ssl::verify_peer);
        conn.stream.set_verify_callback(asio::ssl::host_name_verification(where.host));

        auto [handshake_ec] =
            co_await conn.stream.async_handshake(asio::ssl::stream_base::client, use);
        if (handshake_ec)
        {
            ec = handshake_ec;
            diag.message = "TLS handshake with " + where.host_header +
                           " failed: " + tls_failure_message(conn, ec);
            co_return;
        }
        ++handshakes_;
        tcp.expires_never();
    }

    // Resolves the host within the connect timeout, which Asio's resolver does not have.
    // An address in the URL skips the lookup.
    // Limitation: a cancelled call that is resolving a host name ends when the lookup does
    // (at most the connect timeout): the resolver has no per-operation cancellation.
    asio::awaitable<std::vector<asio::ip::tcp::endpoint>> resolve(error_code& ec, diagnostics& diag)
    {
        auto const& where = settings_.where;
        std::vector<asio::ip::tcp::endpoint> endpoints;
        if (!where.host_is_name)
        {
            endpoints.emplace_back(asio::ip::make_address(where.host), where.port_number);
            co_return endpoints;
        }

        asio::ip::tcp::resolver resolver(executor_);
        asio::steady_timer deadline(executor_, settings_.connect_timeout);
        bool timed_out = false;
        deadline.async_wait([&resolver, &timed_out](error_code wait_ec) {
            if (!wait_ec)
            {
                timed_out = true;
                resolver.cancel();
            }
        });
        auto [resolve_ec, results] = co_await resolver.async_resolve(
            where.host, where.port, asio::as_tuple(asio::use_awaitable));
        deadline.cancel();
        if (resolve_ec)
        {
            ec = timed_out ? make_error_code(beast::error::timeout) : resolve_ec;
            diag.message = "could not resolve " + where.host + ": " + timeout_aware_message(ec) +
                           " (check the base URL and the network)";
            co_return endpoints;
        }
        for (auto const& entry : results)
            endpoints.push_back(entry.endpoint());
        co_return endpoints;
    }

    std::string timeout_aware_message(error_code const& ec) const
    {
        if (ec == beast::error::timeout)
            return "timed out after " + std::to_string(settings_.connect_timeout.count()) + " ms";
        if (ec == asio::error::operation_aborted)
            return "the call was cancelled";
        return ec.message();
    }

    std::string tls_failure_message(connection& conn, error_code const& ec) const
    {
        long verify = SSL_get_verify_result(conn.stream.native_handle());
        if (verify != X509_V_OK)
            return std::string(X509_verify_cert_error_string(verify)) +
                   " (the server's certificate is not trusted for this host name; add its CA "
                   "with the ca_file or ca_pem option if it is a private one)";
        return timeout_aware_message(ec);
    }

    asio::any_io_executor executor_;
    asio::ssl::context& tls_;
    pool_settings settings_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::list<waiter_guard*> waiters_;
    std::size_t open_ = 0; // open or opening, idle or leased, or handed to a waiter as a slot
    std::size_t handshakes_ = 0;
    bool closed_ = false;
};

inline void lease::release(bool reusable)
{
    if (connection_)
        pool_->release(std::move(connection_), reusable);
    pool_.reset();
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_CONNECTION_POOL_HPP
