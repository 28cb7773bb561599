#ifndef SCENARIO_DETAIL_HTTP_EXCHANGE_HPP
#define SCENARIO_DETAIL_HTTP_EXCHANGE_HPP

#include <scenario/detail/retry_after.hpp>
#include <scenario/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

// Reading one HTTP response off any stream, and what the client keeps of it. Apart from the
// pool, so that tests and fuzzers can feed it bytes from memory.

namespace scenario::detail {

struct http_response
{
    unsigned status = 0;
    std::string body;
    std::string request_id;
    std::optional<std::chrono::milliseconds> retry_after{}; // the wait the service asked for
    std::optional<std::chrono::milliseconds> keep_for{};    // idle time left; none: close it
};

struct response_limits
{
    std::size_t header_limit = 64 * 1024;
    std::size_t body_limit = 16 * 1024 * 1024;
    std::chrono::milliseconds max_idle_time = std::chrono::seconds(30);
};

// Turns a 2xx body into a call's result. It runs before the connection goes back to the pool,
// so that a connection whose answer made no sense is closed rather than reused.
class body_reader
{
public:
    // Fills the call's result; on failure returns the error and says why in `problem`.
    virtual error_code read(std::string_view body, std::string& problem) = 0;

protected:
    ~body_reader() = default;
};

// How long a connection may idle in the pool after `message`: none if the server closes it
// (`Connection: close`, or HTTP/1.0), else `max_idle_time` or a second less than the
// server's `Keep-Alive: timeout=N`.
template <class Body>
std::optional<std::chrono::milliseconds> idle_allowance(
    boost::beast::http::response<Body> const& message, std::chrono::milliseconds max_idle_time)
{
    if (message.version() != 11 || !message.keep_alive())
        return std::nullopt;
    auto header = message.find("keep-alive");
    if (header == message.end())
        return max_idle_time;
    if (auto seconds = keep_alive_timeout(header->value()))
    {
        std::chrono::milliseconds const announced = std::chrono::seconds(*seconds - 1);
        return std::min(max_idle_time, announced);
    }
    return max_idle_time;
}

// Reads one whole response within `limits` into `out`. `answered` tells whether any of it
// arrived, even when reading failed.
template <class AsyncReadStream, class DynamicBuffer>
boost::asio::awaitable<error_code> read_response(
    AsyncReadStream& stream, DynamicBuffer& buffer, response_limits const& limits,
    http_response& out, bool& answered)
{
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(limits.body_limit);
    auto const use = boost::asio::as_tuple(boost::asio::use_awaitable);
    auto [ec, header_size] = co_await http::async_read_header(stream, buffer, parser, use);
    // Beast checks the start line and the fields each against header_limit when they arrive
    // in one read, which lets a header of up to twice the limit through; so check it whole.
    if (!ec && header_size > limits.header_limit)
        ec = http::error::header_limit;
    if (!ec)
        ec = std::get<0>(co_await http::async_read(stream, buffer, parser, use));
    answered = parser.got_some();
    if (ec)
        co_return ec;

    auto& message = parser.get();
    out.status = message.result_int();
    if (auto id = message.find("x-request-id"); id != message.end())
        out.request_id = std::string(id->value());
    out.body = std::move(message.body());
    if (out.status == 429 || out.status == 503)
        out.retry_after = requested_wait(message, out.body);
    // A body that ran to the end of the stream (no length, not chunked) leaves the connection
    // closed, whatever the headers say.
    out.keep_for = parser.need_eof() ? std::nullopt : idle_allowance(message, limits.max_idle_time);
    co_return error_code{};
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_HTTP_EXCHANGE_HPP
