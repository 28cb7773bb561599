// A small streaming JSON writer for the local Scenario API server.

#ifndef SCENARIO_TESTING_DETAIL_JSON_WRITER_HPP
#define SCENARIO_TESTING_DETAIL_JSON_WRITER_HPP

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace scenario::testing::detail {

/// Appends `text` to `out` as a JSON string literal that holds only ASCII: every other
/// character becomes a `\uXXXX` escape, and characters outside the Basic Multilingual Plane a
/// UTF-16 surrogate pair (`\ud83c\udfa8`). The live service answers this way, so clients must
/// decode the escapes. Bytes that are not valid UTF-8 become U+FFFD rather than invalid JSON.
inline void append_json_string(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    auto const escape = [&](unsigned unit) {
        char const escaped[] = {'\\',
                                'u',
                                hex[(unit >> 12) & 0xf],
                                hex[(unit >> 8) & 0xf],
                                hex[(unit >> 4) & 0xf],
                                hex[unit & 0xf]};
        out.append(escaped, sizeof(escaped));
    };

    out.push_back('"');
    std::size_t i = 0;
    while (i < text.size())
    {
        auto const byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x80 && byte != '"' && byte != '\\')
        {
            // Runs of plain characters are the common case: copy them in one step.
            std::size_t end = i + 1;
            while (end < text.size())
            {
                auto const next = static_cast<unsigned char>(text[end]);
                if (next < 0x20 || next >= 0x80 || next == '"' || next == '\\')
                    break;
                ++end;
            }
            out.append(text.data() + i, end - i);
            i = end;
            continue;
        }

        if (byte < 0x80)
        {
            switch (byte)
            {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: escape(byte); break;
            }
            ++i;
            continue;
        }

        std::size_t length = 0;
        unsigned code_point = 0;
        unsigned minimum = 0;
        if ((byte & 0xe0) == 0xc0)
        {
            length = 2;
            code_point = byte & 0x1f;
            minimum = 0x80;
        }
        else if ((byte & 0xf0) == 0xe0)
        {
            length = 3;
            code_point = byte & 0x0f;
            minimum = 0x800;
        }
        else if ((byte & 0xf8) == 0xf0)
        {
            length = 4;
            code_point = byte & 0x07;
            minimum = 0x10000;
        }

        bool valid = length != 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k)
        {
            auto const continuation = static_cast<unsigned char>(text[i + k]);
            valid = (continuation & 0xc0) == 0x80;
            code_point = (code_point << 6) | (continuation & 0x3f);
        }
        valid = valid && code_point >= minimum && code_point <= 0x10ffff &&
                (code_point < 0xd800 || code_point > 0xdfff);

        if (!valid)
        {
            escape(0xfffd);
            ++i;
            continue;
        }

        if (code_point >= 0x10000)
        {
            code_point -= 0x10000;
            escape(0xd800 + (code_point >> 10));
            escape(0xdc00 + (code_point & 0x3ff));
        }
        else
        {
            escape(code_point);
        }
        i += length;
    }
    out.push_back('"');
}

/// Writes JSON text into a string in one pass. Commas are placed automatically; the caller is
/// responsible for balancing objects and arrays and for giving every object member a key.
/// Used instead of building Boost.JSON values because the catalogue rows are written once for
/// up to hundreds of thousands of models, and because their strings must be ASCII-escaped and
/// their fractions written as `0.8` rather than `8E-1`, like the live service does.
class json_writer
{
public:
    /// Appends to `out`, which must outlive the writer.
    explicit json_writer(std::string& out) noexcept
        : out_(out)
    {}

    /// Opens an object.
    void begin_object()
    {
        before_value();
        out_.push_back('{');
        need_comma_ = false;
    }

    /// Closes the innermost object.
    void end_object()
    {
        out_.push_back('}');
        need_comma_ = true;
    }

    /// Opens an array.
    void begin_array()
    {
        before_value();
        out_.push_back('[');
        need_comma_ = false;
    }

    /// Closes the innermost array.
    void end_array()
    {
        out_.push_back(']');
        need_comma_ = true;
    }

    /// Writes an object member's key; the next call writes its value.
    void key(std::string_view name)
    {
        before_value();
        append_json_string(out_, name);
        out_.push_back(':');
        need_comma_ = false;
    }

    /// Writes a string value.
    void string(std::string_view text)
    {
        before_value();
        append_json_string(out_, text);
        need_comma_ = true;
    }

    /// Writes an integer value.
    void integer(std::int64_t number)
    {
        before_value();
        char digits[24];
        auto const result = std::to_chars(digits, digits + sizeof(digits), number);
        out_.append(digits, result.ptr);
        need_comma_ = true;
    }

    /// Writes a number with a fraction in its shortest round-trip form (`0.8`, `1`).
    void number(double value)
    {
        before_value();
        char digits[32];
        auto const result = std::to_chars(digits, digits + sizeof(digits), value);
        out_.append(digits, result.ptr);
        need_comma_ = true;
    }

    /// Writes `true` or `false`.
    void boolean(bool value)
    {
        before_value();
        out_ += value ? "true" : "false";
        need_comma_ = true;
    }

    /// Writes `null`.
    void null()
    {
        before_value();
        out_ += "null";
        need_comma_ = true;
    }

    /// Writes a string value known to hold only characters that need no escaping, such as
    /// generated ids; skips the escaping pass, which matters for the catalogue's many asset ids.
    void plain_string(std::string_view text)
    {
        before_value();
        out_.push_back('"');
        out_ += text;
        out_.push_back('"');
        need_comma_ = true;
    }

    /// Writes a value that is already serialised JSON.
    void raw(std::string_view json)
    {
        before_value();
        out_ += json;
        need_comma_ = true;
    }

    /// Writes a key and a string value.
    void member(std::string_view name, std::string_view text)
    {
        key(name);
        string(text);
    }

    /// Writes a key and a string value; needed so that literals do not pick the bool overload.
    void member(std::string_view name, char const* text)
    {
        member(name, std::string_view(text));
    }

    /// Writes a key and an integer value.
    template <class Integer>
    requires(std::integral<Integer> && !std::same_as<Integer, bool>) void member(
        std::string_view name, Integer number)
    {
        key(name);
        integer(static_cast<std::int64_t>(number));
    }

    /// Writes a key and a number value with a fraction.
    void member(std::string_view name, double value)
    {
        key(name);
        number(value);
    }

    /// Writes a key and a boolean value.
    void member(std::string_view name, bool value)
    {
        key(name);
        boolean(value);
    }

private:
    void before_value()
    {
        if (need_comma_)
            out_.push_back(',');
    }

    std::string& out_;
    bool need_comma_ = false;
};

} // namespace scenario::testing::detail

#endif
