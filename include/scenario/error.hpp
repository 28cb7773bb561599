#ifndef SCENARIO_ERROR_HPP
#define SCENARIO_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace scenario {

using boost::system::error_code;

/// The client's own failures, in the category "scenario.client".
enum class client_errc
{
    invalid_argument = 1,     ///< a caller-supplied value was refused before anything was sent
    invalid_base_url,         ///< the base URL is not an absolute https URL
    invalid_trust_anchor,     ///< extra trust anchors could not be loaded
    missing_credentials,      ///< no API key or secret was given
    invalid_json,             ///< a 2xx response body is not JSON
    unexpected_response,      ///< a 2xx response's JSON does not have the documented shape
    repeated_pagination_token ///< the service sent a token already seen in the same listing
};

namespace detail {

class client_category_impl final : public boost::system::error_category
{
public:
    char const* name() const noexcept override
    {
        return "scenario.client";
    }

    std::string message(int value) const override
    {
        switch (static_cast<client_errc>(value))
        {
        case client_errc::invalid_argument: return "invalid argument; nothing was sent";
        case client_errc::invalid_base_url:
            return "invalid base URL; give an absolute https URL such as "
                   "https://api.cloud.scenario.com/v1";
        case client_errc::invalid_trust_anchor:
            return "could not load the extra trust anchors; give PEM certificates";
        case client_errc::missing_credentials:
            return "missing credentials; set SCENARIO_API_KEY and SCENARIO_API_SECRET";
        case client_errc::invalid_json:
            return "the service answered with a body that is not JSON; check the base URL "
                   "(a proxy or another server may be answering)";
        case client_errc::unexpected_response:
            return "the service answered with JSON of an unexpected shape; check the base URL, "
                   "or update this client if the service changed";
        case client_errc::repeated_pagination_token:
            return "the service repeated a pagination token; the listing was stopped "
                   "rather than loop forever";
        }
        return "unknown scenario.client error";
    }
};

/// HTTP statuses outside 2xx; the error value is the status code itself.
class http_category_impl final : public boost::system::error_category
{
public:
    char const* name() const noexcept override
    {
        return "scenario.http";
    }

    std::string message(int status) const override
    {
        auto text = status_text(status);
        return "HTTP " + std::to_string(status) + (text.empty() ? "" : " ") + std::string(text);
    }

    static std::string_view status_text(int status) noexcept
    {
        switch (status)
        {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 413: return "Payload Too Large";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "";
        }
    }
};

/// Why the server's certificate was refused; the values are OpenSSL's `X509_V_ERR_*` codes.
class certificate_category_impl final : public boost::system::error_category
{
public:
    char const* name() const noexcept override
    {
        return "scenario.certificate";
    }

    std::string message(int reason) const override
    {
        return std::string("TLS certificate refused: ") + X509_verify_cert_error_string(reason);
    }
};

} // namespace detail

/// The category of `client_errc` values: "scenario.client".
inline boost::system::error_category const& client_category() noexcept
{
    static detail::client_category_impl const instance;
    return instance;
}

/// The category of refused server certificates: "scenario.certificate". `value()` is OpenSSL's
/// reason, such as `X509_V_ERR_CERT_HAS_EXPIRED`, `X509_V_ERR_HOSTNAME_MISMATCH` or
/// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT` (an untrusted self-signed certificate).
inline boost::system::error_category const& certificate_category() noexcept
{
    static detail::certificate_category_impl const instance;
    return instance;
}

/// The category of HTTP failures: "scenario.http"; `value()` is the HTTP status.
inline boost::system::error_category const& http_category() noexcept
{
    static detail::http_category_impl const instance;
    return instance;
}

inline error_code make_error_code(client_errc e) noexcept
{
    return {static_cast<int>(e), client_category()};
}

/// The error code for an HTTP status outside 2xx.
inline error_code make_http_error(unsigned status) noexcept
{
    return {static_cast<int>(status), http_category()};
}

/// The HTTP status carried by `ec`, or 0 when `ec` is not an HTTP failure.
inline unsigned http_status(error_code const& ec) noexcept
{
    return ec.category() == http_category() ? static_cast<unsigned>(ec.value()) : 0;
}

