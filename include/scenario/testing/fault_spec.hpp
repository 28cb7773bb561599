// Fault rules written as short text, as `scenario-local-api --fault` takes them:
// `503@every=3`, `stall@sequence=1;2;5,delay-ms=300`, `429@share=0.1,retry-after=1`.

#ifndef SCENARIO_TESTING_FAULT_SPEC_HPP
#define SCENARIO_TESTING_FAULT_SPEC_HPP

#include <scenario/testing/detail/fault_selector.hpp>
#include <scenario/testing/fault_plan.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace scenario::testing {

namespace detail {

/// How fault specs spell a kind: its kebab-case name, and for the plain HTTP failures the
/// status code as a shorter alias.
struct fault_kind_spelling
{
    fault_kind kind;
    std::string_view name;
    std::string_view alias;
};

inline constexpr fault_kind_spelling fault_kind_spellings[] = {
    {fault_kind::too_many_requests, "too-many-requests", "429"},
    {fault_kind::too_many_requests_date, "too-many-requests-date", "429-date"},
    {fault_kind::too_many_requests_body, "too-many-requests-body", "429-body"},
    {fault_kind::internal_error, "internal-error", "500"},
    {fault_kind::bad_gateway, "bad-gateway", "502"},
    {fault_kind::service_unavailable, "service-unavailable", "503"},
    {fault_kind::close_after_response, "close-after-response", {}},
    {fault_kind::reset_mid_headers, "reset-mid-headers", {}},
    {fault_kind::reset_mid_body, "reset-mid-body", {}},
    {fault_kind::stall, "stall", {}},
    {fault_kind::truncated_body, "truncated-body", {}},
    {fault_kind::oversized_body, "oversized-body", {}},
    {fault_kind::connection_close, "connection-close", {}},
    {fault_kind::keep_alive_timeout, "keep-alive-timeout", {}},
};

/// The longest `delay-ms`, `retry-after` and `timeout` a spec may ask for: a day.
inline constexpr std::size_t longest_fault_seconds = 24 * 60 * 60;

/// Reads one spec; every failure throws std::invalid_argument quoting the spec.
class fault_spec_reader
{
public:
    explicit fault_spec_reader(std::string_view spec)
        : spec_(spec)
    {}

    fault_rule read()
    {
        std::size_t const at = spec_.find('@');
        std::string_view const kind = spec_.substr(0, at);
        if (kind.empty())
            fail("it has no fault kind; it starts with one, e.g. 503@every=3");
        rule_.kind = kind_named(kind);

        bool selected = false;
        std::string_view parameters =
            at == std::string_view::npos ? std::string_view{} : spec_.substr(at + 1);
        if (at != std::string_view::npos && parameters.empty())
            fail("nothing follows '@'");
        while (!parameters.empty())
        {
            std::size_t const comma = parameters.find(',');
            selected |= read_parameter(parameters.substr(0, comma));
            parameters =
                comma == std::string_view::npos ? std::string_view{} : parameters.substr(comma + 1);
            if (comma != std::string_view::npos && parameters.empty())
                fail("it ends with ','");
        }

        // A spec that names no requests means all of them: `--fault 503` fails everything.
        if (!selected)
            rule_.every = 1;
        return rule_;
    }

private:
    [[noreturn]] void fail(std::string const& why) const
    {
        throw std::invalid_argument("fault spec '" + std::string(spec_) + "': " + why);
    }

    fault_kind kind_named(std::string_view name) const
    {
        for (auto const& spelling : fault_kind_spellings)
            if (name == spelling.name || (!spelling.alias.empty() && name == spelling.alias))
                return spelling.kind;

        std::string known;
        for (auto const& spelling : fault_kind_spellings)
        {
            known += known.empty() ? "" : ", ";
            known += spelling.name;
        }
        fail(
            "unknown fault kind '" + std::string(name) + "' (known: " + known +
            "; 429, 429-date, 429-body, 500, 502 and 503 also name the HTTP failures)");
    }

