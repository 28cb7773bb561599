#ifndef SCENARIO_MODEL_SPEC_HPP
#define SCENARIO_MODEL_SPEC_HPP

#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace scenario {

/// The body of `POST /models`, for `models_api::create`.
///
/// An aggregate for designated initialisers: `{.name = "Props", .type = "flux.1-lora"}`. An
/// empty field is left out of the request, so the service's default applies. Like
/// `list_params`, it holds views, copied before the call returns, which keeps it trivially
/// copyable: GCC 12 miscompiles an aggregate with `std::string` members built inside a
/// `co_await` expression.
struct model_spec
{
    /// The service's limit on `name`, in characters.
    static constexpr std::size_t max_name_length = 64;

    /// The service's limit on `short_description`, in characters.
    static constexpr std::size_t max_short_description_length = 256;

    /// At most `max_name_length` characters.
    std::string_view name{};

    /// At most `max_short_description_length` characters; sent as `shortDescription`.
    std::string_view short_description{};

    /// The kind of model, e.g. `flux.1-lora`; an open set of strings.
    std::string_view type{};

    /// Further fields of the body, sent as given (`parameters`, ...); `name`, `shortDescription`
    /// and `type` here give way to the fields above when those are set. Copied before the call
    /// returns; null for none.
    boost::json::object const* more_fields = nullptr;
};

} // namespace scenario

#endif // SCENARIO_MODEL_SPEC_HPP
