#ifndef SCENARIO_DETAIL_RETRY_AFTER_HPP
#define SCENARIO_DETAIL_RETRY_AFTER_HPP

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/json/parse.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

// How long a server asks a client to wait (`Retry-After`, a 429 body's `remainingSeconds`) and
// to keep a connection (`Keep-Alive: timeout=N`): header and body reading without sockets.

namespace scenario::detail {

// Waits beyond a day are read as a day: the retry policy's cap refuses them anyway.
inline constexpr long long longest_wait_seconds = 24 * 60 * 60;

inline std::string_view trim(std::string_view text) noexcept
{
    auto const first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    auto const last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

inline std::optional<long long> parse_seconds(std::string_view text) noexcept
{
    long long value = 0;
    auto const [end, problem] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || end != text.data() + text.size())
        return std::nullopt;
    if (problem == std::errc::result_out_of_range)
        return longest_wait_seconds;
    if (problem != std::errc{} || value < 0)
        return std::nullopt;
    return std::min(value, longest_wait_seconds);
}

// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 says senders use, as
// seconds from `now`; a date already past is 0. The obsolete RFC 850 and asctime forms are not
// read, and such a `Retry-After` is ignored.
inline std::optional<long long> seconds_until_http_date(
    std::string_view text, std::chrono::system_clock::time_point now)
{
    std::tm parts{};
    std::string const copy(text);
    char const* end = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (end == nullptr || *end != '\0')
        return std::nullopt;
    // Counted in time_t seconds: a time_point of the system clock (nanoseconds) spans only
    // the years 1678 to 2262, and a date beyond them would overflow it. `now` is rounded
    // down, which rounds the difference up to whole seconds.
    auto const seconds = static_cast<long long>(::timegm(&parts)) -
                         static_cast<long long>(std::chrono::system_clock::to_time_t(now));
    return std::clamp<long long>(seconds, 0, longest_wait_seconds);
}

// `Retry-After` as seconds or an HTTP-date.
inline std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now)
{
    value = trim(value);
    auto seconds = parse_seconds(value);
    if (!seconds)
        seconds = seconds_until_http_date(value, now);
    if (!seconds)
        return std::nullopt;
    return std::chrono::seconds(*seconds);
}

// A JSON body's non-negative number `remainingSeconds`, rounded up to whole milliseconds.
inline std::optional<std::chrono::milliseconds> remaining_seconds(std::string_view body)
{
    boost::system::error_code ec;
    auto const parsed = boost::json::parse(body, ec);
    if (ec || !parsed.is_object())
        return std::nullopt;
    auto const* field = parsed.get_object().if_contains("remainingSeconds");
    if (field == nullptr || !field->is_number())
        return std::nullopt;
    double const seconds = field->to_number<double>(ec);
    if (ec || !(seconds >= 0))
        return std::nullopt;
    double const capped = std::min(seconds, static_cast<double>(longest_wait_seconds));
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(capped * 1000)));
}

// The wait a 429 or 503 asks for: `Retry-After`, else a body's `remainingSeconds`.
template <class Body>
std::optional<std::chrono::milliseconds> requested_wait(
    boost::beast::http::response<Body> const& message, std::string_view body)
{
    if (auto header = message.find(boost::beast::http::field::retry_after); header != message.end())
        return parse_retry_after(header->value(), std::chrono::system_clock::now());
    return remaining_seconds(body);
}

// The `timeout` parameter of a `Keep-Alive` header (`timeout=5, max=100`), in seconds.
inline std::optional<long long> keep_alive_timeout(std::string_view value)
{
    while (!value.empty())
    {
        auto const comma = value.find(',');
        auto item = trim(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        auto const equals = item.find('=');
        if (equals != std::string_view::npos &&
            boost::beast::iequals(trim(item.substr(0, equals)), "timeout"))
            return parse_seconds(trim(item.substr(equals + 1)));
    }
    return std::nullopt;
}

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_RETRY_AFTER_HPP
