// The local Scenario API server's model catalogue: deterministic public and private models,
// serialised once at start-up.

#ifndef SCENARIO_TESTING_DETAIL_CATALOGUE_HPP
#define SCENARIO_TESTING_DETAIL_CATALOGUE_HPP

#include <scenario/testing/detail/json_writer.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace scenario::testing::detail {

//--------------------------------------------------------------------------------------------
// Deterministic randomness

/// A splitmix64 sequence. The catalogue must be the same on every run and every platform, which
/// the standard engines' distributions do not promise.
class catalogue_random
{
public:
    explicit catalogue_random(std::uint64_t seed) noexcept
        : state_(seed)
    {}

    /// The next 64 random bits.
    std::uint64_t next() noexcept
    {
        state_ += 0x9e3779b97f4a7c15ULL;
        std::uint64_t mixed = state_;
        mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
        return mixed ^ (mixed >> 31);
    }

    /// A number in [0, bound); bound must not be zero. The modulo bias is irrelevant here.
    std::size_t below(std::size_t bound) noexcept
    {
        return next() % bound;
    }

    /// A number in [low, high].
    std::int64_t between(std::int64_t low, std::int64_t high) noexcept
    {
        return low + static_cast<std::int64_t>(below(static_cast<std::size_t>(high - low + 1)));
    }

    /// True with probability 1/n.
    bool one_in(std::size_t n) noexcept
    {
        return below(n) == 0;
    }

    /// One element of a non-empty array.
    template <class T, std::size_t N>
    T const& pick(std::array<T, N> const& choices) noexcept
    {
        return choices[below(N)];
    }

private:
    std::uint64_t state_;
};

/// Appends `count` base58 characters, the alphabet of Scenario's generated ids.
inline void append_base58(std::string& out, catalogue_random& random, std::size_t count)
{
    static constexpr std::string_view alphabet =
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    // Each byte of a draw picks one character by scaling it to [0, 58): a multiplication and a
    // shift instead of a division, which matters for the millions of asset ids of a large
    // catalogue. The slight bias towards some characters is of no consequence.
    while (count > 0)
    {
        char digits[8];
        std::size_t const chunk = std::min<std::size_t>(count, 8);
        std::uint64_t bits = random.next();
        for (std::size_t k = 0; k < chunk; ++k, bits >>= 8)
            digits[k] = alphabet[((bits & 0xff) * 58) >> 8];
        out.append(digits, chunk);
        count -= chunk;
    }
}

/// `prefix` followed by 22 base58 characters, like `asset_…` and trained `model_…` ids.
inline std::string make_generated_id(std::string_view prefix, catalogue_random& random)
{
    std::string id;
    id.reserve(prefix.size() + 22);
    id += prefix;
    append_base58(id, random, 22);
    return id;
}

//--------------------------------------------------------------------------------------------
// Timestamps

/// Milliseconds since the Unix epoch, UTC.
using timestamp = std::int64_t;

/// Formats a timestamp as ISO-8601 UTC with milliseconds, `2026-04-22T08:57:03.106Z`. Written
/// digit by digit because the catalogue formats two per model at start-up.
inline std::string format_timestamp(timestamp milliseconds)
{
    using namespace std::chrono;
    sys_time<std::chrono::milliseconds> const time{std::chrono::milliseconds{milliseconds}};
    auto const day = floor<days>(time);
    year_month_day const date{day};
    hh_mm_ss const clock{time - day};

    std::string text = "0000-00-00T00:00:00.000Z";
    auto const put = [&](std::size_t end, long long value, int width) {
        for (int k = 0; k < width; ++k, value /= 10)
            text[end - k] = static_cast<char>('0' + value % 10);
    };
    put(3, static_cast<int>(date.year()), 4);
    put(6, static_cast<unsigned>(date.month()), 2);
    put(9, static_cast<unsigned>(date.day()), 2);
    put(12, clock.hours().count(), 2);
    put(15, clock.minutes().count(), 2);
    put(18, clock.seconds().count(), 2);
    put(22, clock.subseconds().count(), 3);
    return text;
}

