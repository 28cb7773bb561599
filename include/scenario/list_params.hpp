#ifndef SCENARIO_LIST_PARAMS_HPP
#define SCENARIO_LIST_PARAMS_HPP

#include <optional>
#include <string_view>

namespace scenario {

/// The query of a models listing (`GET /models`, `GET /models/public`).
///
/// An aggregate for designated initialisers: `{.tags = "sc:third-party", .page_size = 50}`.
/// An empty string or an empty optional leaves its parameter out of the request, so the
/// service's default applies. Values are sent as given, percent-encoded.
///
/// The strings are views: every call copies what it needs before it returns, so they need to
/// live only until then. Views also keep the aggregate trivially copyable, which GCC 12 needs:
/// it miscompiles an aggregate with `std::string` members that is built inside a `co_await`
/// expression, as in `co_await models.list({.tags = "..."})`, and frees a wrong address.
struct list_params
{
    /// Exact, case-sensitive tags, several comma-separated: `sc:scenario`, `sc:third-party`.
    std::string_view tags{};

    /// `private` (the service's default: the caller's own models), `public` or `unlisted`.
    std::string_view privacy{};

    /// Models per page, 1 to 500; the service's default is 100.
    std::optional<unsigned> page_size{};

    /// Where to start: a `next_pagination_token` from an earlier page.
    std::string_view pagination_token{};

    std::string_view status{};         ///< e.g. `trained`
    std::string_view type{};           ///< e.g. `flux.1-lora`
    std::string_view collection_id{};  ///< one collection
    std::string_view collection_ids{}; ///< several collections, comma-separated

    std::string_view sort_by{};        ///< `createdAt`, `updatedAt` or `score`
    std::string_view sort_direction{}; ///< `asc` or `desc`

    /// ISO-8601 bounds, exclusive. The service accepts `created_*` only with
    /// `sort_by = "createdAt"` and `updated_*` only with `sort_by = "updatedAt"`.
    std::string_view created_after{};
    std::string_view created_before{};
    std::string_view updated_after{};
    std::string_view updated_before{};

    std::optional<bool> blacklisted{};
    std::optional<bool> loaded_only{};
    std::optional<bool> original_assets{};

    /// The project asked about; empty uses the client's `project_id` option.
    std::string_view project_id{};
};

} // namespace scenario

#endif // SCENARIO_LIST_PARAMS_HPP
