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

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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

/// The characters of UTF-8 text, counted as Unicode code points: the bytes that do not
/// continue a sequence. How the local API measures names and descriptions against their limits.
inline std::size_t count_code_points(std::string_view text) noexcept
{
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    }));
}

/// Writes a parsed value back the way the catalogue writes its rows: strings in ASCII with
/// `\u` escapes, fractions in their shortest form, members in their order.
inline void write_value(json_writer& writer, boost::json::value const& value)
{
    switch (value.kind())
    {
    case boost::json::kind::object:
        writer.begin_object();
        for (auto const& member : value.get_object())
        {
            writer.key(member.key());
            write_value(writer, member.value());
        }
        writer.end_object();
        break;
    case boost::json::kind::array:
        writer.begin_array();
        for (auto const& element : value.get_array())
            write_value(writer, element);
        writer.end_array();
        break;
    case boost::json::kind::string: writer.string(value.get_string()); break;
    case boost::json::kind::int64: writer.integer(value.get_int64()); break;
    case boost::json::kind::uint64: writer.raw(std::to_string(value.get_uint64())); break;
    case boost::json::kind::double_: writer.number(value.get_double()); break;
    case boost::json::kind::bool_: writer.boolean(value.get_bool()); break;
    case boost::json::kind::null: writer.null(); break;
    }
}

/// The requests the local API answers. Thread-safe: the catalogue is read-only, and what
/// requests change (descriptions; tags, created and deleted models of the account) is guarded.
///
/// Only the account's own models change: their tags (`PUT /models/{id}/tags`), new ones
/// (`POST /models`) and deletions (`DELETE /models/{id}`). Public models answer those with 403.
/// Changes take their time from a logical clock that starts at 2026-04-20T00:00:00.000Z, after
/// every timestamp of the catalogue, and moves one second per change, so that a sequence of
/// requests always gives the same answers.
class service
{
public:
    /// Most ids one `POST /models/get-bulk` may ask for. The reference states no limit; the
    /// local API has one, so that clients have to split long lists.
    static constexpr std::size_t max_bulk_ids = 100;

    /// Longest `name` and `shortDescription` of `POST /models`, in characters (code points).
    static constexpr std::size_t max_name_length = 64;
    static constexpr std::size_t max_short_description_length = 256;

    /// A model as served now; catalogue models are referred to without being owned.
    using model_ref = std::shared_ptr<catalogue_model const>;

    /// Serves the given catalogue to holders of the key and secret.
    service(
        std::string api_key, std::string api_secret, std::size_t public_models,
        std::size_t private_models, std::string project_id, std::string user_id)
        : api_key_(std::move(api_key))
        , api_secret_(std::move(api_secret))
        , user_id_(user_id)
        , catalogue_(public_models, private_models, std::move(project_id), std::move(user_id))
    {}

    /// The models served at start-up.
    catalogue const& models() const noexcept
    {
        return catalogue_;
    }

    /// The account's own models as requests have left them, in the default listing order: the
    /// catalogue's, less those deleted and with their tags as changed, then those created,
    /// oldest first.
    std::vector<model_ref> private_models() const
    {
        std::lock_guard lock{models_mutex_};
        return current_private_models();
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
            if (method == verb::get)
                return list(url, std::nullopt);
            if (method == verb::post)
                return create_model(body);
            return method_not_allowed(method, "GET, POST");
        }

        if (segments.size() == 3 && segments[2] == "public" && method == verb::get)
            return list(url, model_privacy::public_models);
        if (segments.size() == 3 && segments[2] == "get-bulk" && method == verb::post)
            return get_bulk(body);

        if (segments.size() == 3)
        {
            if (method == verb::get)
                return get_model(segments[2]);
            if (method == verb::delete_)
                return delete_model(segments[2]);
            return method_not_allowed(method, "GET, DELETE");
        }

