#ifndef SCENARIO_DETAIL_CONNECTION_POOL_HPP
#define SCENARIO_DETAIL_CONNECTION_POOL_HPP

#include <scenario/detail/endpoint.hpp>
#include <scenario/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <vector>

namespace scenario::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

using clock = std::chrono::steady_clock;

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
    clock::time_point idle_until{};         // while pooled: closed rather than reused after it
    std::list<connection*>::iterator place; // in the pool's list of busy connections
};

struct pool_settings
{
    endpoint where;
    std::size_t max_connections = 16;
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds handshake_timeout{10000};
    std::chrono::milliseconds shutdown_timeout{1000};
    std::size_t read_buffer_size = 64 * 1024;
    bool verify_certificates = true; // the chain and the host name, by OpenSSL
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

    // After a complete response on a connection the server keeps open: it may serve others
    // for `idle_for` from now.
    void give_back(std::chrono::milliseconds idle_for)
    {
        if (idle_for <= std::chrono::milliseconds::zero())
            return retire();
        connection_->idle_until = clock::now() + idle_for;
        release(true);
    }

    // After a complete response on a connection the server closes: ends it with close_notify.
    inline void retire();

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
    // `fresh` skips idle connections, closing one if that is the only way to a free slot.
    // Waiting ends at `deadline` with `beast::error::timeout`. Fails with what went wrong in
    // `diag.message`.
    asio::awaitable<lease> acquire(
        clock::time_point deadline, bool fresh, error_code& ec, diagnostics& diag)
    {
        if (!closed_ && waiters_.empty())
        {
            if (auto conn = take_idle(fresh))
                co_return make_lease(std::move(conn), true);
            if (open_ < settings_.max_connections)
            {
                ++open_;
                reserved_slot slot(*this);
                co_return co_await open_in_reserved_slot(slot, deadline, ec, diag);
            }
        }
        if (closed_)
            co_return shut_down(ec, diag);

        waiter_guard guard(*this, deadline);
        if (!co_await guard.wait())
        {
            ec = beast::error::timeout;
            diag.message = "no connection became free before the call's deadline (raise "
                           "call_timeout or max_connections)";
            co_return lease{};
        }
        if (guard.handed_)
            co_return make_lease(std::move(guard.handed_), true);
        if (guard.slot_)
        {
            guard.slot_ = false;
            reserved_slot slot(*this);
            co_return co_await open_in_reserved_slot(slot, deadline, ec, diag);
        }
        co_return shut_down(ec, diag);
    }

