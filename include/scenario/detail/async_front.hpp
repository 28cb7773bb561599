#ifndef SCENARIO_DETAIL_ASYNC_FRONT_HPP
#define SCENARIO_DETAIL_ASYNC_FRONT_HPP

#include <scenario/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

// Every public call is written once, as a coroutine `op(diagnostics&, error_code&)` that
// returns awaitable<T> and reports failure through its arguments. These two fronts turn it
// into what callers use: an awaitable that throws `scenario::error`, or an Asio async
// operation with the signature void(error_code, T) for any completion token. A call with no
// result has T = void: an awaitable<void>, and the signature void(error_code).

namespace scenario::detail {

namespace asio = boost::asio;

// What an operation with result T completes with: (error_code, T), or (error_code) alone for
// T = void; `stored` is what holds the result meanwhile.
template <class T>
struct completion_of
{
    using signature = void(error_code, T);
    using arguments = std::tuple<error_code, T>;
    using stored = T;
};

template <>
struct completion_of<void>
{
    using signature = void(error_code);
    using arguments = std::tuple<error_code>;
    using stored = std::monostate;
};

// A completion token for an operation that completes with (error_code, T).
template <class CompletionToken, class T>
concept completes_with =
    asio::completion_token_for<CompletionToken, typename completion_of<T>::signature>;

// A cancellation surfaces inside Asio as a plain system_error; callers get scenario::error
// whatever the cause, so one catch clause serves.
template <class T, class Op>
asio::awaitable<T> run_or_throw(Op op)
{
    diagnostics diag;
    error_code ec;
    std::optional<typename completion_of<T>::stored> value;
    try
    {
        if constexpr (std::is_void_v<T>)
        {
            co_await op(diag, ec);
            value.emplace();
        }
        else
        {
            value.emplace(co_await op(diag, ec));
        }
    }
    catch (scenario::error const&)
    {
        throw;
    }
    catch (boost::system::system_error const& e)
    {
        ec = e.code();
        if (diag.message.empty() && ec == asio::error::operation_aborted)
            diag.message = "the call was cancelled";
    }
    if (ec)
        throw error(ec, std::move(diag));
    if constexpr (!std::is_void_v<T>)
        co_return std::move(*value);
}

// Delivers a co_spawned result to a handler as (error_code, T), keeping the handler's
// executor, allocator and cancellation slot visible to Asio.
template <class Handler, class T>
class completion_adapter
{
public:
    explicit completion_adapter(Handler handler)
        : handler_(std::move(handler))
    {}

    void operator()(std::exception_ptr failure, typename completion_of<T>::arguments result)
    {
        // Only what is not an error_code (bad_alloc, a user exception) escapes the coroutine;
        // Asio's rule for those is to leave through the executor's run().
        if (failure)
            std::rethrow_exception(failure);
        std::apply(std::move(handler_), std::move(result));
    }

    Handler handler_;
};

template <class T, class Op, class CompletionToken>
auto run_with_token(
    asio::any_io_executor executor, Op op, diagnostics* diag_out, CompletionToken&& token)
{
    using completion = completion_of<T>;
    auto initiation = [executor](auto handler, Op op, diagnostics* diag_out) {
        auto body = [op = std::move(op),
                     diag_out]() mutable -> asio::awaitable<typename completion::arguments> {
            diagnostics diag;
            error_code ec;
            // Constructed from the result, not assigned: an assignment would copy the JSON of a
            // model out of its arena.
            std::optional<typename completion::stored> value;
            try
            {
                if constexpr (std::is_void_v<T>)
                {
                    co_await op(diag, ec);
                    value.emplace();
                }
                else
                {
                    value.emplace(co_await op(diag, ec));
                }
            }
            catch (boost::system::system_error const& e)
            {
                ec = e.code();
            }
            if (ec || !value)
                value.emplace(); // no partial result travels with an error
            if (diag.message.empty() && ec == asio::error::operation_aborted)
                diag.message = "the call was cancelled";
            if (diag_out != nullptr)
                *diag_out = std::move(diag);
            if constexpr (std::is_void_v<T>)
                co_return typename completion::arguments{ec};
            else
                co_return typename completion::arguments{ec, std::move(*value)};
        };
        using handler_type = decltype(handler);
        asio::co_spawn(
            executor, std::move(body), completion_adapter<handler_type, T>(std::move(handler)));
    };
    return asio::async_initiate<CompletionToken, typename completion::signature>(
        std::move(initiation), token, std::move(op), diag_out);
}

} // namespace scenario::detail

template <template <class, class> class Associator, class Handler, class T, class Default>
struct boost::asio::associator<
    Associator, scenario::detail::completion_adapter<Handler, T>, Default>
    : Associator<Handler, Default>
{
    static typename Associator<Handler, Default>::type get(
        scenario::detail::completion_adapter<Handler, T> const& h) noexcept
    {
        return Associator<Handler, Default>::get(h.handler_);
    }

    static auto get(
        scenario::detail::completion_adapter<Handler, T> const& h, Default const& d) noexcept
    {
        return Associator<Handler, Default>::get(h.handler_, d);
    }
};

#endif // SCENARIO_DETAIL_ASYNC_FRONT_HPP
