#ifndef SCENARIO_MODEL_HPP
#define SCENARIO_MODEL_HPP

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scenario {

/// A read-only view of a JSON array of strings, element by element as `std::string_view`.
/// It points into the model it came from: valid while that model lives and its `raw` is left
/// unchanged. An element that is not a string reads as empty.
class string_list
{
public:
    class iterator
    {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        iterator() = default;
        explicit iterator(boost::json::value const* at) noexcept
            : at_(at)
        {}

        std::string_view operator*() const noexcept
        {
            return at_->is_string() ? std::string_view(at_->get_string()) : std::string_view();
        }
        iterator& operator++() noexcept
        {
            ++at_;
            return *this;
        }
        iterator operator++(int) noexcept
        {
            auto before = *this;
            ++at_;
            return before;
        }
        friend bool operator==(iterator, iterator) = default;

    private:
        boost::json::value const* at_ = nullptr;
    };

    string_list() = default;
    explicit string_list(boost::json::array const* items) noexcept
        : items_(items)
    {}

    iterator begin() const noexcept
    {
        return iterator(items_ != nullptr ? items_->data() : nullptr);
    }
    iterator end() const noexcept
    {
        return iterator(items_ != nullptr ? items_->data() + items_->size() : nullptr);
    }
    std::size_t size() const noexcept
    {
        return items_ != nullptr ? items_->size() : 0;
    }
    bool empty() const noexcept
    {
        return size() == 0;
    }
    /// Element `i`; `i` must be less than `size()`.
    std::string_view operator[](std::size_t i) const noexcept
    {
        return *iterator(items_->data() + i);
    }
    /// A copy that owns its strings, for keeping beyond the model.
    std::vector<std::string> to_vector() const
    {
        return {begin(), end()};
    }

private:
    boost::json::array const* items_ = nullptr;
};

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
///
/// Memory: each response is parsed into one arena (a Boost.JSON monotonic resource) that
/// `raw` and the JSON-typed fields of every model of that response share; it is freed with
/// the last of them, so a model kept for long keeps its page's arena (about 1.5 times the
/// page's text) alive. Moving a model, by construction or assignment, keeps the arena it came
/// with. Copying one, by construction or assignment, copies its JSON into ordinary heap
/// memory: a copy holds no arena, and copies of two models of one page may be made on two
/// threads at once. Editing `raw` or a JSON-typed field allocates from the model's arena:
/// edit models of one page from one thread at a time, or edit a copy.
struct model
{
    model() = default;

    /// A model around `object`, its typed fields left empty; the library fills them.
    explicit model(boost::json::object object) noexcept
        : raw(std::move(object))
    {}

    model(model&&) noexcept = default;

    /// Copies every field; the JSON ones into ordinary heap memory, not the source's arena.
    model(model const& other)
        : id(other.id)
        , capabilities(other.capabilities)
        , collection_ids(other.collection_ids)
        , created_at(other.created_at)
        , custom(other.custom)
        , privacy(other.privacy)
        , source(other.source)
        , status(other.status)
        , tags(other.tags)
        , training_images_number(other.training_images_number)
        , type(other.type)
        , updated_at(other.updated_at)
        , name(other.name)
        , short_description(other.short_description)
        , author_id(other.author_id)
        , owner_id(other.owner_id)
        , user_id(other.user_id)
        , access_restrictions(other.access_restrictions)
        , thumbnail(other.thumbnail)
        , concepts(other.concepts)
        , compliant_model_ids(other.compliant_model_ids)
        , parent_model_id(other.parent_model_id)
        , soft_deletion_on(other.soft_deletion_on)
        , training_images(on_heap(other.training_images))
        , training_image_pairs(on_heap(other.training_image_pairs))
        , training_progress(on_heap(other.training_progress))
        , parameters(on_heap(other.parameters))
        , compliance_metadata(on_heap(other.compliance_metadata))
        , epoch(on_heap(other.epoch))
        , epochs(on_heap(other.epochs))
        , model_class(on_heap(other.model_class))
        , training_stats(on_heap(other.training_stats))
        , performance_stats(on_heap(other.performance_stats))
        , inputs(on_heap(other.inputs))
        , ui_config(on_heap(other.ui_config))
        , raw(other.raw, boost::json::storage_ptr())
    {}

    /// Takes `other` whole, its arena included. (Boost.JSON's own move assignment would copy
    /// the JSON into this model's old arena, which only grows.)
    model& operator=(model&& other) noexcept
    {
        if (this != &other)
        {
            this->~model();
            ::new (static_cast<void*>(this)) model(std::move(other));
        }
        return *this;
    }

    model& operator=(model const& other)
    {
        if (this != &other)
            *this = model(other);
        return *this;
    }

    ~model() = default;

    // Always present.
    std::string id;
    std::vector<std::string> capabilities;
    std::vector<std::string> collection_ids;
    std::string created_at;
    bool custom = false;
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

    /// The ids of the model's example assets: often a hundred or more, so they are read from
    /// `raw` when asked for rather than copied into every model of every page. The view is
    /// valid while this model lives; asking a temporary model does not compile.
    string_list example_asset_ids() const& noexcept
    {
        auto const* items = raw.if_contains("exampleAssetIds");
        return string_list(items != nullptr ? items->if_array() : nullptr);
    }
    string_list example_asset_ids() const&& = delete;

private:
    template <class Json>
    static std::optional<Json> on_heap(std::optional<Json> const& json)
    {
        if (!json)
            return std::nullopt;
        return std::optional<Json>(std::in_place, *json, boost::json::storage_ptr());
    }

public:
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

/// What `models_api::get_many` found: one entry per id asked, in the order asked.
///
/// The models of one get-bulk request share its arena, as a page's do (see `model`); where an
/// id was asked for more than once, every position but its last holds a copy, on the heap.
struct bulk_models
{
    /// `models[i]` is the model of the i-th id asked, or empty when the service did not return
    /// it (unknown, deleted, or not readable with this key).
    std::vector<std::optional<model>> models;

    /// The ids the service did not return, each once, in the order they were first asked.
    std::vector<std::string> missing;
};

/// What `models_api::update_tags` changed, as the service reports it.
struct tag_update_result
{
    std::vector<std::string> added;   ///< tags the model did not carry and now does
    std::vector<std::string> deleted; ///< tags the model carried and no longer does
};

} // namespace scenario

#endif // SCENARIO_MODEL_HPP
