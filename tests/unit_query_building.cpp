// How base URLs, paths and queries are built: percent-encoding through Boost.URL.
#include <scenario/detail/endpoint.hpp>

#include <boost/test/unit_test.hpp>
#include <boost/url/parse.hpp>

using scenario::detail::endpoint;
using scenario::detail::parse_endpoint;
using scenario::detail::target_builder;

namespace {

// The decoded value of `key` in an encoded target, as a server reads it.
std::string decoded_param(std::string const& target, std::string_view key)
{
    auto parsed = boost::urls::parse_origin_form(target);
    BOOST_TEST_REQUIRE(parsed.has_value());
    auto it = parsed->params().find(key);
    BOOST_TEST_REQUIRE((it != parsed->params().end()));
    return std::string((*it).value);
}

} // namespace

BOOST_AUTO_TEST_SUITE(query_building)

BOOST_AUTO_TEST_CASE(base_urls_split_into_host_port_and_path)
{
    struct case_
    {
        char const* url;
        char const* host;
        char const* port;
        char const* host_header;
        char const* base_path;
        bool is_name;
    };
    case_ const cases[] = {
        {"https://api.cloud.scenario.com/v1", "api.cloud.scenario.com", "443",
         "api.cloud.scenario.com", "/v1", true},
        {"https://127.0.0.1:8443/v1/", "127.0.0.1", "8443", "127.0.0.1:8443", "/v1", false},
        {"https://[::1]:9000/v1", "::1", "9000", "[::1]:9000", "/v1", false},
        {"https://localhost:1", "localhost", "1", "localhost:1", "", true},
    };
    for (auto const& c : cases)
    {
        BOOST_TEST_CONTEXT("url " << c.url)
        {
            endpoint e;
            std::string problem;
            BOOST_TEST(!parse_endpoint(c.url, e, problem));
            BOOST_TEST(e.host == c.host);
            BOOST_TEST(e.port == c.port);
            BOOST_TEST(e.host_header == c.host_header);
            BOOST_TEST(e.base_path == c.base_path);
            BOOST_TEST(e.host_is_name == c.is_name);
        }
    }
}

