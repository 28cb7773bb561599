// TLS that cannot be fooled, encoding that cannot be escaped, secrets that never show, over
// real TLS on loopback with certificates made at run time.
#include "support/local_api.hpp"
#include "support/run.hpp"

#include <scenario/testing/certificate.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/x509_vfy.h>

namespace asio = boost::asio;
using namespace scenario_tests;
using namespace std::chrono_literals;
using scenario::error_code;
using scenario::testing::certificate_options;
using scenario::testing::local_api;
using scenario::testing::local_api_options;
using scenario::testing::make_self_signed_certificate;

namespace {

struct call_result
{
    error_code ec;
    scenario::diagnostics diag;
    std::string what;
};

call_result get_once(scenario::client_options options, local_api const& api)
{
    asio::io_context io;
    scenario::client client(io, {api.api_key(), api.api_secret()}, std::move(options));
    auto call = [](scenario::models_api models) -> asio::awaitable<call_result> {
        call_result result;
        auto [ec, m] = co_await models.get(
            "model_abc", result.diag, asio::as_tuple(asio::use_awaitable));
        result.ec = ec;
        co_return result;
    };
    auto result = run(io, call(client.models()), 30s);
    result.what = scenario::error(result.ec, result.diag).what();
    return result;
}

scenario::client_options trusting(std::string base_url, std::string const& pem)
{
    scenario::client_options options;
    options.base_url = std::move(base_url);
    options.ca_pem = pem;
    options.use_system_trust_store = false;
    return options;
}

std::string localhost_url(local_api const& api)
{
    return "https://localhost:" + std::to_string(api.port()) + "/v1";
}

local_api_options serving(scenario::testing::certificate cert)
{
    local_api_options options;
    options.public_models = 10;
    options.private_models = 2;
    options.tls_certificate = std::move(cert);
    return options;
}

} // namespace

BOOST_AUTO_TEST_SUITE(security)

