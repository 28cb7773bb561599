#ifndef SCENARIO_TAG_CHANGES_HPP
#define SCENARIO_TAG_CHANGES_HPP

#include <span>
#include <string>

namespace scenario {

/// The body of `PUT /models/{modelId}/tags`, for `models_api::update_tags`.
///
///     std::vector<std::string> const wanted{"hero", "Game Art"};
///     auto changed = co_await models.update_tags(id, {.add = wanted});
///
/// Tags are exact, case-sensitive strings. The lists are views, copied before the call
/// returns, which keeps the aggregate trivially copyable: GCC 12 miscompiles an aggregate
/// with `std::vector` or `std::string` members built inside a `co_await` expression (and
/// cannot compile a braced list there at all, so name the list first, as above).
struct tag_changes
{
    /// Tags to give the model.
    std::span<std::string const> add{};

    /// Tags to take from it; sent as `delete`.
    std::span<std::string const> remove{};

    /// Asks the service to refuse the whole change unless each part applies as asked. The
    /// reference does not say what exactly it checks; the bundled local API refuses (400)
    /// deleting a tag the model lacks or adding one it already carries. A strict change is
    /// not retried once it may have reached the service, since a repeat would be refused.
    bool strict = false;
};

} // namespace scenario

#endif // SCENARIO_TAG_CHANGES_HPP
