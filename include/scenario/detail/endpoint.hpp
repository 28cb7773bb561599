#ifndef SCENARIO_DETAIL_ENDPOINT_HPP
#define SCENARIO_DETAIL_ENDPOINT_HPP

#include <scenario/error.hpp>
#include <scenario/list_params.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace scenario::detail {

// Where the API lives, split for connecting (host, port), verifying (host, is_name) and
// addressing (host_header, base_path).
struct endpoint
{
    std::string host; // for resolving and certificate checks; no brackets
    std::string port; // as digits
    std::uint16_t port_number = 443;
    std::string host_header;  // as the Host header wants it
    std::string base_path;    // the API root, without a trailing slash
    bool host_is_name = true; // SNI is sent only for names (RFC 6066 forbids addresses)
};

inline error_code parse_endpoint(std::string_view base_url, endpoint& out, std::string& problem)
{
    auto parsed = boost::urls::parse_absolute_uri(base_url);
    if (!parsed || parsed->scheme_id() != boost::urls::scheme::https || !parsed->has_authority() ||
        parsed->encoded_host().empty() || parsed->has_userinfo())
    {
        // A URL with user information may hold a password: it is not repeated.
        problem = "the base URL ";
        if (parsed && parsed->has_userinfo())
            problem += "(not shown: it holds user information)";
        else
            problem.append("'").append(base_url.substr(0, 200)).append("'");
        problem += " is not an absolute https URL without credentials, such as "
                   "https://api.cloud.scenario.com/v1";
        return client_errc::invalid_base_url;
    }
    out.host = parsed->host_address();
    out.host_is_name = parsed->host_type() == boost::urls::host_type::name;
    out.port = parsed->has_port() ? std::string(parsed->port()) : std::string("443");
    unsigned long number = 0;
    auto [end, parse_ec] =
        std::from_chars(out.port.data(), out.port.data() + out.port.size(), number);
    if (parse_ec != std::errc() || end != out.port.data() + out.port.size() || number == 0 ||
        number > 65535)
    {
        problem = "the port of the base URL '" + std::string(base_url.substr(0, 200)) +
                  "' is not a number from 1 to 65535";
        return client_errc::invalid_base_url;
    }
    out.port_number = static_cast<std::uint16_t>(number);
    out.host_header = std::string(parsed->encoded_host_and_port());
    out.base_path = std::string(parsed->encoded_path());
    while (!out.base_path.empty() && out.base_path.back() == '/')
        out.base_path.pop_back();
    return {};
}

// Builds an origin-form target: the base path, each segment percent-encoded as one segment
// (so an id holding '/', '?' or '#' stays one segment), then the query.
class target_builder
{
public:
    target_builder(std::string_view base_path, std::initializer_list<std::string_view> segments)
    {
        url_.set_encoded_path(base_path.empty() ? std::string_view("/") : base_path);
        for (auto segment : segments)
            url_.segments().push_back(segment);
    }

    // Query values keep ':' and ',' (tags are `sc:scenario,sc:featured`) and encode the rest
    // of the reserved characters, '+' included: many servers read a literal '+' as a space.
    void add(std::string_view key, std::string_view value)
    {
        if (value.empty())
            return;
        static constexpr auto kept = boost::urls::unreserved_chars + ':' + ',' + '@' + '/';
        auto encoded = boost::urls::encode(value, kept);
        url_.encoded_params().append({key, boost::urls::pct_string_view(encoded)});
    }

    void add(std::string_view key, std::optional<bool> value)
    {
        if (value)
            add(key, std::string_view(*value ? "true" : "false"));
    }

    void add(std::string_view key, std::optional<unsigned> value)
    {
        if (value)
            add(key, std::to_string(*value));
    }

    // Every query parameter of a listing but its pagination token, which changes from page to
    // page; `default_project` fills an empty project id.
    void add_listing(list_params const& p, std::string_view default_project)
    {
        add("pageSize", p.page_size);
        add("privacy", p.privacy);
        add("tags", p.tags);
        add("status", p.status);
        add("type", p.type);
        add("collectionId", p.collection_id);
        add("collectionIds", p.collection_ids);
        add("sortBy", p.sort_by);
        add("sortDirection", p.sort_direction);
        add("createdAfter", p.created_after);
        add("createdBefore", p.created_before);
        add("updatedAfter", p.updated_after);
        add("updatedBefore", p.updated_before);
        add("blacklisted", p.blacklisted);
        add("loadedOnly", p.loaded_only);
        add("originalAssets", p.original_assets);
        add("projectId", p.project_id.empty() ? default_project : p.project_id);
    }

    // A query encoded earlier by another builder, taken as it is; call it before `add`.
    void add_encoded(std::string_view encoded_query)
    {
        if (!encoded_query.empty())
            url_.set_encoded_query(encoded_query);
    }

    std::string encoded_query() const
    {
        return std::string(url_.encoded_query());
    }

    std::string path() const
    {
        return std::string(url_.encoded_path());
    }

    std::string target() const
    {
        return std::string(url_.encoded_target());
    }

private:
    boost::urls::url url_;
};

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_ENDPOINT_HPP
