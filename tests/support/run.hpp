#ifndef SCENARIO_TESTS_SUPPORT_RUN_HPP
#define SCENARIO_TESTS_SUPPORT_RUN_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace scenario_tests {

// Runs a coroutine to completion on `io` and returns its result, rethrowing what it threw.
// A hang fails the test after `limit` instead of hanging the suite.
template <class T>
T run(
    boost::asio::io_context& io, boost::asio::awaitable<T> task,
    std::chrono::seconds limit = std::chrono::seconds(60))
{
    std::exception_ptr failure;
    std::optional<T> result;
    bool finished = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            result.emplace(std::move(value));
        finished = true;
    });
    io.restart();
    io.run_for(limit);
    if (!finished)
        throw std::runtime_error("the operation did not complete in time");
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*result);
}

inline void run(
    boost::asio::io_context& io, boost::asio::awaitable<void> task,
    std::chrono::seconds limit = std::chrono::seconds(60))
{
    auto with_result = [](boost::asio::awaitable<void> t) -> boost::asio::awaitable<bool> {
        co_await std::move(t);
        co_return true;
    };
    run(io, with_result(std::move(task)), limit);
}

} // namespace scenario_tests

#endif // SCENARIO_TESTS_SUPPORT_RUN_HPP
