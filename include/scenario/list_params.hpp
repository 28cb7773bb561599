#ifndef SCENARIO_LIST_PARAMS_HPP
#define SCENARIO_LIST_PARAMS_HPP

#include <optional>
#include <string>

namespace scenario {

/// The query of a models listing (`GET /models`, `GET /models/public`).
///
/// An aggregate for designated initialisers: `{.tags = "sc:third-party", .page_size = 50}`.
/// An empty string or an empty optional leaves its parameter out of the request, so the
/// service's default applies. Values are sent as given, percent-encoded.
struct list_params
{
    /// Exact, case-sensitive tags, several comma-separated: `sc:scenario`, `sc:third-party`.
    std::string tags{};

    /// `private` (the service's default: the caller's own models), `public` or `unlisted`.
    std::string privacy{};

    /// Models per page, 1 to 500; the service's default is 100.
    std::optional<unsigned> page_size{};

    /// Where to start: a `next_pagination_token` from an earlier page.
    std::string pagination_token{};

    std::string status{};         ///< e.g. `trained`
    std::string type{};           ///< e.g. `flux.1-lora`
    std::string collection_id{};  ///< one collection
    std::string collection_ids{}; ///< several collections, comma-separated

    std::string sort_by{};        ///< `createdAt`, `updatedAt` or `score`
    std::string sort_direction{}; ///< `asc` or `desc`

    /// ISO-8601 bounds, exclusive. The service accepts `created_*` only with
    /// `sort_by = "createdAt"` and `updated_*` only with `sort_by = "updatedAt"`.
    std::string created_after{};
    std::string created_before{};
    std::string updated_after{};
    std::string updated_before{};

    std::optional<bool> blacklisted{};
    std::optional<bool> loaded_only{};
    std::optional<bool> original_assets{};

    /// The project asked about; empty uses the client's `project_id` option.
    std::string project_id{};
};

} // namespace scenario

#endif // SCENARIO_LIST_PARAMS_HPP