/// The timestamp of midnight UTC on a calendar day.
inline timestamp day_timestamp(int year, unsigned month, unsigned day)
{
    using namespace std::chrono;
    sys_days const date{
        std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
    return duration_cast<milliseconds>(date.time_since_epoch()).count();
}

/// Parses the ISO-8601 forms clients send in `createdAfter` and the like: a date
/// (`2026-04-22`), optionally followed by `T` and `HH:MM`, `:SS`, a fraction of any length and
/// `Z` or an offset (`+02:00`, `+0200`). A time without zone is taken as UTC. Fractions below a
/// millisecond are dropped. Answers nothing when the text is not such a timestamp.
inline std::optional<timestamp> parse_timestamp(std::string_view text)
{
    std::size_t position = 0;
    auto const digits = [&](std::size_t count, int& value) {
        if (position + count > text.size())
            return false;
        value = 0;
        for (std::size_t k = 0; k < count; ++k)
        {
            char const c = text[position + k];
            if (c < '0' || c > '9')
                return false;
            value = value * 10 + (c - '0');
        }
        position += count;
        return true;
    };
    auto const literal = [&](char expected) {
        if (position < text.size() && text[position] == expected)
        {
            ++position;
            return true;
        }
        return false;
    };

    int year = 0, month = 0, day = 0;
    if (!digits(4, year) || !literal('-') || !digits(2, month) || !literal('-') || !digits(2, day))
        return std::nullopt;

    using namespace std::chrono;
    year_month_day const date{
        std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
        std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok())
        return std::nullopt;
    timestamp result = duration_cast<milliseconds>(sys_days{date}.time_since_epoch()).count();
    if (position == text.size())
        return result;

    int hour = 0, minute = 0, second = 0;
    if (!(literal('T') || literal('t') || literal(' ')) || !digits(2, hour) || !literal(':') ||
        !digits(2, minute))
        return std::nullopt;
    if (literal(':'))
    {
        if (!digits(2, second))
            return std::nullopt;
        if (literal('.') || literal(','))
        {
            int milliseconds = 0;
            int scale = 100;
            std::size_t const start = position;
            while (position < text.size() && text[position] >= '0' && text[position] <= '9')
            {
                milliseconds += (text[position] - '0') * scale;
                scale /= 10;
                ++position;
            }
            if (position == start)
                return std::nullopt;
            result += milliseconds;
        }
    }
    if (hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    result += ((hour * 60 + minute) * 60 + second) * timestamp{1000};

    if (position == text.size() || literal('Z') || literal('z'))
        return position == text.size() ? std::optional<timestamp>(result) : std::nullopt;

    int sign = 0;
    if (literal('+'))
        sign = 1;
    else if (literal('-'))
        sign = -1;
    else
        return std::nullopt;

    int offset_hours = 0, offset_minutes = 0;
    if (!digits(2, offset_hours))
        return std::nullopt;
    literal(':');
    if (!digits(2, offset_minutes) || offset_hours > 23 || offset_minutes > 59 ||
        position != text.size())
        return std::nullopt;

    // The local time is ahead of UTC by the offset, so UTC is the local time minus it.
    return result - sign * (offset_hours * 60 + offset_minutes) * timestamp{60'000};
}

/// Distinct timestamps in [start, end), one per model, in the order of a fixed permutation of
/// the indexes rather than in index order, so that sorting by them differs from the default
/// listing order. Each model owns a slot of the range and sits at a random millisecond in it.
inline std::vector<timestamp> spread_timestamps(
    std::size_t count, timestamp start, timestamp end, std::uint64_t seed)
{
    std::vector<timestamp> result(count);
    if (count == 0)
        return result;

    timestamp const slot = std::max<timestamp>(1, (end - start) / static_cast<timestamp>(count));

    // i -> (i * stride + offset) mod count is a permutation when stride and count are coprime.
    std::size_t stride = count * 5 / 8 + 1;
    while (std::gcd(stride, count) != 1)
        ++stride;

    catalogue_random random{seed};
    std::size_t const offset = random.below(count);
    for (std::size_t i = 0; i < count; ++i)
    {
        std::size_t const position = (i * stride + offset) % count;
        result[i] = start + static_cast<timestamp>(position) * slot +
                    static_cast<timestamp>(random.below(static_cast<std::size_t>(slot)));
    }
    return result;
}

//--------------------------------------------------------------------------------------------
// Models

/// What a model generates; decides its capabilities and its generation form.
enum class model_kind : std::uint8_t
{
    image,
    editing,
    video,
    mesh,
    audio,
};

/// One model of the catalogue, serialised, with the fields listings filter and sort on.
struct catalogue_model
{
    /// The model id, e.g. `model_openai-gpt-image-17`.
    std::string id;

    /// The model as listings show it: one JSON object, ASCII only.
    std::string row;

    /// `status` of the row.
    std::string status;

    /// `type` of the row.
    std::string type;

    /// `tags` of the row.
    std::vector<std::string> tags;

    /// `collectionIds` of the row.
    std::vector<std::string> collection_ids;

    /// `createdAt` of the row.
    timestamp created_at = 0;

    /// `updatedAt` of the row.
    timestamp updated_at = 0;

    /// `custom` of the row: single-model requests add the generation form.
    bool custom = false;

    /// What the model generates.
    model_kind kind = model_kind::image;
};

/// A partner or community model family of the public catalogue.
struct partner_family
{
    std::string_view vendor;
    std::string_view product;
    std::string_view display_name;
    std::string_view provider;
    std::string_view type;
    std::string_view source;
    model_kind kind;
};

inline constexpr std::array<partner_family, 21> partner_families = {{
    {"openai", "gpt-image", "GPT Image", "OpenAI", "gpt-image-1", "other", model_kind::image},
    {"google", "imagen", "Imagen", "Google", "custom", "other", model_kind::image},
    {"google", "veo", "Veo", "Google", "custom", "other", model_kind::video},
    {"black-forest-labs", "flux-pro", "FLUX Pro", "Black Forest Labs", "custom", "other",
     model_kind::image},
    {"black-forest-labs", "flux-kontext", "FLUX Kontext", "Black Forest Labs", "custom", "other",
     model_kind::editing},
    {"bytedance", "seedream", "Seedream", "ByteDance", "custom", "other", model_kind::image},
    {"bytedance", "seedance", "Seedance", "ByteDance", "custom", "other", model_kind::video},
    {"kling", "kling-video", "Kling", "Kuaishou", "custom", "other", model_kind::video},
    {"runway", "gen", "Runway Gen", "Runway", "custom", "other", model_kind::video},
    {"luma", "ray", "Luma Ray", "Luma AI", "custom", "other", model_kind::video},
    {"tencent", "hunyuan-3d", "Hunyuan 3D", "Tencent", "custom", "other", model_kind::mesh},
    {"meshy", "meshy", "Meshy", "Meshy", "custom", "other", model_kind::mesh},
    {"tripo", "tripo", "Tripo", "Tripo AI", "custom", "other", model_kind::mesh},
    {"alibaba", "qwen-image-edit", "Qwen Image Edit", "Alibaba", "custom", "other",
     model_kind::editing},
    {"ideogram", "ideogram", "Ideogram", "Ideogram", "custom", "other", model_kind::image},
    {"recraft", "recraft", "Recraft", "Recraft", "custom", "other", model_kind::image},
    {"minimax", "hailuo", "Hailuo", "MiniMax", "custom", "other", model_kind::video},
    {"elevenlabs", "eleven-music", "Eleven Music", "ElevenLabs", "custom", "other",
     model_kind::audio},
    {"stability", "stable-audio", "Stable Audio", "Stability AI", "custom", "other",
     model_kind::audio},
    {"civitai", "community-sdxl", "Community SDXL", "Civitai", "sd-xl-lora", "civitai",
     model_kind::image},
    {"huggingface", "flux-lora", "Hugging Face FLUX LoRA", "Hugging Face", "flux.1-lora",
     "huggingface", model_kind::image},
}};

/// A style family of Scenario's own (`sc:scenario`) public models.
struct style_family
{
    std::string_view slug;
    std::string_view display_name;
    std::string_view type;
    model_kind kind;
    std::string_view extra_tag;
};

inline constexpr std::array<style_family, 10> style_families = {{
    {"watercolor-landscapes", "Watercolor Landscapes", "flux.1-lora", model_kind::image, ""},
    {"isometric-props", "Isometric Props", "flux.1-lora", model_kind::image, ""},
    {"pixel-heroes", "Pixel Heroes", "flux.2-dev-lora", model_kind::image, ""},
    {"stylized-textures", "Stylized Textures", "flux.1-lora", model_kind::image, "sc:texture"},
    {"fantasy-skyboxes", "Fantasy Skyboxes", "flux.1-lora", model_kind::image, "sc:skybox"},
    {"character-sheets", "Character Sheets", "flux.1-composition", model_kind::image, ""},
    {"cozy-interiors", "Cozy Interiors", "qwen-image-lora", model_kind::image, ""},
    {"game-icons", "Game Icons", "flux.2-dev-lora", model_kind::image, ""},
    {"low-poly-assets", "Low Poly Assets", "custom", model_kind::mesh, ""},
    {"sprite-animations", "Sprite Animations", "custom", model_kind::video, ""},
}};

/// Base models whose ids carry no `model_` prefix. Ids are opaque strings, and one of these
/// holds the characters a client must percent-encode in a path segment (`/ ?#%`), so that
/// tests can fetch it and prove the encoding round-trips.
inline constexpr std::array<std::string_view, 6> bare_model_ids = {
    "flux.1-dev",     "community/sd 1.5?inpaint#v2%",
    "flux.1-schnell", "flux.1.1-pro-ultra",
    "sd-xl-base-1.0", "flux.1-kontext-dev"};

// Names decorated with these exercise the clients' decoding of \u escapes: the first three are
// outside the Basic Multilingual Plane and travel as surrogate pairs.
inline constexpr std::array<std::string_view, 5> name_decorations = {
    "\xF0\x9F\x8E\xA8 ", // U+1F3A8 artist palette
    "\xF0\x9F\x9A\x80 ", // U+1F680 rocket
    "\xF0\x9F\xA7\x8A ", // U+1F9CA ice cube
    "\xE2\x9C\xA8 ",     // U+2728 sparkles
    "Caf\xC3\xA9 ",      // e with acute accent
};

inline constexpr std::array<std::string_view, 9> name_variants = {
    "", " Pro", " Ultra", " Lite", " Turbo", " v2", " XL", " Max", " Fast"};

inline std::string_view kind_phrase(model_kind kind) noexcept
{
    switch (kind)
    {
    case model_kind::image: return "text-to-image generation with strong prompt adherence";
    case model_kind::editing: return "instruction-based image editing";
    case model_kind::video: return "image-to-video and text-to-video clips";
    case model_kind::mesh: return "textured 3D meshes from a single image";
    case model_kind::audio: return "music and sound effects from a prompt";
    }
    return "";
}

inline void write_capabilities(json_writer& writer, model_kind kind, catalogue_random& random)
{
    writer.key("capabilities");
    writer.begin_array();
    switch (kind)
    {
    case model_kind::image:
        writer.string("txt2img");
        writer.string("img2img");
        if (random.one_in(2))
            writer.string("controlnet");
        if (random.one_in(3))
            writer.string("inpaint");
        break;
    case model_kind::editing:
        writer.string("img2img");
        writer.string("inpaint");
        writer.string("reference");
        break;
    case model_kind::video:
        writer.string("txt2video");
        writer.string("img2video");
        if (random.one_in(4))
            writer.string("video2video");
        break;
    case model_kind::mesh:
        writer.string("img23d");
        writer.string("txt23d");
        break;
    case model_kind::audio: writer.string("txt2audio"); break;
    }
    writer.end_array();
}

inline void write_string_array(
    json_writer& writer, std::string_view name, std::vector<std::string> const& values)
{
    writer.key(name);
    writer.begin_array();
    for (auto const& value : values)
        writer.string(value);
    writer.end_array();
}

inline std::string asset_url(std::string_view asset_id)
{
    std::string url = "https://cdn.cloud.scenario.com/assets-transform/";
    url += asset_id;
    url += "?p=100&w=512&format=webp";
    return url;
}

inline void write_thumbnail(json_writer& writer, catalogue_random& random)
{
    std::string const asset_id = make_generated_id("asset_", random);
    writer.key("thumbnail");
    writer.begin_object();
    writer.member("assetId", asset_id);
    writer.member("url", asset_url(asset_id));
    writer.end_object();
}

inline void write_example_assets(
    json_writer& writer, catalogue_random& random, std::size_t low, std::size_t high)
{
    std::size_t const count = low + random.below(high - low + 1);
    std::string id = "asset_";
    writer.key("exampleAssetIds");
    writer.begin_array();
    for (std::size_t k = 0; k < count; ++k)
    {
        id.resize(6);
        append_base58(id, random, 22);
        writer.plain_string(id);
    }
    writer.end_array();
}

inline void write_training_images(json_writer& writer, catalogue_random& random)
{
    // Rows carry only the first three training images.
    writer.key("trainingImages");
    writer.begin_array();
    for (int k = 1; k <= 3; ++k)
    {
        std::string const asset_id = make_generated_id("asset_", random);
        char name[32];
        std::snprintf(name, sizeof(name), "training_%02d.png", k);
        writer.begin_object();
        writer.member("id", asset_id);
        writer.member("name", std::string_view(name));
        writer.member("url", asset_url(asset_id));
        writer.end_object();
    }
    writer.end_array();
}

/// Makes public model `index`. Everything comes from a generator seeded with the
/// index, so a model is the same whatever the catalogue size, but for its timestamps.
/// `scratch` is where the row is written before it is copied, at its exact size, into the
/// model: rows vary from 1 to 6 KB and a catalogue may hold 100,000 of them.
// One entry of `concepts`: a generated model id, its scale and, if given, its epoch.
inline void write_concept(
    json_writer& writer, catalogue_random& random, double scale, std::string_view epoch)
{
    writer.begin_object();
    writer.member("modelId", make_generated_id("model_", random));
    writer.member("scale", scale);
    if (!epoch.empty())
        writer.member("modelEpoch", epoch);
    writer.end_object();
}

inline catalogue_model make_public_model(
    std::size_t index, timestamp created_at, timestamp updated_at, std::string& scratch)
{
    catalogue_random random{0x5ce7a410ULL * 1'000'003ULL + index};
    catalogue_model model;
    model.created_at = created_at;
    model.updated_at = updated_at;
    model.status = "trained";

    bool const scenario = index % 3 == 0;
    std::string name;
    std::string_view provider = "Scenario";
    std::string_view source = "scenario";
    std::string_view extra_tag;
    std::string slug;
    if (scenario)
    {
        auto const& family = random.pick(style_families);
        model.type = family.type;
        model.kind = family.kind;
        extra_tag = family.extra_tag;
        slug = "scenario-";
        slug += family.slug;
        name = family.display_name;
    }
    else
    {
        auto const& family = random.pick(partner_families);
        model.type = family.type;
        model.kind = family.kind;
        provider = family.provider;
        source = family.source;
        slug = family.vendor;
        slug += '-';
        slug += family.product;
        name = family.display_name;
        name += random.pick(name_variants);
    }
    model.custom = model.type == "custom";

    std::size_t const bare = index / 97;
    if (index % 97 == 50 && bare < bare_model_ids.size())
        model.id = bare_model_ids[bare];
    else
        model.id = "model_" + slug + "-" + std::to_string(index);

    if (index % 10 == 3)
        name.insert(0, name_decorations[(index / 10) % 3]);
    else if (index % 29 == 7)
        name.insert(0, name_decorations[3 + (index / 29) % 2]);

    model.tags.push_back(scenario ? "sc:scenario" : "sc:third-party");
    if (index % 7 == 0)
        model.tags.push_back("sc:featured");
    if (!extra_tag.empty())
        model.tags.emplace_back(extra_tag);
    if (extra_tag == "sc:texture")
        model.tags.push_back("PBR");
    if (model.kind == model_kind::mesh)
        model.tags.push_back("Image to 3D");
    if (model.kind == model_kind::editing)
        model.tags.push_back("editing");

    // A small shared pool, so that collection filters match several models.
    if (index % 4 == 1)
    {
        catalogue_random collections{0xc011ec7ULL + index % 12};
        model.collection_ids.push_back(make_generated_id("collection_", collections));
    }
    if (index % 10 == 5)
    {
        catalogue_random collections{0xc011ec7ULL + 12};
        model.collection_ids.push_back(make_generated_id("collection_", collections));
    }

    scratch.clear();
    json_writer writer{scratch};
    writer.begin_object();
    writer.member("id", model.id);
    if (index % 37 != 36)
        writer.member("name", name);
    if (index % 9 != 8)
    {
        std::string description{name.empty() ? std::string_view("A model") : name};
        description += " by ";
        description += provider;
        description += ": ";
        description += kind_phrase(model.kind);
        description += '.';
        if (index % 50 == 11)
            description += "\nWorks best with \"reference\" images\tand short prompts.";
        writer.member("shortDescription", description);
    }
    writer.member("type", model.type);
    writer.member("status", model.status);
    writer.member("privacy", "public");
    writer.member("source", source);
    writer.member("custom", model.custom);
    write_capabilities(writer, model.kind, random);
    write_string_array(writer, "tags", model.tags);
    write_string_array(writer, "collectionIds", model.collection_ids);
    writer.member("createdAt", format_timestamp(model.created_at));
    writer.member("updatedAt", format_timestamp(model.updated_at));

    catalogue_random owner{0x0e4e7ULL + (scenario ? 0 : 1 + random.below(8))};
    std::string const author_id = make_generated_id("user_", owner);
    if (index % 11 != 10)
        writer.member("authorId", author_id);
    writer.member("ownerId", make_generated_id("proj_", owner));
    if (index % 2 == 0)
        writer.member("userId", author_id);

    static constexpr std::array<int, 4> partner_restrictions = {25, 50, 75, 100};
    writer.member(
        "accessRestrictions",
        scenario ? (index % 6 == 0 ? 25 : 0) : random.pick(partner_restrictions));
    if (index % 13 != 12)
        write_thumbnail(writer, random);
    write_example_assets(writer, random, 20, 130);

    writer.member("trainingImagesNumber", scenario ? random.between(8, 60) : 0);
    if (scenario && index % 2 == 0)
        write_training_images(writer, random);

    writer.key("trainingProgress");
    writer.raw("{}");
    writer.key("parameters");
    writer.raw("{}");

    if (index % 8 != 7)
    {
        static constexpr std::array<std::string_view, 3> statuses = {
            "approved", "approved", "pending"};
        writer.key("complianceMetadata");
        writer.begin_object();
        writer.member("enterpriseStatus", random.pick(statuses));
        writer.member("modelProvider", provider);
        writer.member(
            "licenseTerms",
            scenario ? "https://scenario.com/terms" : "https://scenario.com/partner-licenses");
        writer.member("maintainer", scenario ? std::string_view("Scenario") : provider);
        writer.end_object();
    }

    if (model.type == "flux.1-composition")
    {
        writer.key("concepts");
        writer.begin_array();
        write_concept(writer, random, 0.8, {});
        write_concept(writer, random, 1.0, "000010");
        writer.end_array();
    }

    writer.key("compliantModelIds");
    writer.begin_array();
    if (!scenario && index % 5 == 2)
        writer.string(make_generated_id("model_", random));
    writer.end_array();

    if (scenario)
    {
        writer.member("epoch", "000010");
        if (index % 11 == 3)
            writer.member("parentModelId", make_generated_id("model_", random));
        if (index % 4 == 0)
        {
            writer.key("class");
            writer.begin_object();
            writer.member("category", "art-style");
            writer.member("modelId", make_generated_id("model_", random));
            writer.member("name", name);
            writer.member("slug", slug);
            writer.member("status", "published");
            writer.end_object();
        }
    }
    writer.end_object();
    model.row.assign(scratch);
    return model;
}

/// Makes private model `index`: one of the test account's own trained, training, failed or new
/// models.
inline catalogue_model make_private_model(
    std::size_t index, timestamp created_at, timestamp updated_at, std::string_view project_id,
    std::string_view user_id, std::string& scratch)
{
    catalogue_random random{0x9417a7eULL * 1'000'003ULL + index};
    catalogue_model model;
    model.created_at = created_at;
    model.updated_at = updated_at;
    model.id = make_generated_id("model_", random);

    static constexpr std::array<std::string_view, 10> statuses = {
        "trained", "trained",  "trained",  "trained", "trained",
        "trained", "training", "training", "failed",  "new"};
    model.status = statuses[index % statuses.size()];

    static constexpr std::array<std::string_view, 4> lora_types = {
        "flux.1-lora", "flux.2-dev-lora", "qwen-image-lora", "flux.1-composition"};
    model.custom = index % 5 == 4;
    model.type = model.custom ? "custom" : random.pick(lora_types);
    model.kind = model_kind::image;

    static constexpr std::array<std::string_view, 4> subjects = {
        "Character", "Props", "Environment", "Portrait"};
    std::string name = "My ";
    name += random.pick(subjects);
    name += model.custom ? " Workflow " : " LoRA ";
    name += std::to_string(index + 1);
    if (index % 7 == 2)
        name.insert(0, name_decorations[0]);

    static constexpr std::array<std::string_view, 4> free_tags = {
        "character", "props", "Game Art", "portrait"};
    if (index % 3 != 2)
        model.tags.emplace_back(free_tags[index % free_tags.size()]);
    if (index % 6 == 1)
        model.tags.emplace_back("Game Art");
    if (model.tags.size() == 2 && model.tags[0] == model.tags[1])
        model.tags.pop_back();

    if (index % 3 == 0)
    {
        catalogue_random collections{0xacc0c011ULL + index % 3};
        model.collection_ids.push_back(make_generated_id("collection_", collections));
    }

    bool const has_results = model.status == "trained";
    scratch.clear();
    json_writer writer{scratch};
    writer.begin_object();
    writer.member("id", model.id);
    writer.member("name", name);
    if (index % 4 == 0)
        writer.member("shortDescription", "Trained on the team's concept art.");
    writer.member("type", model.type);
    writer.member("status", model.status);
    writer.member("privacy", "private");
    writer.member("source", "scenario");
    writer.member("custom", model.custom);
    write_capabilities(writer, model.kind, random);
    write_string_array(writer, "tags", model.tags);
    write_string_array(writer, "collectionIds", model.collection_ids);
    writer.member("createdAt", format_timestamp(model.created_at));
    writer.member("updatedAt", format_timestamp(model.updated_at));
    writer.member("authorId", user_id);
    writer.member("ownerId", project_id);
    writer.member("userId", user_id);
    writer.member("accessRestrictions", 0);
    if (has_results)
        write_thumbnail(writer, random);
    write_example_assets(writer, random, has_results ? 4 : 0, has_results ? 30 : 0);

    bool const has_images = model.status != "new" && !model.custom;
    writer.member("trainingImagesNumber", has_images ? random.between(5, 40) : 0);
    if (has_images)
        write_training_images(writer, random);

    writer.key("trainingProgress");
    writer.begin_object();
    if (model.status == "training")
    {
        writer.member("stage", "training");
        writer.member("progress", 0.25 * static_cast<double>(1 + index % 3));
        writer.member("remainingTimeMs", random.between(60'000, 1'800'000));
        writer.member("updatedAt", format_timestamp(model.updated_at));
    }
    else if (model.status == "trained")
    {
        writer.member("stage", "trained");
        writer.member("progress", 1.0);
    }
    writer.end_object();

    writer.key("parameters");
    writer.begin_object();
    if (!model.custom)
    {
        writer.member("learningRate", 0.0001);
        writer.member("maxTrainSteps", 350 * (1 + index % 4));
        writer.member("batchSize", 1);
    }
    writer.end_object();

    if (model.type == "flux.1-composition")
    {
        writer.key("concepts");
        writer.begin_array();
        write_concept(writer, random, 0.75, "000008");
        writer.end_array();
    }
    if (has_results)
    {
        writer.member("epoch", "000010");
        writer.key("trainingStats");
        writer.begin_object();
        writer.member("queueDuration", random.between(1'000, 90'000));
        writer.member("trainDuration", random.between(300'000, 3'600'000));
        writer.end_object();
    }
    writer.end_object();
    model.row.assign(scratch);
    return model;
}

/// The generation form that single-model requests add to custom models, as the text to insert
/// before the row's closing brace: `,"inputs":[…],"uiConfig":{…}`.
inline std::string make_custom_model_form(model_kind kind)
{
    std::string form;
    json_writer writer{form};
    form += ',';
    writer.key("inputs");
    writer.begin_array();

    auto const input = [&](std::string_view name, std::string_view type, std::string_view label,
                           bool required) {
        writer.begin_object();
        writer.member("name", name);
        writer.member("type", type);
        writer.member("label", label);
        writer.member("required", required);
    };

    bool const needs_image = kind == model_kind::editing || kind == model_kind::mesh;
    if (kind != model_kind::mesh)
    {
        input("prompt", "string", "Prompt", true);
        writer.member("maxLength", 4000);
        writer.end_object();
    }
    if (kind != model_kind::audio)
    {
        input("image", "file", "Reference image", needs_image);
        writer.member("kind", "image");
        writer.end_object();
    }
    if (kind == model_kind::image || kind == model_kind::editing)
    {
        input("numSamples", "number", "Number of images", false);
        writer.member("min", 1);
        writer.member("max", 8);
        writer.member("default", 4);
        writer.end_object();
    }
    if (kind == model_kind::video || kind == model_kind::audio)
    {
        input("duration", "number", "Duration (s)", false);
        writer.member("min", 2);
        writer.member("max", kind == model_kind::video ? 10 : 120);
        writer.member("default", 5);
        writer.end_object();
    }
    input("seed", "number", "Seed", false);
    writer.end_object();
    writer.end_array();

    writer.key("uiConfig");
    writer.begin_object();
    writer.key("inputProperties");
    writer.begin_object();
    writer.key("prompt");
    writer.begin_object();
    writer.member("placeholder", "Describe what to generate");
    writer.end_object();
    writer.end_object();
    writer.key("presets");
    writer.raw("[]");
    writer.end_object();
    return form;
}

//--------------------------------------------------------------------------------------------
// The catalogue

/// Calls `work(begin, end)` on consecutive ranges covering [0, count), on several threads when
/// the count is large: a 100,000-model catalogue takes a second or more on one core.
template <class Work>
void for_ranges_in_parallel(std::size_t count, Work const& work)
{
    std::size_t const cores = std::max(1u, std::thread::hardware_concurrency());
    std::size_t const workers = std::min({cores, std::size_t{8}, count / 4096 + 1});
    std::size_t const chunk = (count + workers - 1) / std::max<std::size_t>(workers, 1);

    std::vector<std::exception_ptr> failures(workers);
    std::vector<std::thread> threads;
    auto const run = [&](std::size_t worker) {
        try
        {
            std::size_t const begin = std::min(count, worker * chunk);
            work(begin, std::min(count, begin + chunk));
        }
        catch (...)
        {
            failures[worker] = std::current_exception();
        }
    };
    for (std::size_t worker = 1; worker < workers; ++worker)
        threads.emplace_back(run, worker);
    run(0);
    for (auto& thread : threads)
        thread.join();

    for (auto const& failure : failures)
        if (failure)
            std::rethrow_exception(failure);
}

/// Which of the catalogue's lists a listing reads.
enum class model_privacy : std::uint8_t
{
    private_models,
    public_models,
    unlisted_models,
};

/// What a listing sorts on. Without `sortBy` listings keep the catalogue order, which is also
/// the order of decreasing score: the catalogue's first model is its most popular.
enum class sort_key : std::uint8_t
{
    score,
    created_at,
    updated_at,
};

/// The whole catalogue, built once and then only read, so any thread may use it.
class catalogue
{
public:
    /// Builds `public_count` public and `private_count` private models for the account that
    /// owns `project_id`.
    catalogue(
        std::size_t public_count, std::size_t private_count, std::string project_id,
        std::string user_id)
        : project_id_(std::move(project_id))
        , user_id_(std::move(user_id))
    {
        public_ = build_public(public_count);
        private_ = build_private(private_count);

        // Keyed by views of the models' own ids: the lists do not change after this point.
        index_.reserve(public_.size() + private_.size());
        for (auto const& model : public_)
            add_to_index(model);
        for (auto const& model : private_)
            add_to_index(model);

        for (int kind = 0; kind <= static_cast<int>(model_kind::audio); ++kind)
            forms_[kind] = make_custom_model_form(static_cast<model_kind>(kind));

        public_orders_ = make_orders(public_);
        private_orders_ = make_orders(private_);
    }

    catalogue(catalogue const&) = delete;
    catalogue& operator=(catalogue const&) = delete;

    /// The models of a list, in the default listing order.
    std::vector<catalogue_model> const& models(model_privacy privacy) const noexcept
    {
        switch (privacy)
        {
        case model_privacy::public_models: return public_;
        case model_privacy::private_models: return private_;
        case model_privacy::unlisted_models: break;
        }
        // The test account has no unlisted models.
        return unlisted_;
    }

    /// The positions in `models(privacy)` of its models by increasing `createdAt` or
    /// `updatedAt`; `key` must not be `sort_key::score`.
    std::vector<std::uint32_t> const& ascending_order(
        model_privacy privacy, sort_key key) const noexcept
    {
        auto const& orders = privacy == model_privacy::public_models    ? public_orders_
                             : privacy == model_privacy::private_models ? private_orders_
                                                                        : unlisted_orders_;
        return key == sort_key::created_at ? orders.created_at : orders.updated_at;
    }

    /// The model with that id, public or private, or null.
    catalogue_model const* find(std::string_view id) const
    {
        auto const found = index_.find(id);
        return found == index_.end() ? nullptr : found->second;
    }

    /// The text a single-model request inserts into a custom model's row.
    std::string const& custom_model_form(model_kind kind) const noexcept
    {
        return forms_[static_cast<std::size_t>(kind)];
    }

    /// The account's project, the only `projectId` requests may name.
    std::string const& project_id() const noexcept
    {
        return project_id_;
    }

private:
    std::vector<catalogue_model> build_public(std::size_t count) const
    {
        return build(
            count, {day_timestamp(2023, 1, 1), day_timestamp(2026, 1, 1), 0xc4ea7edULL},
            {day_timestamp(2026, 1, 1), day_timestamp(2026, 4, 1), 0x0bda7edULL},
            [](std::size_t i, timestamp created, timestamp updated, std::string& scratch) {
                return make_public_model(i, created, updated, scratch);
            });
    }

    std::vector<catalogue_model> build_private(std::size_t count) const
    {
        return build(
            count, {day_timestamp(2025, 6, 1), day_timestamp(2026, 3, 1), 0x91c4ea7eULL},
            {day_timestamp(2026, 3, 1), day_timestamp(2026, 4, 20), 0x914bda7eULL},
            [this](std::size_t i, timestamp created, timestamp updated, std::string& scratch) {
                return make_private_model(i, created, updated, project_id_, user_id_, scratch);
            });
    }

    // When a catalogue's models were made and last changed: a span and the seed that spreads
    // `count` distinct instants over it.
    struct time_span
    {
        timestamp from;
        timestamp to;
        std::uint64_t seed;
    };

    // Makes `count` models on both cores; `make` builds one from its index and instants.
    template <class MakeModel>
    static std::vector<catalogue_model> build(
        std::size_t count, time_span creation, time_span update, MakeModel make)
    {
        auto const created = spread_timestamps(count, creation.from, creation.to, creation.seed);
        auto const updated = spread_timestamps(count, update.from, update.to, update.seed);

        std::vector<catalogue_model> models(count);
        for_ranges_in_parallel(count, [&](std::size_t begin, std::size_t end) {
            std::string scratch;
            scratch.reserve(16 * 1024);
            for (std::size_t i = begin; i < end; ++i)
                models[i] = make(i, created[i], updated[i], scratch);
        });
        return models;
    }

    struct sort_orders
    {
        std::vector<std::uint32_t> created_at;
        std::vector<std::uint32_t> updated_at;
    };

    static sort_orders make_orders(std::vector<catalogue_model> const& models)
    {
        if (models.size() > std::numeric_limits<std::uint32_t>::max())
            throw std::length_error("scenario::testing: too many models");

        sort_orders orders;
        orders.created_at.resize(models.size());
        std::iota(orders.created_at.begin(), orders.created_at.end(), std::uint32_t{0});
        orders.updated_at = orders.created_at;

        // Timestamps are distinct, so these orders are total.
        std::sort(
            orders.created_at.begin(), orders.created_at.end(),
            [&](std::uint32_t a, std::uint32_t b) {
                return models[a].created_at < models[b].created_at;
            });
        std::sort(
            orders.updated_at.begin(), orders.updated_at.end(),
            [&](std::uint32_t a, std::uint32_t b) {
                return models[a].updated_at < models[b].updated_at;
            });
        return orders;
    }

    void add_to_index(catalogue_model const& model)
    {
        if (!index_.emplace(model.id, &model).second)
            throw std::logic_error("scenario::testing: duplicate model id " + model.id);
    }

    std::string project_id_;
    std::string user_id_;
    std::vector<catalogue_model> public_;
    std::vector<catalogue_model> private_;
    std::vector<catalogue_model> unlisted_;
    sort_orders public_orders_;
    sort_orders private_orders_;
    sort_orders unlisted_orders_;
    std::unordered_map<std::string_view, catalogue_model const*> index_;
    std::array<std::string, 5> forms_;
};

} // namespace scenario::testing::detail

#endif