BOOST_AUTO_TEST_CASE(non_https_or_credentialed_base_urls_are_refused)
{
    for (char const* url :
         {"http://api.cloud.scenario.com/v1", "https://user:pw@host/v1",
          "api.cloud.scenario.com/v1", "", "https:///v1", "ftp://x/", "https://host:99999/v1",
          "https://host:0/v1"})
    {
        BOOST_TEST_CONTEXT("url '" << url << "'")
        {
            endpoint e;
            std::string problem;
            auto ec = parse_endpoint(url, e, problem);
            BOOST_TEST((ec == scenario::client_errc::invalid_base_url));
            BOOST_TEST(problem.find("https") != std::string::npos);
            BOOST_TEST(problem.find("pw") == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_model_id_is_one_encoded_segment)
{
    target_builder target("/v1", {"models", "a/b c?d#e%"});
    BOOST_TEST(target.target() == "/v1/models/a%2Fb%20c%3Fd%23e%25");
    BOOST_TEST(target.path() == target.target());

    auto encoded = target.target(); // the view below points into it
    auto parsed = boost::urls::parse_origin_form(encoded);
    BOOST_TEST_REQUIRE(parsed.has_value());
    std::vector<std::string> segments;
    for (auto segment : parsed->segments())
        segments.emplace_back(segment);
    BOOST_TEST(
        segments == (std::vector<std::string>{"v1", "models", "a/b c?d#e%"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(query_values_round_trip_whatever_they_hold)
{
    std::string const values[] = {
        "sc:third-party,sc:scenario",  "Image to 3D", "a&b=c", "#hash", "100%", "1+1",
        "caf\xc3\xa9 \xf0\x9f\x8e\xa8"};
    for (auto const& value : values)
    {
        BOOST_TEST_CONTEXT("value '" << value << "'")
        {
            target_builder target("/v1", {"models"});
            target.add("tags", value);
            target.add("status", std::string_view("trained"));
            auto encoded = target.target();
            BOOST_TEST(decoded_param(encoded, "tags") == value);
            BOOST_TEST(decoded_param(encoded, "status") == "trained");
            // A literal '+' would read as a space on many servers.
            BOOST_TEST(encoded.find('+') == std::string::npos);
            BOOST_TEST(encoded.find(' ') == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(tags_keep_their_colons_and_commas)
{
    target_builder target("/v1", {"models"});
    target.add("tags", std::string_view("sc:scenario,sc:featured"));
    BOOST_TEST(target.target() == "/v1/models?tags=sc:scenario,sc:featured");
}

BOOST_AUTO_TEST_CASE(every_listing_parameter_is_sent_in_camel_case)
{
    scenario::list_params params{
        .tags = "t",
        .privacy = "public",
        .page_size = 50,
        .pagination_token = "tok",
        .status = "trained",
        .type = "flux.1-lora",
        .collection_id = "c1",
        .collection_ids = "c1,c2",
        .sort_by = "createdAt",
        .sort_direction = "asc",
        .created_after = "2026-01-01T00:00:00.000Z",
        .created_before = "2026-02-01T00:00:00.000Z",
        .updated_after = "u1",
        .updated_before = "u2",
        .blacklisted = false,
        .loaded_only = true,
        .original_assets = true,
        .project_id = "proj_x",
    };
    target_builder target("/v1", {"models"});
    target.add_listing(params, "proj_default");
    auto encoded = target.target();

    std::pair<char const*, char const*> const expected[] = {
        {"tags", "t"},
        {"privacy", "public"},
        {"pageSize", "50"},
        {"status", "trained"},
        {"type", "flux.1-lora"},
        {"collectionId", "c1"},
        {"collectionIds", "c1,c2"},
        {"sortBy", "createdAt"},
        {"sortDirection", "asc"},
        {"createdAfter", "2026-01-01T00:00:00.000Z"},
        {"createdBefore", "2026-02-01T00:00:00.000Z"},
        {"updatedAfter", "u1"},
        {"updatedBefore", "u2"},
        {"blacklisted", "false"},
        {"loadedOnly", "true"},
        {"originalAssets", "true"},
        {"projectId", "proj_x"}};
    for (auto const& [key, value] : expected)
        BOOST_TEST_CONTEXT("parameter " << key)
        {
            BOOST_TEST(decoded_param(encoded, key) == value);
        }
    // The token changes from page to page; the page's request adds it.
    BOOST_TEST(encoded.find("paginationToken") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_page_request_is_the_encoded_filters_plus_its_token)
{
    target_builder filters("/v1", {});
    filters.add_listing({.tags = "Image to 3D", .page_size = 5}, "");
    target_builder page("/v1", {"models", "public"});
    page.add_encoded(filters.encoded_query());
    page.add("paginationToken", std::string_view("eyJvZmZzZXQiOjV9+/="));
    BOOST_TEST(
        page.target() == "/v1/models/public?pageSize=5&tags=Image%20to%203D"
                         "&paginationToken=eyJvZmZzZXQiOjV9%2B/%3D");
    BOOST_TEST(decoded_param(page.target(), "paginationToken") == "eyJvZmZzZXQiOjV9+/=");
}

BOOST_AUTO_TEST_CASE(unset_parameters_are_left_out_and_the_default_project_fills_in)
{
    target_builder target("/v1", {"models"});
    target.add_listing({.tags = "sc:scenario"}, "proj_default");
    BOOST_TEST(target.target() == "/v1/models?tags=sc:scenario&projectId=proj_default");

    target_builder bare("/v1", {"models"});
    bare.add_listing({}, "");
    BOOST_TEST(bare.target() == "/v1/models");
}

BOOST_AUTO_TEST_SUITE_END()