    /// Reads `name=value`; answers whether it selects requests.
    bool read_parameter(std::string_view parameter)
    {
        std::size_t const equals = parameter.find('=');
        if (parameter.empty())
            fail("it has an empty parameter");
        if (equals == std::string_view::npos)
            fail("parameter '" + std::string(parameter) + "' has no '=VALUE'");
        std::string_view const name = parameter.substr(0, equals);
        std::string_view const value = parameter.substr(equals + 1);

        for (std::string_view const seen : seen_)
            if (seen == name)
                fail("parameter '" + std::string(name) + "' is given twice");
        seen_.push_back(name);

        if (name == "every")
            rule_.every = count(name, value, 1, std::numeric_limits<std::size_t>::max());
        else if (name == "sequence")
            rule_.sequence = numbers(name, value);
        else if (name == "share")
            rule_.share = share(value);
        else if (name == "limit")
            rule_.limit = count(name, value, 1, std::numeric_limits<std::size_t>::max());
        else if (name == "path")
            rule_.path_prefix = path(value);
        else if (name == "delay-ms")
            rule_.delay = std::chrono::milliseconds(count(
                applying_to(name, {fault_kind::stall}), value, 0, longest_fault_seconds * 1000));
        else if (name == "retry-after")
            rule_.retry_after_seconds = static_cast<unsigned>(count(
                applying_to(
                    name, {fault_kind::too_many_requests, fault_kind::too_many_requests_date,
                           fault_kind::too_many_requests_body}),
                value, 0, longest_fault_seconds));
        else if (name == "timeout")
            rule_.retry_after_seconds = static_cast<unsigned>(count(
                applying_to(name, {fault_kind::keep_alive_timeout}), value, 0,
                longest_fault_seconds));
        else if (name == "bytes")
            rule_.body_bytes = count(
                applying_to(name, {fault_kind::oversized_body}), value, smallest_padded_body,
                std::numeric_limits<std::size_t>::max());
        else
            fail(
                "unknown parameter '" + std::string(name) +
                "' (known: every, sequence, share, limit, path, delay-ms, retry-after, "
                "timeout, bytes)");

        return name == "every" || name == "sequence" || name == "share";
    }

    /// `name`, once sure that it applies to the spec's kind.
    std::string_view applying_to(
        std::string_view name, std::initializer_list<fault_kind> kinds) const
    {
        for (fault_kind const kind : kinds)
            if (kind == rule_.kind)
                return name;

        std::string_view kind_name;
        for (auto const& spelling : fault_kind_spellings)
            if (spelling.kind == rule_.kind)
                kind_name = spelling.name;
        fail("parameter '" + std::string(name) + "' does not apply to " + std::string(kind_name));
    }

    std::size_t count(
        std::string_view name, std::string_view value, std::size_t least, std::size_t most) const
    {
        std::size_t number = 0;
        auto const [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), number);
        if (value.empty() || error != std::errc{} || end != value.data() + value.size() ||
            number < least || number > most)
        {
            fail(
                "parameter '" + std::string(name) + "' wants a whole number from " +
                std::to_string(least) + " to " + std::to_string(most) + ", not '" +
                std::string(value) + "'");
        }
        return number;
    }

    std::vector<std::size_t> numbers(std::string_view name, std::string_view value) const
    {
        std::vector<std::size_t> result;
        for (;;)
        {
            std::size_t const separator = value.find_first_of(";+");
            result.push_back(count(
                name, value.substr(0, separator), 1, std::numeric_limits<std::size_t>::max()));
            if (separator == std::string_view::npos)
                return result;
            value.remove_prefix(separator + 1);
        }
    }

    double share(std::string_view value) const
    {
        double number = 0.0;
        auto const [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), number);
        if (value.empty() || error != std::errc{} || end != value.data() + value.size() ||
            !(number >= 0.0 && number <= 1.0))
        {
            fail(
                "parameter 'share' wants a probability from 0 to 1, e.g. 0.1, not '" +
                std::string(value) + "'");
        }
        return number;
    }

    std::string path(std::string_view value) const
    {
        if (!value.starts_with('/'))
            fail(
                "parameter 'path' wants a path prefix starting with '/', e.g. /v1/models/, "
                "not '" +
                std::string(value) + "'");
        return std::string(value);
    }

    std::string_view spec_;
    fault_rule rule_;
    std::vector<std::string_view> seen_;
};

} // namespace detail

/// The kebab-case name fault specs give `kind`, e.g. `too-many-requests` or `stall`.
inline std::string_view fault_kind_name(fault_kind kind) noexcept
{
    for (auto const& spelling : detail::fault_kind_spellings)
        if (spelling.kind == kind)
            return spelling.name;
    return "unknown";
}

/// Reads a fault rule written as `KIND[@PARAMETER=VALUE,...]`, e.g. `503@every=3` or
/// `stall@sequence=1;2;5,delay-ms=300`:
///
/// - KIND is a `fault_kind` in kebab case (`too-many-requests`, `reset-mid-body`, ...), or
///   for the plain HTTP failures their status: `429`, `429-date`, `429-body`, `500`, `502`,
///   `503`.
/// - `every=N`, `sequence=N;N;...` (or `N+N+...`, which a shell leaves alone) and `share=P`
///   (0 to 1) select the requests; without any of them, the rule hits every request. `limit=N` caps
///   the hits; `path=/PREFIX` counts only requests whose path starts with it.
/// - `delay-ms=N` (stall), `retry-after=N` seconds (the 429 kinds), `timeout=N` seconds
///   (keep-alive-timeout) and `bytes=N` (oversized-body) set the fault's own parameter, and
///   apply to those kinds only.
///
/// Throws std::invalid_argument whose message quotes the spec and names what is wrong in it.
inline fault_rule parse_fault_rule(std::string_view spec)
{
    return detail::fault_spec_reader{spec}.read();
}

} // namespace scenario::testing

#endif
