#ifndef SCENARIO_TESTS_SUPPORT_CALLS_HPP
#define SCENARIO_TESTS_SUPPORT_CALLS_HPP

// Shorthands for driving the client's calls in tests.

#include "support/run.hpp"

#include <scenario.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace scenario_tests {

// The ids of every model a stream yields, in order.
inline boost::asio::awaitable<std::vector<std::string>> collect(scenario::model_stream stream)
{
    std::vector<std::string> ids;
    while (auto m = co_await stream.next())
        ids.push_back(m->id);
    co_return ids;
}

// What a call that must fail threw.
template <class T>
scenario::error failure_of(boost::asio::io_context& io, boost::asio::awaitable<T> call)
{
    try
    {
        run(io, std::move(call));
    }
    catch (scenario::error const& e)
    {
        return e;
    }
    BOOST_FAIL("the call succeeded");
    throw;
}

} // namespace scenario_tests

#endif // SCENARIO_TESTS_SUPPORT_CALLS_HPP
