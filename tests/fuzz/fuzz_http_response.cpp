// Response bytes through read_response over an in-memory stream that hands them out in chunks
// whose sizes come from the input, then end of stream; limits small enough that the header and
// body limits are hit. A 2xx body then goes through the JSON reading of fuzz_model_json. Each
// response is also read in one piece, and must read the same way.
//
// Input: the response bytes, then four bytes read from the back (last first): header limit,
// body limit, idle time and chunk pattern; see `read_settings`.
#include "model_checks.hpp"

#include <scenario/detail/http_exchange.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace sd = scenario::detail;
using scenario::error_code;
using namespace std::chrono_literals;

// Hands out its bytes in chunks, then end of stream. With pattern 0 each read gets all it
// asks for; otherwise chunk sizes are pseudo-random in [1, pattern], from a sequence seeded
// by the pattern.
class chunked_stream
{
public:
    using executor_type = asio::io_context::executor_type;

    chunked_stream(executor_type executor, std::string_view bytes, std::uint8_t pattern)
        : executor_(executor)
        , bytes_(bytes)
        , pattern_(pattern)
        , sequence_(pattern | 0x100u)
    {}

    executor_type get_executor() const noexcept
    {
        return executor_;
    }

    // Whether a read was answered with end of stream.
    bool reached_eof() const noexcept
    {
        return reached_eof_;
    }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(MutableBufferSequence const& buffers, ReadToken&& token)
    {
        auto initiation = [this](auto handler, MutableBufferSequence const& buffers) {
            error_code ec;
            std::size_t n = 0;
            if (asio::buffer_size(buffers) == 0)
                n = 0;
            else if (bytes_.empty())
            {
                ec = asio::error::eof;
                reached_eof_ = true;
            }
            else
            {
                auto const chunk = std::min(next_chunk(), bytes_.size());
                n = asio::buffer_copy(buffers, asio::buffer(bytes_.data(), chunk));
                bytes_.remove_prefix(n);
            }
            // Never completes inline, as a socket would not.
            asio::post(executor_, asio::append(std::move(handler), ec, n));
        };
        return asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
            initiation, token, buffers);
    }

private:
    std::size_t next_chunk()
    {
        if (pattern_ == 0)
            return bytes_.size();
        sequence_ ^= sequence_ << 13; // xorshift32
        sequence_ ^= sequence_ >> 17;
        sequence_ ^= sequence_ << 5;
        return sequence_ % pattern_ + 1;
    }

    executor_type executor_;
    std::string_view bytes_;
    std::uint32_t pattern_;
    std::uint32_t sequence_;
    bool reached_eof_ = false;
};

struct settings
{
    sd::response_limits limits;
    std::uint8_t pattern = 0;
};

// Half of each byte's range gives limits small enough to be hit, the other half roomy ones.
settings read_settings(FuzzedDataProvider& input)
{
    auto const header = input.ConsumeIntegral<std::uint8_t>();
    auto const body = input.ConsumeIntegral<std::uint8_t>();
    auto const idle = input.ConsumeIntegral<std::uint8_t>();
    settings s;
    s.limits.header_limit = header >= 128 ? 8192 : 16 + header * 4u;
    s.limits.body_limit = body >= 128 ? 1u << 20 : body * 64u;
    s.limits.max_idle_time = std::chrono::milliseconds(idle * 250);
    s.pattern = input.ConsumeIntegral<std::uint8_t>();
    return s;
}

struct outcome
{
    error_code ec;
    sd::http_response response;
    bool answered = false;
    bool reached_eof = false;
};

outcome read(std::string_view bytes, sd::response_limits const& limits, std::uint8_t pattern)
{
    static asio::io_context io;
    io.restart();
    chunked_stream stream(io.get_executor(), bytes, pattern);
    boost::beast::flat_buffer buffer;
    outcome out;
    bool finished = false;
    asio::co_spawn(
        io, sd::read_response(stream, buffer, limits, out.response, out.answered),
        [&](std::exception_ptr failure, error_code ec) {
            if (failure)
                std::rethrow_exception(failure);
            out.ec = ec;
            finished = true;
        });
    io.run();
    FUZZ_CHECK(finished);
    out.reached_eof = stream.reached_eof();
    return out;
}

void check(outcome const& o, std::string_view bytes, sd::response_limits const& limits)
{
    auto const& r = o.response;
    if (bytes.empty())
        FUZZ_CHECK(!o.answered);
    if (o.ec)
    {
        // Nothing of a failed read reaches the caller.
        FUZZ_CHECK(r.status == 0 && r.body.empty() && r.request_id.empty());
        FUZZ_CHECK(!r.retry_after && !r.keep_for);
        return;
    }
    FUZZ_CHECK(o.answered);
    FUZZ_CHECK(r.status <= 999);
    FUZZ_CHECK(r.body.size() <= limits.body_limit);
    auto const header_end = bytes.find("\r\n\r\n"); // the header ends at its first empty line
    FUZZ_CHECK(header_end != std::string_view::npos && header_end + 4 <= limits.header_limit);
    FUZZ_CHECK(r.body.size() <= bytes.size());
    if (r.retry_after)
    {
        FUZZ_CHECK(r.status == 429 || r.status == 503);
        FUZZ_CHECK(*r.retry_after >= 0ms && *r.retry_after <= 24h);
    }
    if (r.keep_for)
    {
        // Keep-Alive: timeout=0 gives a second less than nothing, which the pool refuses.
        FUZZ_CHECK(*r.keep_for <= limits.max_idle_time && *r.keep_for >= -1s);
        // A response read up to the end of the stream leaves a closed connection behind.
        FUZZ_CHECK(!o.reached_eof);
        FUZZ_CHECK(!bytes.starts_with("HTTP/1.0"));
    }
}

// The same response read in chunks and in one piece.
void check_same(outcome const& chunks, outcome const& whole)
{
    if (!chunks.ec != !whole.ec)
        std::fprintf(
            stderr, "in chunks: %s; in one piece: %s\n", chunks.ec.message().c_str(),
            whole.ec.message().c_str());
    FUZZ_CHECK(!chunks.ec == !whole.ec);
    if (chunks.ec)
        return;
    auto const& a = chunks.response;
    auto const& b = whole.response;
    FUZZ_CHECK(a.status == b.status && a.body == b.body && a.request_id == b.request_id);
    FUZZ_CHECK(a.keep_for == b.keep_for);
    FUZZ_CHECK(!a.retry_after == !b.retry_after);
    // An HTTP-date is read against the clock, which may pass a second between the two reads.
    if (a.retry_after)
        FUZZ_CHECK(*a.retry_after - *b.retry_after <= 1s && *b.retry_after - *a.retry_after <= 1s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    FuzzedDataProvider input(data, size);
    auto const s = read_settings(input);
    auto const bytes = input.ConsumeRemainingBytesAsString();

    auto const chunks = read(bytes, s.limits, s.pattern);
    check(chunks, bytes, s.limits);
    if (s.pattern != 0)
    {
        auto const whole = read(bytes, s.limits, 0);
        check(whole, bytes, s.limits);
        check_same(chunks, whole);
    }

    auto const status = chunks.response.status;
    if (!chunks.ec && status >= 200 && status < 300)
        scenario_fuzz::read_every_way(chunks.response.body);
    return 0;
}