/// What is known about a failed call beyond its error code.
///
/// `message` is the client's own explanation. `server_reason` and `body` come from the
/// network and are untrusted text: print them, never interpret them.
struct diagnostics
{
    std::string message{};       ///< what failed, in the client's words
    std::string method{};        ///< the HTTP method of the failed request, if one was made
    std::string path{};          ///< its path, without query and never with credentials
    unsigned http_status = 0;    ///< the response status, 0 if none arrived
    std::string server_reason{}; ///< `reason`, `message`, `error` or `detail` of the error body
    std::string request_id{};    ///< `x-request-id` (or similar) if the service sent one
    std::string body{};          ///< the raw response body of a failed request
    std::size_t attempts = 0;    ///< how many times the request was sent or tried
    std::chrono::milliseconds retry_after{0}; ///< the wait the service asked for, if any

    void clear()
    {
        *this = diagnostics{};
    }
};

namespace detail {

// Untrusted text goes into messages without control characters and within a sane length.
inline void append_printable(std::string& out, std::string_view text, std::size_t limit = 300)
{
    std::size_t taken = 0;
    for (char c : text)
    {
        if (taken == limit)
        {
            out += "...";
            return;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
        ++taken;
    }
}

inline std::string_view advice_for_status(unsigned status) noexcept
{
    switch (status)
    {
    case 400: return "check the request's parameters";
    case 401: return "check SCENARIO_API_KEY and SCENARIO_API_SECRET";
    case 403: return "the key may not reach this project or resource, or the plan is too low";
    case 404: return "check the id; private models are visible only to their project's keys";
    case 429: return "too many requests; wait and try again";
    default: break;
    }
    if (status >= 500)
        return "the service failed; try again later";
    if (status >= 300 && status < 400)
        return "the service redirected the request; check the base URL";
    return "the service refused the request";
}

} // namespace detail

/// One line that says what failed and what to do, safe to log: it holds no secret.
inline std::string describe(error_code const& ec, diagnostics const& diag)
{
    std::string text = "scenario: ";
    if (!diag.method.empty())
    {
        text += diag.method;
        text += ' ';
        detail::append_printable(text, diag.path);
        text += " failed: ";
    }
    if (ec.category() == http_category())
    {
        text += ec.message();
        if (!diag.server_reason.empty())
        {
            text += ": ";
            detail::append_printable(text, diag.server_reason);
        }
        auto advice = detail::advice_for_status(http_status(ec));
        if (!advice.empty())
        {
            text += " (";
            text += advice;
            text += ')';
        }
        if (!diag.message.empty())
        {
            text += "; ";
            text += diag.message;
        }
    }
    else if (!diag.message.empty())
    {
        text += diag.message;
    }
    else
    {
        text += ec.message();
    }
    if (diag.attempts > 1)
    {
        text += " (after ";
        text += std::to_string(diag.attempts);
        text += " attempts)";
    }
    if (!diag.request_id.empty())
    {
        text += " [request id ";
        detail::append_printable(text, diag.request_id, 100);
        text += ']';
    }
    return text;
}

/// What a bare `co_await` throws: the error code plus the diagnostics of the failed call.
class error : public boost::system::system_error
{
public:
    error(error_code ec, diagnostics diag)
        : boost::system::system_error(ec)
        , diagnostics_(std::move(diag))
        , what_(describe(ec, diagnostics_))
    {}

    /// The details of the failure; `server_reason` and `body` are untrusted text.
    diagnostics const& get_diagnostics() const noexcept
    {
        return diagnostics_;
    }

    /// The HTTP status, or 0 if the failure was not an HTTP status.
    unsigned http_status() const noexcept
    {
        return diagnostics_.http_status;
    }

    // system_error's own what() appends the code's message and category; ours says it already.
    char const* what() const noexcept override
    {
        return what_.c_str();
    }

private:
    diagnostics diagnostics_;
    std::string what_;
};

} // namespace scenario

template <>
struct boost::system::is_error_code_enum<scenario::client_errc> : std::true_type
{};

#endif // SCENARIO_ERROR_HPP
