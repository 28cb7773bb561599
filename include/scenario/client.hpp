#ifndef SCENARIO_CLIENT_HPP
#define SCENARIO_CLIENT_HPP

#include <scenario/client_options.hpp>
#include <scenario/credentials.hpp>
#include <scenario/detail/client_state.hpp>
#include <scenario/models_api.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <memory>
#include <type_traits>

namespace scenario {

/// A client of the Scenario API: credentials, options, and a pool of keep-alive TLS
/// connections on one executor.
///
///     scenario::client client(io.get_executor(), *scenario::credentials_from_env());
///     auto page = co_await client.models().list({.tags = "sc:third-party"});
///
/// Construction checks the options and throws `scenario::error` (invalid base URL, missing
/// credentials, unreadable trust anchors) before anything is sent. Destroying the client, or
/// `shutdown`, ends every pending call with `operation_aborted`: calls in flight have their
/// connections cut, calls waiting for a connection or between two attempts wake, and idle
/// connections close with a close_notify bounded by `shutdown_timeout`.
///
/// Not thread-safe: use a client only from the one thread that runs its `io_context`, and call
/// it from coroutines and handlers on that executor. Calls from many coroutines on that thread
/// may overlap freely.
/// Limitation: a strand on a multi-threaded context is not enough yet, because awaited calls
/// run on the awaiting coroutine's executor.
class client
{
public:
    using executor_type = boost::asio::any_io_executor;

    client(executor_type executor, credentials creds, client_options options = {})
        : state_(std::make_shared<detail::client_state>(
              std::move(executor), std::move(creds), std::move(options)))
    {}

    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&> client(
        ExecutionContext& context, credentials creds, client_options options = {})
        : client(context.get_executor(), std::move(creds), std::move(options))
    {}

    /// A moved-from client may only be destroyed or assigned to.
    client(client&&) noexcept = default;
    client& operator=(client&& other) noexcept
    {
        shutdown();
        state_ = std::move(other.state_);
        return *this;
    }

    ~client()
    {
        shutdown();
    }

    executor_type get_executor() const noexcept
    {
        return state_->executor();
    }

    /// The models endpoints.
    models_api models() const
    {
        return models_api(state_);
    }

    /// The models endpoints, with calls that run with `overrides` in place of the client's
    /// settings (retry policy, timeouts).
    models_api models(call_options const& overrides) const
    {
        return models_api(state_).with(overrides);
    }

    /// The options in force.
    client_options const& options() const noexcept
    {
        return state_->options();
    }

    /// Ends every pending call with `operation_aborted` and closes every connection; later
    /// calls fail the same way. Idempotent.
    void shutdown()
    {
        if (state_)
            state_->shutdown();
    }

    /// Connections open now (idle, in use or being opened); never above `max_connections`.
    std::size_t open_connections() const noexcept
    {
        return state_->pool().open_connections();
    }

    /// Connections idle in the pool now.
    std::size_t idle_connections() const noexcept
    {
        return state_->pool().idle_connections();
    }

    /// TLS handshakes completed since the client was made.
    std::size_t handshakes() const noexcept
    {
        return state_->pool().handshakes();
    }

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace scenario

#endif // SCENARIO_CLIENT_HPP