// Each bad certificate fails the call with the reason OpenSSL gives, in the error code and in
// words, before a byte of the request is written.
BOOST_AUTO_TEST_CASE(bad_certificates_are_refused_saying_why_and_nothing_is_sent)
{
    certificate_options expired;
    expired.not_before_offset = -std::chrono::hours(48);
    expired.not_after_offset = -std::chrono::hours(24);
    certificate_options not_yet_valid;
    not_yet_valid.not_before_offset = std::chrono::hours(24);
    certificate_options elsewhere;
    elsewhere.dns_names = {"elsewhere.example"};
    elsewhere.ip_addresses = {"192.0.2.1"};

    struct case_
    {
        char const* name;
        certificate_options served;
        bool trusted;     // whether the client is given the served certificate as its anchor
        bool by_name;     // https://localhost:PORT rather than https://127.0.0.1:PORT
        int reason;       // X509_V_ERR_*
        char const* says; // in the error's text
    };
    case_ const cases[] = {
        {"untrusted", {}, false, false, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "not trusted"},
        {"expired", expired, true, false, X509_V_ERR_CERT_HAS_EXPIRED, "validity period"},
        {"not yet valid", not_yet_valid, true, true, X509_V_ERR_CERT_NOT_YET_VALID,
         "validity period"},
        {"another host name", elsewhere, true, true, X509_V_ERR_HOSTNAME_MISMATCH,
         "not issued for localhost"},
        {"another address", elsewhere, true, false, X509_V_ERR_IP_ADDRESS_MISMATCH,
         "not issued for 127.0.0.1"},
    };
    for (auto const& c : cases)
    {
        BOOST_TEST_CONTEXT(c.name)
        {
            local_api api(serving(make_self_signed_certificate(c.served)));
            auto const anchor =
                c.trusted ? api.certificate_pem() : make_self_signed_certificate().certificate_pem;
            auto options = trusting(c.by_name ? localhost_url(api) : api.base_url(), anchor);
            auto result = get_once(options, api);

            BOOST_TEST((result.ec.category() == scenario::certificate_category()));
            BOOST_TEST(result.ec.value() == c.reason, result.ec.message());
            BOOST_TEST(result.what.find("TLS certificate refused") != std::string::npos);
            BOOST_TEST(result.what.find(c.says) != std::string::npos, result.what);
            BOOST_TEST(result.diag.attempts == 1u); // never retried: it would fail alike
            BOOST_TEST(api.requests_received() == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_insecure_option_alone_turns_verification_off)
{
    certificate_options elsewhere;
    elsewhere.dns_names = {"elsewhere.example"};
    elsewhere.ip_addresses = {};
    elsewhere.not_after_offset = -std::chrono::hours(1);
    local_api api(serving(make_self_signed_certificate(elsewhere)));

    // Untrusted, expired and for another host: refused, with or without the system's store.
    scenario::client_options options;
    options.base_url = api.base_url();
    BOOST_TEST((get_once(options, api).ec.category() == scenario::certificate_category()));

    options.insecure_skip_certificate_verification = true;
    auto result = get_once(options, api);
    BOOST_TEST(result.ec == scenario::make_http_error(404), result.what); // it got through
    BOOST_TEST(api.requests_received() == 1u);
}

// The server name goes in the handshake whenever the URL names a host; a server that hosts
// many names needs it. An address carries none (RFC 6066), so such a server refuses it.
BOOST_AUTO_TEST_CASE(the_host_name_is_sent_as_sni)
{
    local_api_options options;
    options.public_models = 10;
    options.private_models = 2;
    options.required_server_name = "localhost";
    local_api api(options);

    auto by_name = get_once(trusting(localhost_url(api), api.certificate_pem()), api);
    BOOST_TEST(by_name.ec == scenario::make_http_error(404), by_name.what);

    auto by_address = get_once(trusting(api.base_url(), api.certificate_pem()), api);
    BOOST_TEST((by_address.ec.category() == asio::error::get_ssl_category()), by_address.what);
    BOOST_TEST(by_address.what.find("TLS handshake") != std::string::npos, by_address.what);
    BOOST_TEST(api.requests_received() == 1u);
}

// Whatever a tag holds reaches the server as that text: nothing in it can end the value, start
// another parameter or cut the query short.
BOOST_AUTO_TEST_CASE(query_values_reach_the_server_exactly_as_given)
{
    std::string const tags = "a b&c=d#e%f+g?h/i;j,caf\xc3\xa9 \xf0\x9f\x8e\xa8";
    asio::io_context io;
    auto client = make_client(io);
    auto call = [](scenario::models_api models, std::string const& tags)
        -> asio::awaitable<error_code> {
        auto [ec, page] = co_await models.list(
            {.tags = tags, .project_id = "p&q=r"}, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    };
    BOOST_TEST(run(io, call(client.models(), tags)) == scenario::make_http_error(403));

    auto targets = shared_api().received_targets();
    BOOST_TEST_REQUIRE(!targets.empty());
    auto target = boost::urls::parse_origin_form(targets.back());
    BOOST_TEST_REQUIRE(target.has_value());
    std::vector<std::pair<std::string, std::string>> received;
    for (auto const& param : target->params())
        received.emplace_back(param.key, param.value);
    std::vector<std::pair<std::string, std::string>> const expected = {
        {"tags", tags}, {"projectId", "p&q=r"}};
    BOOST_TEST(received == expected);
}

// Every message a failing call can produce, for every kind of failure the client can meet
// with credentials in hand, is free of the secret and of the Authorization header.
BOOST_AUTO_TEST_CASE(no_failure_shows_the_secret_or_the_authorization_header)
{
    std::string const secret = "Sup3r-Secret-Value";
    std::string const key = "key-visible";
    std::string const basic = "a2V5LXZpc2libGU6U3VwM3ItU2VjcmV0LVZhbHVl"; // base64 key:secret
    local_api_options server_options;
    server_options.public_models = 10;
    server_options.private_models = 2;
    server_options.api_key = key;
    server_options.api_secret = secret;
    // The fourth request the server reads (the "slow" attempt below) stalls past its timeout.
    server_options.faults.rules.push_back(
        {.kind = scenario::testing::fault_kind::stall, .sequence = {4}, .delay = 3s});
    local_api api(server_options);

    std::vector<std::string> messages;
    auto note = [&](error_code const& ec, scenario::diagnostics const& diag) {
        messages.push_back(scenario::error(ec, diag).what());
        messages.push_back(ec.message());
        for (auto const* text : {&diag.message, &diag.path, &diag.server_reason, &diag.body})
            messages.push_back(*text);
    };
    auto attempt = [&](scenario::credentials creds, scenario::client_options options,
                       scenario::list_params params) {
        try
        {
            asio::io_context io;
            scenario::client client(io, creds, options);
            auto call = [](scenario::models_api models, scenario::list_params params)
                -> asio::awaitable<std::pair<error_code, scenario::diagnostics>> {
                scenario::diagnostics diag;
                auto [ec, page] =
                    co_await models.list(params, diag, asio::as_tuple(asio::use_awaitable));
                co_return std::pair{ec, diag};
            };
            auto [ec, diag] = run(io, call(client.models(), std::move(params)), 30s);
            BOOST_TEST(ec.failed(), "attempt " << messages.size() / 6 << " failed");
            note(ec, diag);
        }
        catch (scenario::error const& e)
        {
            note(e.code(), e.get_diagnostics());
        }
    };

    auto options = options_for(api);
    options.retry.max_retries = 0;
    attempt({key, secret + "x"}, options, {});                // 401
    attempt({key, secret}, options, {.project_id = "other"}); // 403
    attempt({key, secret}, options, {.page_size = 100000});   // 400
    auto untrusted = options;
    untrusted.ca_pem = make_self_signed_certificate().certificate_pem;
    untrusted.use_system_trust_store = false;
    attempt({key, secret}, untrusted, {}); // TLS
    auto unreachable = options;
    unreachable.base_url = "https://127.0.0.1:1/v1";
    attempt({key, secret}, unreachable, {}); // connection refused
    auto slow = options;
    slow.request_timeout = 300ms;
    attempt({key, secret}, slow, {}); // timeout
    auto split = options;
    split.user_agent = "agent\r\nX: y";
    attempt({key, secret}, split, {}); // refused before sending
    attempt({key, secret + "\n"}, options, {});
    auto userinfo = options;
    userinfo.base_url = "https://" + key + ":" + secret + "@127.0.0.1:1/v1";
    attempt({key, secret}, userinfo, {}); // a URL holding the secret

    BOOST_TEST(messages.size() >= 9u * 6u);
    for (auto const& text : messages)
    {
        BOOST_TEST(text.find(secret) == std::string::npos, text);
        BOOST_TEST(text.find(basic) == std::string::npos, text);
        BOOST_TEST(text.find("Basic ") == std::string::npos, text);
    }
    std::ostringstream printed;
    printed << scenario::credentials{key, secret};
    BOOST_TEST(printed.str().find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
