// Error codes, messages and refusals before anything is sent: what failed, what to do, and
// never a secret.
#include <scenario.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <sstream>

using namespace scenario;

namespace {

constexpr char const* secret = "s3cr3t-VALUE-never-shown";

// The message of what constructing a client with these arguments throws.
std::string construction_failure(credentials creds, client_options options, error_code& code)
{
    boost::asio::io_context io;
    try
    {
        client c(io, std::move(creds), std::move(options));
    }
    catch (scenario::error const& e)
    {
        code = e.code();
        return e.what();
    }
    BOOST_FAIL("the client was built");
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(http_failures_say_status_reason_request_and_advice)
{
    diagnostics diag;
    diag.method = "GET";
    diag.path = "/v1/models/model_x";
    diag.http_status = 404;
    diag.server_reason = "Model model_x not found";
    diag.request_id = "req_42";
    scenario::error e(make_http_error(404), diag);

    std::string what = e.what();
    BOOST_TEST(what.find("GET /v1/models/model_x failed") != std::string::npos, what);
    BOOST_TEST(what.find("HTTP 404 Not Found") != std::string::npos, what);
    BOOST_TEST(what.find("Model model_x not found") != std::string::npos, what);
    BOOST_TEST(what.find("req_42") != std::string::npos, what);
    BOOST_TEST(what.find("check the id") != std::string::npos, what);
    BOOST_TEST(e.http_status() == 404u);
    BOOST_TEST(http_status(e.code()) == 404u);
    BOOST_TEST(e.code().category().name() == std::string("scenario.http"));
}

BOOST_AUTO_TEST_CASE(every_status_class_gets_advice)
{
    for (unsigned status : {400u, 401u, 403u, 404u, 429u, 500u, 503u})
    {
        BOOST_TEST_CONTEXT("status " << status)
        {
            diagnostics diag;
            std::string what = describe(make_http_error(status), diag);
            BOOST_TEST(what.find('(') != std::string::npos, what);
        }
    }
}

BOOST_AUTO_TEST_CASE(untrusted_server_text_cannot_forge_lines)
{
    diagnostics diag;
    diag.server_reason = "bad\r\nX-Injected: 1\x1b[31m";
    diag.request_id = std::string(500, 'r');
    std::string what = describe(make_http_error(400), diag);
    BOOST_TEST(what.find('\n') == std::string::npos);
    BOOST_TEST(what.find('\r') == std::string::npos);
    BOOST_TEST(what.find('\x1b') == std::string::npos);
    BOOST_TEST(what.size() < 400u);
}

BOOST_AUTO_TEST_CASE(client_errors_have_their_own_category_and_advice)
{
    error_code ec = client_errc::repeated_pagination_token;
    BOOST_TEST(ec.category().name() == std::string("scenario.client"));
    BOOST_TEST(ec.message().find("pagination token") != std::string::npos);
    BOOST_TEST(http_status(ec) == 0u);
    error_code missing = client_errc::missing_credentials;
    BOOST_TEST(missing.message().find("SCENARIO_API_KEY") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credentials_print_without_their_secret)
{
    std::ostringstream out;
    out << credentials{"key_1234567", secret};
    BOOST_TEST(out.str().find(secret) == std::string::npos);
    BOOST_TEST(out.str().find("key_1234567") == std::string::npos);
    BOOST_TEST(out.str().find("redacted") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credentials_come_from_the_environment)
{
    for (char const* name :
         {"SCENARIO_API_KEY", "SCENARIO_API_SECRET", "SCENARIO_SDK_API_KEY",
          "SCENARIO_SDK_API_SECRET"})
        ::unsetenv(name);
    BOOST_TEST(!credentials_from_env());

    ::setenv("SCENARIO_SDK_API_KEY", "sdk-key", 1);
    ::setenv("SCENARIO_SDK_API_SECRET", "sdk-secret", 1);
    auto sdk = credentials_from_env();
    BOOST_TEST_REQUIRE(sdk.has_value());
    BOOST_TEST(sdk->api_key == "sdk-key");

    ::setenv("SCENARIO_API_KEY", "key", 1);
    ::setenv("SCENARIO_API_SECRET", "", 1); // empty counts as unset
    auto mixed = credentials_from_env();
    BOOST_TEST_REQUIRE(mixed.has_value());
    BOOST_TEST(mixed->api_key == "key");
    BOOST_TEST(mixed->api_secret == "sdk-secret");

    for (char const* name :
         {"SCENARIO_API_KEY", "SCENARIO_API_SECRET", "SCENARIO_SDK_API_KEY",
          "SCENARIO_SDK_API_SECRET"})
        ::unsetenv(name);
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_at_construction_without_the_secret)
{
    struct case_
    {
        char const* name;
        credentials creds;
        client_options options;
        client_errc expected;
        char const* says;
    };
    client_options http_url;
    http_url.base_url = "http://api.cloud.scenario.com/v1";
    client_options bad_pem;
    bad_pem.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    client_options missing_file;
    missing_file.ca_file = "/nonexistent/ca.pem";
    client_options split_agent;
    split_agent.user_agent = "agent\r\nX-Evil: 1";
    client_options no_connections;
    no_connections.max_connections = 0;

    case_ const cases[] = {
        {"http url", {"k", secret}, http_url, client_errc::invalid_base_url, "https"},
        {"bad pem", {"k", secret}, bad_pem, client_errc::invalid_trust_anchor, "ca_pem"},
        {"missing file",
         {"k", secret},
         missing_file,
         client_errc::invalid_trust_anchor,
         "/nonexistent/ca.pem"},
        {"split agent", {"k", secret}, split_agent, client_errc::invalid_argument, "CR, LF"},
        {"secret with newline",
         {"k", std::string(secret) + "\n"},
         {},
         client_errc::invalid_argument,
         "CR, LF"},
        {"no key", {"", secret}, {}, client_errc::missing_credentials, "SCENARIO_API_KEY"},
        {"no connections",
         {"k", secret},
         no_connections,
         client_errc::invalid_argument,
         "max_connections"},
    };
    for (auto const& c : cases)
    {
        BOOST_TEST_CONTEXT("case " << c.name)
        {
            error_code code;
            auto what = construction_failure(c.creds, c.options, code);
            BOOST_TEST((code == c.expected));
            BOOST_TEST(what.find(c.says) != std::string::npos, what);
            BOOST_TEST(what.find(secret) == std::string::npos, what);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
