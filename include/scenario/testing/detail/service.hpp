// The local Scenario API server's request handling, without any I/O: a request's method,
// target, credentials and body in, a status and a JSON body out.

#ifndef SCENARIO_TESTING_DETAIL_SERVICE_HPP
#define SCENARIO_TESTING_DETAIL_SERVICE_HPP

#include <scenario/testing/detail/catalogue.hpp>
#include <scenario/testing/detail/json_writer.hpp>

#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace scenario::testing::detail {

/// Standard base64 with padding, as the service uses in pagination tokens and HTTP uses in
/// Basic credentials.
inline std::string base64_encode(std::string_view bytes)
{
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    int const written = EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(text.data()),
        reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

/// Decodes padded standard base64; answers nothing when `text` is not that.
inline std::optional<std::string> base64_decode(std::string_view text)
{
    // EVP_DecodeBlock would skip surrounding blanks, and accepts only whole groups of four.
    if (text.empty() || text.size() % 4 != 0 || text.size() > 64 * 1024)
        return std::nullopt;

    std::string bytes(text.size() / 4 * 3, '\0');
    int const written = EVP_DecodeBlock(
        reinterpret_cast<unsigned char*>(bytes.data()),
        reinterpret_cast<unsigned char const*>(text.data()), static_cast<int>(text.size()));
    if (written < 0)
        return std::nullopt;

    // EVP_DecodeBlock decodes the padding too, as zero bytes that are not part of the data.
    std::size_t padding = 0;
    if (text.back() == '=')
        padding = text[text.size() - 2] == '=' ? 2 : 1;
    if (text.find('=') < text.size() - padding)
        return std::nullopt;
    bytes.resize(static_cast<std::size_t>(written) - padding);
    return bytes;
}

/// An answer: the HTTP status and its JSON body.
struct service_response
{
    /// The HTTP status code.
    unsigned status = 200;

    /// The JSON body.
    std::string body;

    /// For 405 answers, the methods the path accepts (the `Allow` header); empty otherwise.
    std::string_view allow;
};

/// A `{"reason": …}` error answer, the shape of every error of the live service.
inline service_response error_response(unsigned status, std::string_view reason)
{
    service_response response{status, {}, {}};
    json_writer writer{response.body};
    writer.begin_object();
    writer.member("reason", reason);
    writer.end_object();
    return response;
}

/// A listing request's filters, order and page, read from its query.
struct listing_query
{
    model_privacy privacy = model_privacy::private_models;
    std::size_t page_size = 100;
    std::size_t offset = 0;
    std::vector<std::string> tags;
    std::vector<std::string> collection_ids;
    std::optional<std::string> status;
    std::optional<std::string> type;
    std::optional<sort_key> sort_by;
    bool descending = true;
    std::optional<timestamp> created_after;
    std::optional<timestamp> created_before;
    std::optional<timestamp> updated_after;
    std::optional<timestamp> updated_before;

    /// Whether any filter is set; without one, a page is a plain slice of the list.
    bool filters() const noexcept
    {
        return !tags.empty() || !collection_ids.empty() || status || type || created_after ||
               created_before || updated_after || updated_before;
    }

    /// Whether `model` passes every filter.
    bool matches(catalogue_model const& model) const
    {
        auto const any_of = [](std::vector<std::string> const& wanted,
                               std::vector<std::string> const& present) {
            for (auto const& value : wanted)
                for (auto const& candidate : present)
                    if (value == candidate)
                        return true;
            return false;
        };

        if (!tags.empty() && !any_of(tags, model.tags))
            return false;
        if (!collection_ids.empty() && !any_of(collection_ids, model.collection_ids))
            return false;
        if (status && model.status != *status)
            return false;
        if (type && model.type != *type)
            return false;
        if (created_after && model.created_at <= *created_after)
            return false;
        if (created_before && model.created_at >= *created_before)
            return false;
        if (updated_after && model.updated_at <= *updated_after)
            return false;
        if (updated_before && model.updated_at >= *updated_before)
            return false;
        return true;
    }
};

/// Appends the non-empty items of a comma-separated list.
inline void split_list(std::string_view text, std::vector<std::string>& items)
{
    while (!text.empty())
    {
        std::size_t const comma = text.find(',');
        std::string_view const item = text.substr(0, comma);
        if (!item.empty())
            items.emplace_back(item);
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
}

/// Reads a whole decimal number; answers nothing on anything else, signs included.
inline std::optional<std::size_t> parse_count(std::string_view text)
{
    std::size_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

/// The pagination token of the page that starts at `offset`: base64 of
/// `{"offset":N,"limit":M}`, the shape the live service mints.
inline std::string make_pagination_token(std::size_t offset, std::size_t limit)
{
    std::string json;
    json_writer writer{json};
    writer.begin_object();
    writer.member("offset", offset);
    writer.member("limit", limit);
    writer.end_object();
    return base64_encode(json);
}

/// The requests the local API answers. Thread-safe: the catalogue is read-only, and the
/// descriptions that requests may change are guarded.
class service
{
public:
    /// Serves the given catalogue to holders of the key and secret.
    service(
        std::string api_key, std::string api_secret, std::size_t public_models,
        std::size_t private_models, std::string project_id, std::string user_id)
        : api_key_(std::move(api_key))
        , api_secret_(std::move(api_secret))
        , catalogue_(public_models, private_models, std::move(project_id), std::move(user_id))
    {}

    /// The models served.
    catalogue const& models() const noexcept
    {
        return catalogue_;
    }

    /// Answers one request. `target` is the request-target as received (origin form),
    /// `authorization` the `Authorization` header, empty if absent.
    service_response handle(
        boost::beast::http::verb method, std::string_view target, std::string_view authorization,
        std::string_view body)
    {
        using boost::beast::http::verb;

        if (!authorized(authorization))
            return error_response(401, "Invalid API key or secret");

        auto const parsed = boost::urls::parse_origin_form(target);
        if (!parsed)
            return error_response(400, "Malformed request target");
        boost::urls::url_view const url = *parsed;

        auto const project = url.params().find("projectId");
        if (project != url.params().end())
        {
            std::string const project_id = (*project).value;
            if (project_id != catalogue_.project_id())
                return error_response(
                    403, "Project " + project_id +
                             " does not exist or is not accessible with "
                             "this API key");
        }

        std::vector<std::string> segments;
        for (auto const& segment : url.segments())
            segments.push_back(segment);
        if (segments.size() < 2 || segments[0] != "v1" || segments[1] != "models")
            return error_response(404, "Not found");

        if (segments.size() == 2)
        {
            if (method != verb::get)
                return method_not_allowed(method, "GET");
            return list(url, std::nullopt);
        }

        if (segments.size() == 3 && segments[2] == "public" && method == verb::get)
            return list(url, model_privacy::public_models);
        if (segments.size() == 3 && segments[2] == "get-bulk" && method == verb::post)
            return get_bulk(body);

        if (segments.size() == 3)
        {
            if (method != verb::get)
                return method_not_allowed(method, "GET");
            return get_model(segments[2]);
        }

        if (segments.size() == 4 && segments[3] == "description")
        {
            if (method == verb::get)
                return get_description(segments[2]);
            if (method == verb::put)
                return put_description(segments[2], body);
            return method_not_allowed(method, "GET, PUT");
        }
        return error_response(404, "Not found");
    }

private:
    bool authorized(std::string_view authorization) const
    {
        std::size_t const space = authorization.find(' ');
        if (space == std::string_view::npos)
            return false;
        std::string_view const scheme = authorization.substr(0, space);
        std::string_view credentials = authorization.substr(space + 1);
        while (!credentials.empty() && credentials.front() == ' ')
            credentials.remove_prefix(1);
        while (!credentials.empty() && credentials.back() == ' ')
            credentials.remove_suffix(1);

        // Authentication schemes are case-insensitive (RFC 9110, section 11.1).
        auto const is_scheme = [&](std::string_view name) {
            if (scheme.size() != name.size())
                return false;
            for (std::size_t k = 0; k < name.size(); ++k)
                if ((scheme[k] | 0x20) != (name[k] | 0x20))
                    return false;
            return true;
        };

        if (is_scheme("bearer"))
            return equal_secrets(credentials, api_key_);
        if (!is_scheme("basic"))
            return false;

        auto const decoded = base64_decode(credentials);
        if (!decoded)
            return false;
        std::size_t const colon = decoded->find(':');
        if (colon == std::string::npos)
            return false;
        // Both halves are compared whatever the first gives, so timing tells nothing.
        bool const key_ok = equal_secrets(std::string_view(*decoded).substr(0, colon), api_key_);
        bool const secret_ok =
            equal_secrets(std::string_view(*decoded).substr(colon + 1), api_secret_);
        return key_ok && secret_ok;
    }

    static bool equal_secrets(std::string_view received, std::string_view expected)
    {
        return received.size() == expected.size() &&
               CRYPTO_memcmp(received.data(), expected.data(), expected.size()) == 0;
    }

    static service_response method_not_allowed(
        boost::beast::http::verb method, std::string_view allow)
    {
        std::string reason = "Method ";
        reason += boost::beast::http::to_string(method);
        reason += " is not allowed here; use ";
        reason += allow;
        service_response response = error_response(405, reason);
        response.allow = allow;
        return response;
    }

    /// Reads a listing's query; answers the 400 to send when it is invalid.
    std::optional<service_response> read_listing_query(
        boost::urls::url_view url, listing_query& query) const
    {
        std::optional<std::string> page_size;
        std::optional<std::string> pagination_token;
        std::optional<std::string> sort_by;
        std::optional<std::string> sort_direction;
        std::optional<std::string> created_after, created_before;
        std::optional<std::string> updated_after, updated_before;

        // A repeated parameter: the last one counts.
        for (auto const& param : url.params())
        {
            std::string_view const key = param.key;
            std::string const& value = param.value;
            if (key == "pageSize")
                page_size = value;
            else if (key == "paginationToken")
                pagination_token = value;
            else if (key == "privacy")
            {
                if (value == "private")
                    query.privacy = model_privacy::private_models;
                else if (value == "public")
                    query.privacy = model_privacy::public_models;
                else if (value == "unlisted")
                    query.privacy = model_privacy::unlisted_models;
                else
                    return error_response(400, "privacy must be private, public or unlisted");
            }
            else if (key == "tags")
                split_list(value, query.tags);
            else if (key == "collectionId")
                query.collection_ids.push_back(value);
            else if (key == "collectionIds")
                split_list(value, query.collection_ids);
            else if (key == "status")
                query.status = value;
            else if (key == "type")
                query.type = value;
            else if (key == "sortBy")
                sort_by = value;
            else if (key == "sortDirection")
                sort_direction = value;
            else if (key == "createdAfter")
                created_after = value;
            else if (key == "createdBefore")
                created_before = value;
            else if (key == "updatedAfter")
                updated_after = value;
            else if (key == "updatedBefore")
                updated_before = value;
        }

        if (page_size)
        {
            auto const size = parse_count(*page_size);
            if (!size || *size < 1 || *size > 500)
                return error_response(400, "pageSize must be between 1 and 500");
            query.page_size = *size;
        }

        if (pagination_token)
        {
            auto const page = read_pagination_token(*pagination_token);
            if (!page)
                return error_response(400, "Invalid paginationToken");
            query.offset = page->first;
            // An explicit pageSize wins over the size the token was minted with.
            if (!page_size)
                query.page_size = page->second;
        }

        if (sort_by)
        {
            if (*sort_by == "createdAt")
                query.sort_by = sort_key::created_at;
            else if (*sort_by == "updatedAt")
                query.sort_by = sort_key::updated_at;
            else if (*sort_by == "score")
                query.sort_by = sort_key::score;
            else
                return error_response(400, "sortBy must be createdAt, updatedAt or score");
        }
        if (sort_direction)
        {
            if (*sort_direction != "asc" && *sort_direction != "desc")
                return error_response(400, "sortDirection must be asc or desc");
            query.descending = *sort_direction == "desc";
        }

        bool const by_created = query.sort_by == sort_key::created_at;
        bool const by_updated = query.sort_by == sort_key::updated_at;
        if ((created_after || created_before) && !by_created)
            return error_response(
                400, "createdAfter and createdBefore are only valid with sortBy=createdAt");
        if ((updated_after || updated_before) && !by_updated)
            return error_response(
                400, "updatedAfter and updatedBefore are only valid with sortBy=updatedAt");

        std::pair<std::optional<std::string>*, std::optional<timestamp>*> const dates[] = {
            {&created_after, &query.created_after},
            {&created_before, &query.created_before},
            {&updated_after, &query.updated_after},
            {&updated_before, &query.updated_before},
        };
        for (auto const& [text, time] : dates)
        {
            if (!*text)
                continue;
            *time = parse_timestamp(**text);
            if (!*time)
                return error_response(400, "Invalid date: expected ISO-8601, got " + **text);
        }
        return std::nullopt;
    }

    /// The offset and limit a token carries, if it is one of ours.
    static std::optional<std::pair<std::size_t, std::size_t>> read_pagination_token(
        std::string_view token)
    {
        auto const json = base64_decode(token);
        if (!json)
            return std::nullopt;

        boost::system::error_code error;
        boost::json::value const value = boost::json::parse(*json, error);
        if (error || !value.is_object())
            return std::nullopt;
        auto const* offset = value.as_object().if_contains("offset");
        auto const* limit = value.as_object().if_contains("limit");
        if (offset == nullptr || limit == nullptr)
            return std::nullopt;

        auto const as_count = [](boost::json::value const& number) -> std::optional<std::size_t> {
            if (number.is_uint64())
                return static_cast<std::size_t>(number.as_uint64());
            if (number.is_int64() && number.as_int64() >= 0)
                return static_cast<std::size_t>(number.as_int64());
            return std::nullopt;
        };
        auto const offset_count = as_count(*offset);
        auto const limit_count = as_count(*limit);
        if (!offset_count || !limit_count || *limit_count < 1 || *limit_count > 500)
            return std::nullopt;
        return std::pair{*offset_count, *limit_count};
    }

    service_response list(boost::urls::url_view url, std::optional<model_privacy> privacy) const
    {
        listing_query query;
        if (auto failure = read_listing_query(url, query))
            return std::move(*failure);
        if (privacy)
            query.privacy = *privacy;

        auto const& models = catalogue_.models(query.privacy);
        std::size_t const count = models.size();

        // The position-th model of the requested order. Without sortBy the catalogue order
        // stands, which is also decreasing score.
        std::vector<std::uint32_t> const* order = nullptr;
        bool reverse = false;
        if (query.sort_by == sort_key::created_at || query.sort_by == sort_key::updated_at)
        {
            order = &catalogue_.ascending_order(query.privacy, *query.sort_by);
            reverse = query.descending;
        }
        else if (query.sort_by == sort_key::score)
        {
            reverse = !query.descending;
        }
        auto const model_at = [&](std::size_t position) -> catalogue_model const& {
            std::size_t const from_start = reverse ? count - 1 - position : position;
            return models[order != nullptr ? (*order)[from_start] : from_start];
        };

        std::vector<catalogue_model const*> page;
        bool more = false;
        if (!query.filters())
        {
            for (std::size_t p = query.offset; p < count && page.size() < query.page_size; ++p)
                page.push_back(&model_at(p));
            more = query.offset < count && count - query.offset > query.page_size;
        }
        else
        {
            std::size_t matched = 0;
            for (std::size_t p = 0; p < count; ++p)
            {
                catalogue_model const& model = model_at(p);
                if (!query.matches(model))
                    continue;
                if (matched >= query.offset)
                {
                    if (page.size() == query.page_size)
                    {
                        more = true;
                        break;
                    }
                    page.push_back(&model);
                }
                ++matched;
            }
        }

        std::size_t size = 64;
        for (auto const* model : page)
            size += model->row.size() + 1;

        service_response response;
        response.body.reserve(size);
        response.body += "{\"models\":[";
        for (std::size_t k = 0; k < page.size(); ++k)
        {
            if (k != 0)
                response.body += ',';
            response.body += page[k]->row;
        }
        response.body += ']';

        // The last page carries no token at all, as live answers do.
        if (more)
        {
            response.body += ",\"nextPaginationToken\":\"";
            response.body += make_pagination_token(query.offset + query.page_size, query.page_size);
            response.body += '"';
        }
        response.body += '}';
        return response;
    }

    service_response get_model(std::string_view id) const
    {
        catalogue_model const* model = catalogue_.find(id);
        if (model == nullptr)
            return model_not_found(id);

        service_response response;
        std::string const* form =
            model->custom ? &catalogue_.custom_model_form(model->kind) : nullptr;
        response.body.reserve(model->row.size() + (form ? form->size() : 0) + 16);
        response.body += "{\"model\":";
        if (form != nullptr)
        {
            // The row is an object: the form goes just before its closing brace.
            response.body.append(model->row, 0, model->row.size() - 1);
            response.body += *form;
            response.body += '}';
        }
        else
        {
            response.body += model->row;
        }
        response.body += '}';
        return response;
    }

    service_response get_bulk(std::string_view body) const
    {
        boost::system::error_code error;
        boost::json::value const request = boost::json::parse(body, error);
        boost::json::array const* ids = nullptr;
        if (!error && request.is_object())
            if (auto const* found = request.as_object().if_contains("modelIds"))
                ids = found->if_array();
        if (ids == nullptr)
            return error_response(400, "Body must be a JSON object with a modelIds array");

        service_response response;
        response.body = "{\"models\":[";
        bool first = true;
        for (auto const& id : *ids)
        {
            if (!id.is_string())
                return error_response(400, "modelIds must hold strings");
            // Ids the caller cannot read are left out rather than failing the whole request.
            catalogue_model const* model = catalogue_.find(id.get_string());
            if (model == nullptr)
                continue;
            if (!first)
                response.body += ',';
            response.body += model->row;
            first = false;
        }
        response.body += "]}";
        return response;
    }

    service_response get_description(std::string_view id) const
    {
        catalogue_model const* model = catalogue_.find(id);
        if (model == nullptr)
            return model_not_found(id);
        return description_response(description_of(*model));
    }

    service_response put_description(std::string_view id, std::string_view body)
    {
        catalogue_model const* model = catalogue_.find(id);
        if (model == nullptr)
            return model_not_found(id);

        boost::system::error_code error;
        boost::json::value const request = boost::json::parse(body, error);
        boost::json::value const* description = nullptr;
        if (!error && request.is_object())
            description = request.as_object().if_contains("description");
        if (description == nullptr || !(description->is_string() || description->is_null()))
            return error_response(
                400, "Body must be a JSON object whose description is a string or null");

        std::string value;
        if (description->is_string())
            value = description->get_string();
        {
            std::lock_guard lock{descriptions_mutex_};
            descriptions_[model->id] = value;
        }
        return description_response(value);
    }

    std::string description_of(catalogue_model const& model) const
    {
        {
            std::lock_guard lock{descriptions_mutex_};
            auto const stored = descriptions_.find(model.id);
            if (stored != descriptions_.end())
                return stored->second;
        }

        // Until one is set, a model's description is made from its row, so that it needs no
        // memory for models nobody asks about.
        boost::json::value const row = boost::json::parse(model.row);
        auto const& fields = row.as_object();
        std::string markdown;
        if (auto const* name = fields.if_contains("name"))
        {
            markdown += "# ";
            markdown += name->as_string();
            markdown += "\n\n";
        }
        if (auto const* summary = fields.if_contains("shortDescription"))
        {
            markdown += summary->as_string();
            markdown += '\n';
        }
        return markdown;
    }

    static service_response description_response(std::string_view markdown)
    {
        service_response response;
        json_writer writer{response.body};
        writer.begin_object();
        writer.key("description");
        writer.begin_object();
        writer.member("value", markdown);
        writer.key("assets");
        writer.raw("[]");
        writer.key("models");
        writer.raw("[]");
        writer.end_object();
        writer.end_object();
        return response;
    }

    static service_response model_not_found(std::string_view id)
    {
        std::string reason = "Model ";
        reason += id;
        reason += " not found";
        return error_response(404, reason);
    }

    std::string api_key_;
    std::string api_secret_;
    catalogue catalogue_;
    mutable std::mutex descriptions_mutex_;
    std::unordered_map<std::string, std::string> descriptions_;
};

} // namespace scenario::testing::detail

#endif