        if (segments.size() == 4 && segments[3] == "description")
        {
            if (method == verb::get)
                return get_description(segments[2]);
            if (method == verb::put)
                return put_description(segments[2], body);
            return method_not_allowed(method, "GET, PUT");
        }
        if (segments.size() == 4 && segments[3] == "tags")
        {
            if (method == verb::put)
                return put_tags(segments[2], body);
            return method_not_allowed(method, "PUT");
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

        // Once requests have changed the account's models, its listings read a copy of the
        // list as it is now, sorted on demand; otherwise the catalogue and its sort orders.
        std::optional<std::vector<model_ref>> changed;
        if (query.privacy == model_privacy::private_models)
        {
            std::lock_guard lock{models_mutex_};
            if (changed_)
                changed = current_private_models();
        }
        std::size_t const count = changed ? changed->size() : models.size();

        // The position-th model of the requested order. Without sortBy the catalogue order
        // stands, which is also decreasing score; models created later come last.
        std::vector<std::uint32_t> changed_order;
        std::vector<std::uint32_t> const* order = nullptr;
        bool reverse = false;
        if (query.sort_by == sort_key::created_at || query.sort_by == sort_key::updated_at)
        {
            if (changed)
            {
                changed_order = ascending_order(*changed, *query.sort_by);
                order = &changed_order;
            }
            else
            {
                order = &catalogue_.ascending_order(query.privacy, *query.sort_by);
            }
            reverse = query.descending;
        }
        else if (query.sort_by == sort_key::score)
        {
            reverse = !query.descending;
        }
        auto const model_at = [&](std::size_t position) -> catalogue_model const& {
            std::size_t const from_start = reverse ? count - 1 - position : position;
            std::size_t const index = order != nullptr ? (*order)[from_start] : from_start;
            return changed ? *(*changed)[index] : models[index];
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
        model_ref const model = find(id);
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

    /// Answers each known id once, in id order rather than the order asked (the reference
    /// promises none), and leaves out the ids it does not know, deleted ones included.
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
        if (ids->size() > max_bulk_ids)
            return error_response(
                400, "modelIds may hold at most " + std::to_string(max_bulk_ids) + " ids, not " +
                         std::to_string(ids->size()));

        std::vector<model_ref> found;
        {
            std::lock_guard lock{models_mutex_};
            for (auto const& id : *ids)
            {
                if (!id.is_string())
                    return error_response(400, "modelIds must hold strings");
                if (auto model = find_locked(id.get_string()))
                    found.push_back(std::move(model));
            }
        }
        auto const by_id = [](model_ref const& a, model_ref const& b) { return a->id < b->id; };
        auto const same_id = [](model_ref const& a, model_ref const& b) { return a->id == b->id; };
        std::sort(found.begin(), found.end(), by_id);
        found.erase(std::unique(found.begin(), found.end(), same_id), found.end());

        service_response response;
        response.body = "{\"models\":[";
        for (std::size_t k = 0; k < found.size(); ++k)
        {
            if (k != 0)
                response.body += ',';
            response.body += found[k]->row;
        }
        response.body += "]}";
        return response;
    }

    service_response get_description(std::string_view id) const
    {
        model_ref const model = find(id);
        if (model == nullptr)
            return model_not_found(id);
        return description_response(description_of(*model));
    }

    service_response put_description(std::string_view id, std::string_view body)
    {
        model_ref const model = find(id);
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

    /// `PUT /models/{id}/tags`: `{"add": [...], "delete": [...], "strict": bool}`, each
    /// optional. Answers the tags it added and deleted: those of `add` the model did not carry,
    /// those of `delete` it did. With `strict`, every change must apply as asked: a tag to
    /// delete that the model does not carry, or one to add that it already carries, gets 400
    /// and changes nothing. (The reference does not say what `strict` does; this is the local
    /// API's reading.) A tag in both lists, an empty tag or a model of someone else is refused.
    service_response put_tags(std::string_view id, std::string_view body)
    {
        tag_request request;
        if (auto failure = read_tag_request(body, request))
            return std::move(*failure);

        std::lock_guard lock{models_mutex_};
        model_ref const model = find_locked(id);
        if (model == nullptr)
            return model_not_found(id);
        if (!owns_locked(*model))
            return not_owned(id);

        auto const carries = [&](std::string const& tag) {
            return std::find(model->tags.begin(), model->tags.end(), tag) != model->tags.end();
        };
        std::vector<std::string> added;
        std::vector<std::string> deleted;
        for (auto const& tag : request.remove)
        {
            if (carries(tag))
                deleted.push_back(tag);
            else if (request.strict)
                return error_response(400, "Tag " + tag + " is not on model " + model->id);
        }
        for (auto const& tag : request.add)
        {
            if (!carries(tag))
                added.push_back(tag);
            else if (request.strict)
                return error_response(400, "Tag " + tag + " is already on model " + model->id);
        }

        if (!added.empty() || !deleted.empty())
        {
            auto changed = std::make_shared<catalogue_model>(*model);
            std::erase_if(changed->tags, [&](std::string const& tag) {
                return std::find(deleted.begin(), deleted.end(), tag) != deleted.end();
            });
            changed->tags.insert(changed->tags.end(), added.begin(), added.end());
            changed->updated_at = tick_locked();
            changed->row = rewrite_row(changed->row, [&](boost::json::object& row) {
                row["tags"] = string_array(changed->tags);
                row["updatedAt"] = format_timestamp(changed->updated_at);
            });
            changed_models_[changed->id] = std::move(changed);
            changed_ = true;
        }

        service_response response;
        json_writer writer{response.body};
        writer.begin_object();
        write_string_array(writer, "added", added);
        write_string_array(writer, "deleted", deleted);
        writer.end_object();
        return response;
    }

    /// `POST /models`: a new private model of the account, status `new`, with a fresh
    /// `model_` + 22 base58 id. Reads `name` (at most 64 characters), `shortDescription` (at
    /// most 256), `type` (default `flux.1-lora`), `tags` and `parameters`, all optional;
    /// ignores other fields. Answers `{"model": Model}`; later listings show it last.
    service_response create_model(std::string_view body)
    {
        boost::system::error_code error;
        boost::json::value const request = boost::json::parse(body, error);
        if (error || !request.is_object())
            return error_response(400, "Body must be a JSON object");
        auto const& fields = request.get_object();

        std::optional<service_response> failure;
        auto const text = [&](std::string_view key, std::size_t limit) -> std::string_view {
            auto const* value = fields.if_contains(key);
            if (value == nullptr || value->is_null() || failure)
                return {};
            if (!value->is_string())
                failure = error_response(400, std::string(key) + " must be a string");
            else if (count_code_points(value->get_string()) > limit)
                failure = error_response(
                    400, std::string(key) + " must be at most " + std::to_string(limit) +
                             " characters long");
            else
                return value->get_string();
            return {};
        };
        std::string_view const name = text("name", max_name_length);
        std::string_view const summary = text("shortDescription", max_short_description_length);
        std::string_view type = text("type", 256);
        std::vector<std::string> tags;
        if (!failure)
            failure = read_tags(fields, "tags", tags);
        auto const* parameters = fields.if_contains("parameters");
        if (!failure && parameters != nullptr && !parameters->is_object() && !parameters->is_null())
            failure = error_response(400, "parameters must be an object");
        if (failure)
            return std::move(*failure);
        if (type.empty())
            type = "flux.1-lora";

        std::lock_guard lock{models_mutex_};
        auto model = std::make_shared<catalogue_model>();
        model->id = fresh_model_id_locked();
        model->status = "new";
        model->type = type;
        model->tags = std::move(tags);
        model->created_at = model->updated_at = tick_locked();
        model->custom = type == "custom";

        json_writer writer{model->row};
        writer.begin_object();
        writer.member("id", model->id);
        if (!name.empty())
            writer.member("name", name);
        if (!summary.empty())
            writer.member("shortDescription", summary);
        writer.member("type", model->type);
        writer.member("status", model->status);
        writer.member("privacy", "private");
        writer.member("source", "scenario");
        writer.member("custom", model->custom);
        writer.key("capabilities");
        writer.raw("[]");
        write_string_array(writer, "tags", model->tags);
        writer.key("collectionIds");
        writer.raw("[]");
        writer.member("createdAt", format_timestamp(model->created_at));
        writer.member("updatedAt", format_timestamp(model->updated_at));
        writer.member("authorId", user_id_);
        writer.member("ownerId", catalogue_.project_id());
        writer.member("userId", user_id_);
        writer.member("accessRestrictions", 0);
        writer.key("exampleAssetIds");
        writer.raw("[]");
        writer.member("trainingImagesNumber", 0);
        writer.key("trainingProgress");
        writer.raw("{}");
        writer.key("parameters");
        if (parameters != nullptr && parameters->is_object())
            write_value(writer, *parameters);
        else
            writer.raw("{}");
        writer.end_object();

        service_response response;
        response.body = "{\"model\":" + model->row + "}";
        created_ids_.push_back(model->id);
        changed_models_[model->id] = std::move(model);
        changed_ = true;
        return response;
    }

    /// `DELETE /models/{id}`: 204 with no body. Later requests no longer find the model.
    service_response delete_model(std::string_view id)
    {
        {
            std::lock_guard lock{models_mutex_};
            model_ref const model = find_locked(id);
            if (model == nullptr)
                return model_not_found(id);
            if (!owns_locked(*model))
                return not_owned(id);

            std::string const key{id};
            if (catalogue_.find(id) != nullptr)
                deleted_.insert(key);
            changed_models_.erase(key);
            std::erase(created_ids_, key);
            changed_ = true;
        }
        {
            std::lock_guard lock{descriptions_mutex_};
            descriptions_.erase(std::string(id));
        }
        return service_response{204, {}, {}};
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

    static service_response not_owned(std::string_view id)
    {
        std::string reason = "Model ";
        reason += id;
        reason += " does not belong to this project and cannot be changed with this API key";
        return error_response(403, reason);
    }

    /// The body of `PUT /models/{id}/tags`.
    struct tag_request
    {
        std::vector<std::string> add;
        std::vector<std::string> remove;
        bool strict = false;
    };

    static std::optional<service_response> read_tag_request(
        std::string_view body, tag_request& request)
    {
        boost::system::error_code error;
        boost::json::value const parsed = boost::json::parse(body, error);
        if (error || !parsed.is_object())
            return error_response(400, "Body must be a JSON object");
        auto const& fields = parsed.get_object();
        if (auto failure = read_tags(fields, "add", request.add))
            return failure;
        if (auto failure = read_tags(fields, "delete", request.remove))
            return failure;
        if (auto const* strict = fields.if_contains("strict"); strict != nullptr)
        {
            if (!strict->is_bool() && !strict->is_null())
                return error_response(400, "strict must be a boolean");
            request.strict = strict->is_bool() && strict->get_bool();
        }
        for (auto const& tag : request.add)
            if (std::find(request.remove.begin(), request.remove.end(), tag) !=
                request.remove.end())
                return error_response(400, "Tag " + tag + " cannot be both added and deleted");
        return std::nullopt;
    }

    /// Reads an optional array of non-empty tags, each kept once, in order.
    static std::optional<service_response> read_tags(
        boost::json::object const& fields, std::string_view key, std::vector<std::string>& tags)
    {
        auto const* value = fields.if_contains(key);
        if (value == nullptr || value->is_null())
            return std::nullopt;
        auto const* items = value->if_array();
        if (items == nullptr)
            return error_response(400, std::string(key) + " must be an array of tags");
        for (auto const& item : *items)
        {
            if (!item.is_string() || item.get_string().empty())
                return error_response(400, std::string(key) + " must hold non-empty strings");
            std::string tag{item.get_string()};
            if (std::find(tags.begin(), tags.end(), tag) == tags.end())
                tags.push_back(std::move(tag));
        }
        return std::nullopt;
    }

    static boost::json::array string_array(std::vector<std::string> const& values)
    {
        boost::json::array array;
        for (auto const& value : values)
            array.emplace_back(value);
        return array;
    }

    /// A row changed by `edit`, written back as the catalogue writes rows.
    template <class Edit>
    static std::string rewrite_row(std::string const& row, Edit edit)
    {
        boost::json::value parsed = boost::json::parse(row);
        edit(parsed.as_object());
        std::string text;
        json_writer writer{text};
        write_value(writer, parsed);
        return text;
    }

    static std::vector<std::uint32_t> ascending_order(
        std::vector<model_ref> const& models, sort_key key)
    {
        std::vector<std::uint32_t> order(models.size());
        std::iota(order.begin(), order.end(), std::uint32_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return key == sort_key::created_at ? models[a]->created_at < models[b]->created_at
                                               : models[a]->updated_at < models[b]->updated_at;
        });
        return order;
    }

    model_ref find(std::string_view id) const
    {
        std::lock_guard lock{models_mutex_};
        return find_locked(id);
    }

    // The functions named `..._locked` expect `models_mutex_` held.

    model_ref find_locked(std::string_view id) const
    {
        if (changed_)
        {
            std::string const key{id};
            if (deleted_.contains(key))
                return nullptr;
            if (auto const found = changed_models_.find(key); found != changed_models_.end())
                return found->second;
        }
        // Catalogue models live as long as the service: a reference that owns nothing.
        catalogue_model const* model = catalogue_.find(id);
        return model != nullptr ? model_ref(model_ref(), model) : nullptr;
    }

    /// Whether the account owns `model`, found by `find_locked`: one of its catalogue models,
    /// or one a request created (those are in no list of the catalogue).
    bool owns_locked(catalogue_model const& model) const
    {
        auto const& own = catalogue_.models(model_privacy::private_models);
        catalogue_model const* seeded = catalogue_.find(model.id);
        return seeded == nullptr || (std::greater_equal<>{}(seeded, own.data()) &&
                                     std::less<>{}(seeded, own.data() + own.size()));
    }

    std::vector<model_ref> current_private_models() const
    {
        auto const& seeded = catalogue_.models(model_privacy::private_models);
        std::vector<model_ref> models;
        models.reserve(seeded.size() + created_ids_.size());
        for (auto const& model : seeded)
        {
            if (deleted_.contains(model.id))
                continue;
            auto const changed = changed_models_.find(model.id);
            models.push_back(
                changed != changed_models_.end() ? changed->second
                                                 : model_ref(model_ref(), &model));
        }
        for (auto const& id : created_ids_)
            models.push_back(changed_models_.at(id));
        return models;
    }

    /// The logical clock's time for the next change.
    timestamp tick_locked()
    {
        timestamp const now = clock_;
        clock_ += 1000;
        return now;
    }

    /// An id like those of trained models, made by a generator seeded with the number of ids
    /// made so far, and used by no model, deleted ones included.
    std::string fresh_model_id_locked()
    {
        for (;;)
        {
            catalogue_random random{0xc2ea7edULL * 1'000'003ULL + ids_made_++};
            std::string id = make_generated_id("model_", random);
            if (catalogue_.find(id) == nullptr && !changed_models_.contains(id))
                return id;
        }
    }

    std::string api_key_;
    std::string api_secret_;
    std::string user_id_;
    catalogue catalogue_;
    mutable std::mutex descriptions_mutex_;
    std::unordered_map<std::string, std::string> descriptions_;

    // The account's models as requests changed them. Guarded by models_mutex_.
    mutable std::mutex models_mutex_;
    bool changed_ = false;                                      // whether any request changed them
    std::unordered_map<std::string, model_ref> changed_models_; // current versions; created ones
    std::vector<std::string> created_ids_;                      // oldest first
    std::unordered_set<std::string> deleted_;                   // catalogue models deleted
    timestamp clock_ = day_timestamp(2026, 4, 20);
    std::uint64_t ids_made_ = 0;
};

} // namespace scenario::testing::detail

#endif