    // Waits `duration` (between two attempts of a call). False if the pool closed meanwhile;
    // throws operation_aborted when the call is cancelled.
    asio::awaitable<bool> pause(std::chrono::milliseconds duration)
    {
        if (closed_)
            co_return false;
        asio::steady_timer timer(executor_, duration);
        listed<asio::steady_timer> sleeping(sleepers_, &timer);
        auto [wait_ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (closed_)
            co_return false;
        if (wait_ec)
            throw boost::system::system_error(wait_ec);
        co_return true;
    }

    // Ends everything: idle connections close, busy ones are cut (their calls fail), waiters
    // and pauses wake; later acquisitions fail.
    void close()
    {
        closed_ = true;
        for (auto& conn : idle_)
            retire_gracefully(std::move(conn));
        open_ -= idle_.size();
        idle_.clear();
        for (connection* conn : busy_)
            close_socket(*conn);
        while (!waiters_.empty())
            pop_waiter();
        for (asio::steady_timer* timer : sleepers_)
            timer->cancel();
    }

    bool closed() const noexcept
    {
        return closed_;
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

    // Every step that holds a resource across a `co_await` holds it in an object like these:
    // a coroutine whose call was cancelled throws at its next `co_await` before the awaited
    // operation starts, so code after that `co_await` may never run.

    // A place in one of the pool's lists, for as long as the object lives.
    template <class T>
    class listed
    {
    public:
        listed(std::list<T*>& list, T* item)
            : list_(list)
            , place_(list.insert(list.end(), item))
        {}
        listed(listed const&) = delete;
        listed& operator=(listed const&) = delete;
        ~listed()
        {
            list_.erase(place_);
        }

    private:
        std::list<T*>& list_;
        typename std::list<T*>::iterator place_;
    };

    // A slot counted in `open_` that no lease holds yet: freed when this goes, unless a lease
    // took it over.
    class reserved_slot
    {
    public:
        explicit reserved_slot(connection_pool& pool) noexcept
            : pool_(&pool)
        {}
        reserved_slot(reserved_slot const&) = delete;
        reserved_slot& operator=(reserved_slot const&) = delete;
        ~reserved_slot()
        {
            if (pool_ != nullptr)
                pool_->release_slot();
        }

        void hand_to_lease() noexcept
        {
            pool_ = nullptr;
        }

    private:
        connection_pool* pool_;
    };

    // A waiter's place in line. What is handed to it (a connection, or a slot to open one in)
    // and not used, because the wait was cancelled or the coroutine destroyed, goes back to
    // the pool, and so to the next waiter.
    class waiter_guard
    {
    public:
        waiter_guard(connection_pool& pool, clock::time_point deadline)
            : pool_(pool)
            , timer_(pool.executor_, deadline)
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

        // True when woken by the pool, false at the deadline; throws operation_aborted when
        // the call is cancelled.
        asio::awaitable<bool> wait()
        {
            auto [wait_ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!woken_ && wait_ec)
                throw boost::system::system_error(asio::error::operation_aborted);
            co_return woken_;
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

    // Whether an idle connection can still carry a request: its idle time is not over, and the
    // server has neither closed it nor sent anything (a close_notify, or garbage) since the
    // last response. One non-blocking peek, so that even a request that may not be sent twice
    // never goes out on a connection already known dead.
    static bool still_usable(connection& conn)
    {
        if (clock::now() >= conn.idle_until || conn.buffer.size() != 0)
            return false;
        char byte;
        auto fd = beast::get_lowest_layer(conn.stream).socket().native_handle();
        auto peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }

    // The freshest idle connection that is still usable; the others close on the way. When
    // `fresh`, none: the oldest idle one closes if the pool has no other free slot.
    std::unique_ptr<connection> take_idle(bool fresh)
    {
        if (fresh)
        {
            if (open_ == settings_.max_connections && !idle_.empty())
            {
                close_socket(*idle_.front());
                idle_.erase(idle_.begin());
                --open_;
            }
            return nullptr;
        }
        while (!idle_.empty())
        {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            if (still_usable(*conn))
                return conn;
            close_socket(*conn);
            --open_;
        }
        return nullptr;
    }

    lease make_lease(std::unique_ptr<connection> conn, bool reused)
    {
        conn->place = busy_.insert(busy_.end(), conn.get());
        return lease{shared_from_this(), std::move(conn), reused};
    }

    void release(std::unique_ptr<connection> conn, bool reusable)
    {
        busy_.erase(conn->place);
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

    // Sends close_notify and closes, within the shutdown timeout, on the side; the slot is
    // free at once.
    void retire(std::unique_ptr<connection> conn)
    {
        busy_.erase(conn->place);
        retire_gracefully(std::move(conn));
        release_slot();
    }

    void retire_gracefully(std::unique_ptr<connection> conn)
    {
        beast::get_lowest_layer(conn->stream).expires_after(settings_.shutdown_timeout);
        auto goodbye = [](std::unique_ptr<connection> conn) -> asio::awaitable<void> {
            co_await conn->stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
            close_socket(*conn);
        };
        asio::co_spawn(executor_, goodbye(std::move(conn)), asio::detached);
    }

    // A connection slot is free: the first waiter may open a connection in it.
    void release_slot()
    {
        if (!closed_ && !waiters_.empty())
            pop_waiter().slot_ = true;
        else
            --open_;
    }

    // Opens a connection in `slot`. Until the handshake succeeds the slot stays reserved, so
    // that whatever ends this, an exception included, gives it back.
    asio::awaitable<lease> open_in_reserved_slot(
        reserved_slot& slot, clock::time_point deadline, error_code& ec, diagnostics& diag)
    {
        auto conn = std::make_unique<connection>(executor_, tls_, settings_.read_buffer_size);
        {
            // Listed as busy while it connects, so that close() can cut it.
            listed<connection> connecting(busy_, conn.get());
            co_await connect(*conn, deadline, ec, diag);
        }
        if (!ec && closed_)
            shut_down(ec, diag);
        if (ec)
            co_return lease{};
        slot.hand_to_lease();
        co_return make_lease(std::move(conn), false);
    }

    // Now plus `timeout`, or the deadline if that is sooner.
    static clock::time_point bounded(std::chrono::milliseconds timeout, clock::time_point deadline)
    {
        return std::min(clock::now() + timeout, deadline);
    }

    asio::awaitable<void> connect(
        connection& conn, clock::time_point deadline, error_code& ec, diagnostics& diag)
    {
        auto& tcp = beast::get_lowest_layer(conn.stream);
        auto const& where = settings_.where;
        auto use = asio::as_tuple(asio::use_awaitable);

        auto endpoints = co_await resolve(ec, diag);
        if (ec)
            co_return;

        tcp.expires_at(bounded(settings_.connect_timeout, deadline));
        auto [connect_ec, peer] = co_await tcp.async_connect(endpoints, use);
        if (connect_ec)
        {
            ec = connect_ec;
            diag.message = "could not connect to " + where.host_header + ": " +
                           timeout_aware_message(ec, settings_.connect_timeout, deadline) +
                           " (check the base URL and the network)";
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
        if (!expect_certificate_for(conn, where))
        {
            ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
            diag.message = "could not set the host name to verify: " + ec.message();
            co_return;
        }

        tcp.expires_at(bounded(settings_.handshake_timeout, deadline));
        auto [handshake_ec] =
            co_await conn.stream.async_handshake(asio::ssl::stream_base::client, use);
        if (handshake_ec)
        {
            ec = handshake_ec;
            long const refused = SSL_get_verify_result(conn.stream.native_handle());
            if (settings_.verify_certificates && refused != X509_V_OK)
                ec = error_code(static_cast<int>(refused), certificate_category());
            diag.message = "TLS handshake with " + where.host_header +
                           " failed: " + tls_failure_message(ec, deadline);
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
            diag.message = "could not resolve " + where.host + ": " +
                           timeout_aware_message(ec, settings_.connect_timeout, {}) +
                           " (check the base URL and the network)";
            co_return endpoints;
        }
        for (auto const& entry : results)
            endpoints.push_back(entry.endpoint());
        co_return endpoints;
    }

    static std::string timeout_aware_message(
        error_code const& ec, std::chrono::milliseconds timeout, clock::time_point deadline)
    {
        if (ec == beast::error::timeout && clock::now() >= deadline)
            return "the call's deadline passed (raise call_timeout)";
        if (ec == beast::error::timeout)
            return "timed out after " + std::to_string(timeout.count()) + " ms";
        if (ec == asio::error::operation_aborted)
            return "the call was cancelled";
        return ec.message();
    }

    // Has OpenSSL check, besides the chain, that the certificate names the URL's host (an
    // address is matched against the certificate's IP addresses); or checks nothing at all
    // when verification is off.
    bool expect_certificate_for(connection& conn, endpoint const& where) const
    {
        if (!settings_.verify_certificates)
        {
            conn.stream.set_verify_mode(asio::ssl::verify_none);
            return true;
        }
        conn.stream.set_verify_mode(asio::ssl::verify_peer);
        auto* param = SSL_get0_param(conn.stream.native_handle());
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (where.host_is_name)
            return X509_VERIFY_PARAM_set1_host(param, where.host.c_str(), where.host.size()) == 1;
        return X509_VERIFY_PARAM_set1_ip_asc(param, where.host.c_str()) == 1;
    }

    // What a failed handshake means, and for a refused certificate, what to do about it.
    std::string tls_failure_message(error_code const& ec, clock::time_point deadline) const
    {
        if (ec.category() != certificate_category())
            return timeout_aware_message(ec, settings_.handshake_timeout, deadline);
        auto const reason = ec.message();
        switch (ec.value())
        {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return reason + " (the certificate is outside its validity period: the server must "
                            "renew it, or this machine's clock is wrong)";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return reason + " (the certificate is not issued for " + settings_.where.host +
                   "; use a host name it names in the base URL)";
        default:
            return reason + " (the certificate is not trusted; if the server uses a private "
                            "CA, add it with the ca_file or ca_pem option)";
        }
    }

    asio::any_io_executor executor_;
    asio::ssl::context& tls_;
    pool_settings settings_;
    std::vector<std::unique_ptr<connection>> idle_; // the most recently used last
    std::list<connection*> busy_;                   // leased or being opened
    std::list<waiter_guard*> waiters_;
    std::list<asio::steady_timer*> sleepers_; // calls pausing between attempts
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

inline void lease::retire()
{
    if (connection_)
        pool_->retire(std::move(connection_));
    pool_.reset();
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_CONNECTION_POOL_HPP
