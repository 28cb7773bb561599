#ifndef SCENARIO_MODEL_HPP
#define SCENARIO_MODEL_HPP

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scenario {

/// A model's thumbnail.
struct model_thumbnail
{
    std::string asset_id;
    std::string url;
};

/// One entry of a model's `concepts`: a model it combines, with its weight.
struct model_concept
{
    std::string model_id;
    double scale = 0;
    std::optional<std::string> model_epoch; ///< e.g. "000010"; a number is kept as its digits
};

/// A model as the service describes it.
///
/// Enumerations (`privacy`, `status`, `source`, `type`, `capabilities`) are open strings: the
/// service adds values. Fields of loosely documented shape stay JSON. `raw` keeps the whole
/// object as sent, so fields this version does not know are never lost.
struct model
{
    // Always present.
    std::string id;
    std::vector<std::string> capabilities;
    std::vector<std::string> collection_ids;
    std::string created_at;
    bool custom = false;
    std::vector<std::string> example_asset_ids;
    std::string privacy;
    std::string source;
    std::string status;
    std::vector<std::string> tags;
    std::int64_t training_images_number = 0;
    std::string type;
    std::string updated_at;

    // Often present.
    std::optional<std::string> name;
    std::optional<std::string> short_description;
    std::optional<std::string> author_id;
    std::optional<std::string> owner_id;
    std::optional<std::string> user_id;              ///< deprecated by the service
    std::optional<std::int64_t> access_restrictions; ///< 0 free ... 100 enterprise
    std::optional<model_thumbnail> thumbnail;
    std::optional<std::vector<model_concept>> concepts;
    std::optional<std::vector<std::string>> compliant_model_ids;
    std::optional<std::string> parent_model_id;
    std::optional<std::string> soft_deletion_on;
    std::optional<boost::json::array> training_images;
    std::optional<boost::json::array> training_image_pairs;
    std::optional<boost::json::object> training_progress;
    std::optional<boost::json::object> parameters;
    std::optional<boost::json::object> compliance_metadata;
    std::optional<boost::json::value> epoch;
    std::optional<boost::json::value> epochs;
    std::optional<boost::json::value> model_class; ///< the service's `class`
    std::optional<boost::json::value> training_stats;
    std::optional<boost::json::value> performance_stats;

    // Only from `models_api::get`.
    std::optional<boost::json::array> inputs;
    std::optional<boost::json::object> ui_config;

    /// The object exactly as the service sent it.
    boost::json::object raw;

    /// True if the model carries `tag` (exact, case-sensitive).
    bool has_tag(std::string_view tag) const
    {
        for (auto const& t : tags)
            if (t == tag)
                return true;
        return false;
    }
};

/// One page of a listing.
struct model_page
{
    std::vector<model> models;

    /// The token of the next page; empty on the last page.
    std::optional<std::string> next_pagination_token;
};

/// A model's description: markdown plus the assets and models it mentions.
struct model_description
{
    std::string value; ///< markdown; empty when the model has none
    boost::json::array assets;
    boost::json::array models;
    boost::json::object raw; ///< the `description` object as sent
};

} // namespace scenario

#endif // SCENARIO_MODEL_HPP
