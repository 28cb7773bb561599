// The local API's fault injection, seen on the wire by a TLS client written by hand: what each
// fault kind sends and how the connection ends, which requests a plan picks, and the
// `--fault` option of scenario-local-api.
#include "support/run.hpp"

#include <scenario/testing/fault_spec.hpp>
#include <scenario/testing/local_api.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using namespace scenario_tests;
using namespace std::chrono_literals;
using boost::system::error_code;
using scenario::testing::fault_kind;
using scenario::testing::fault_plan;
using scenario::testing::fault_rule;
using scenario::testing::local_api;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A small private listing (path /v1/models) and a larger public page, to cut in half.
std::string const listing = "/v1/models?pageSize=2";
std::string const public_page = "/v1/models/public?pageSize=10";

scenario::testing::local_api_options small_api(std::vector<fault_rule> rules = {})
{
    scenario::testing::local_api_options options;
    options.public_models = 30;
    options.private_models = 3;
    options.faults.rules = std::move(rules);
    return options;
}

fault_rule on_requests(fault_kind kind, std::vector<std::size_t> sequence)
{
    fault_rule rule;
    rule.kind = kind;
    rule.sequence = std::move(sequence);
    return rule;
}

fault_rule on_every(fault_kind kind, std::size_t every = 1)
{
    fault_rule rule;
    rule.kind = kind;
    rule.every = every;
    return rule;
}

long long milliseconds_since(steady_clock::time_point start)
{
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

// Where a server listens, what to trust and what to present.
struct server_address
{
    std::uint16_t port = 0;
    std::string certificate_pem;
    std::string api_key;
    std::string api_secret;
};

server_address address_of(local_api& api)
{
    return {api.port(), api.certificate_pem(), api.api_key(), api.api_secret()};
}

// How reading one response ended, and as much of it as arrived.
struct reply
{
    error_code error;
    bool header_done = false;
    http::response<http::string_body> message;
    std::string unparsed; // received, but not a whole header
};

// One TLS connection speaking HTTP/1.1 by hand, so that a test sees exactly what the server
// puts on the wire and how the connection ends.
class wire_client
{
public:
    wire_client(asio::io_context& io, server_address address)
        : address_(std::move(address))
        , tls_(asio::ssl::context::tls_client)
        , stream_(io, tls_)
    {
        tls_.add_certificate_authority(asio::buffer(address_.certificate_pem));
        tls_.set_verify_mode(asio::ssl::verify_peer);
        stream_.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    }

    asio::awaitable<void> open()
    {
        asio::ip::tcp::endpoint const server{asio::ip::make_address("127.0.0.1"), address_.port};
        co_await beast::get_lowest_layer(stream_).async_connect(server, asio::use_awaitable);
        co_await stream_.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    }

    asio::awaitable<void> send(std::string target, bool authorized = true)
    {
        http::request<http::empty_body> request{http::verb::get, target, 11};
        request.set(http::field::host, "127.0.0.1");
        request.set(http::field::accept, "application/json");
        if (authorized)
        {
            std::string const credentials = address_.api_key + ":" + address_.api_secret;
            request.set(
                http::field::authorization,
                "Basic " + scenario::testing::detail::base64_encode(credentials));
        }
        co_await http::async_write(stream_, request, asio::use_awaitable);
    }

    // Writes bytes as they are, through TLS.
    asio::awaitable<void> send_bytes(std::string bytes)
    {
        co_await asio::async_write(stream_, asio::buffer(bytes), asio::use_awaitable);
    }

    // Reads one response, or as much of it as comes before the connection fails.
    asio::awaitable<reply> receive()
    {
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        auto [error, size] = co_await http::async_read(stream_, buffer_, parser, use_tuple);

        reply result;
        result.error = error;
        result.header_done = parser.is_header_done();
        result.message = parser.release();
        result.unparsed = beast::buffers_to_string(buffer_.data());
        co_return result;
    }

    asio::awaitable<reply> exchange(std::string target, bool authorized = true)
    {
        co_await send(std::move(target), authorized);
        co_return co_await receive();
    }

    // The statuses of requests made one after the other on this connection.
    asio::awaitable<std::vector<unsigned>> statuses(std::vector<std::string> targets)
    {
        std::vector<unsigned> result;
        for (auto const& target : targets)
        {
            reply const answer = co_await exchange(target);
            BOOST_TEST_REQUIRE(!answer.error, answer.error.message());
            result.push_back(answer.message.result_int());
        }
        co_return result;
    }

private:
    server_address address_;
    asio::ssl::context tls_;
    beast::ssl_stream<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

std::string reason_of(http::response<http::string_body> const& response)
{
    auto const body = boost::json::parse(response.body()).as_object();
    return std::string(body.at("reason").as_string());
}

// The headers every answer of the local API carries, faults or not.
void check_usual_headers(http::response<http::string_body> const& response)
{
    BOOST_TEST(response[http::field::content_type] == "application/json");
    BOOST_TEST(response["x-request-id"].starts_with("req_"));
    BOOST_TEST(response.has_content_length());
}

// Reads an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, strictly.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text)
{
    static constexpr std::string_view weekdays = "SunMonTueWedThuFriSat";
    static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT")
        return std::nullopt;

    char weekday[4] = {};
    char month[4] = {};
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    std::string const copy(text);
    if (std::sscanf(
            copy.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT", weekday, &day, month, &year, &hour,
            &minute, &second) != 7)
        return std::nullopt;

    std::size_t const month_at = months.find(month);
    std::size_t const weekday_at = weekdays.find(weekday);
    if (month_at == std::string_view::npos || month_at % 3 != 0 ||
        weekday_at == std::string_view::npos || weekday_at % 3 != 0)
        return std::nullopt;

    std::chrono::year_month_day const date{
        std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month_at / 3 + 1)},
        std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok())
        return std::nullopt;
    std::chrono::sys_days const days{date};
    if (std::chrono::weekday{days}.c_encoding() != weekday_at / 3)
        return std::nullopt;
    return days + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second);
}

std::vector<std::string> repeated(std::string const& target, std::size_t times)
{
    return std::vector<std::string>(times, target);
}

// A program run as a child process, its standard output and error on pipes, so that a test
// can read what a server prints while it runs. The destructor ends it with SIGTERM.
class child_process
{
public:
    explicit child_process(std::vector<std::string> arguments)
    {
        std::vector<char*> argv;
        for (auto& argument : arguments)
            argv.push_back(argument.data());
        argv.push_back(nullptr);

        int out[2];
        int err[2];
        BOOST_TEST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        BOOST_TEST_REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        pid_ = ::fork();
        BOOST_TEST_REQUIRE(pid_ >= 0);
        if (pid_ == 0)
        {
            // Only async-signal-safe calls between fork and exec: the test binary has threads.
            int const nothing = ::open("/dev/null", O_RDONLY);
            ::dup2(nothing, 0);
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }

    child_process(child_process const&) = delete;
    child_process& operator=(child_process const&) = delete;

    ~child_process()
    {
        if (pid_ > 0 && status_ < 0)
            stop();
        ::close(out_);
        ::close(err_);
    }

    // The next line of standard output, without its newline; nothing at its end or once
    // `limit` has passed.
    std::optional<std::string> read_line(std::chrono::seconds limit = std::chrono::seconds(30))
    {
        auto const deadline = steady_clock::now() + limit;
        for (;;)
        {
            if (auto const end = out_text_.find('\n'); end != std::string::npos)
            {
                std::string line = out_text_.substr(0, end);
                out_text_.erase(0, end + 1);
                return line;
            }
            auto const left =
                std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
            pollfd ready{out_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0)
                return std::nullopt;
            char chunk[4096];
            auto const size = ::read(out_, chunk, sizeof(chunk));
            if (size <= 0)
                return std::nullopt;
            out_text_.append(chunk, static_cast<std::size_t>(size));
        }
    }

    // Sends SIGTERM and waits for the end; answers the exit status.
    int stop()
    {
        ::kill(pid_, SIGTERM);
        return wait();
    }

    // Waits for the end; answers the exit status, or -1 when a signal ended it.
    int wait()
    {
        if (status_ < 0)
        {
            int raw = 0;
            ::waitpid(pid_, &raw, 0);
            status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 1000;
        }
        return status_ == 1000 ? -1 : status_;
    }

    // Standard error, all of it: call once the program has ended.
    std::string error_text()
    {
        std::string text;
        char chunk[4096];
        for (ssize_t size; (size = ::read(err_, chunk, sizeof(chunk))) > 0;)
            text.append(chunk, static_cast<std::size_t>(size));
        return text;
    }

    // The rest of standard output: call once the program has ended.
    std::string output_text()
    {
        char chunk[4096];
        for (ssize_t size; (size = ::read(out_, chunk, sizeof(chunk))) > 0;)
            out_text_.append(chunk, static_cast<std::size_t>(size));
        return std::exchange(out_text_, {});
    }

private:
    pid_t pid_ = -1;
    int status_ = -1;
    int out_ = -1;
    int err_ = -1;
    std::string out_text_;
};

std::string file_text(std::filesystem::path const& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(local_api_faults)

// ---- What each fault kind puts on the wire ----

BOOST_AUTO_TEST_CASE(too_many_requests_says_retry_after_in_seconds_and_keeps_the_connection)
{
    fault_rule rule = on_requests(fault_kind::too_many_requests, {1});
    rule.retry_after_seconds = 7;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const limited = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!limited.error, limited.error.message());
        BOOST_TEST(limited.message.result_int() == 429u);
        BOOST_TEST(limited.message[http::field::retry_after] == "7");
        BOOST_TEST(limited.message.keep_alive());
        BOOST_TEST(reason_of(limited.message) == "Too many requests");
        check_usual_headers(limited.message);

        reply const next = co_await client.exchange(listing);
        BOOST_TEST(next.message.result_int() == 200u);
    }());
    BOOST_TEST(api.faults_injected() == 1u);
}

BOOST_AUTO_TEST_CASE(too_many_requests_date_says_retry_after_as_an_http_date_n_seconds_ahead)
{
    fault_rule rule = on_every(fault_kind::too_many_requests_date);
    rule.retry_after_seconds = 30;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        auto const before = std::chrono::system_clock::now();
        reply const limited = co_await client.exchange(listing);
        auto const after = std::chrono::system_clock::now();
        BOOST_TEST_REQUIRE(!limited.error, limited.error.message());
        BOOST_TEST(limited.message.result_int() == 429u);
        BOOST_TEST(limited.message.keep_alive());
        BOOST_TEST(reason_of(limited.message) == "Too many requests");
        check_usual_headers(limited.message);

        std::string const date{limited.message[http::field::retry_after]};
        auto const when = parse_http_date(date);
        BOOST_TEST_REQUIRE(when.has_value(), "not an IMF-fixdate: '" << date << "'");
        // The server rounds up to the second: from 30 s after the request to 31 s after the
        // answer.
        auto const ahead = std::chrono::duration_cast<milliseconds>(*when - before).count();
        auto const slack = std::chrono::duration_cast<milliseconds>(after - before).count();
        BOOST_TEST(ahead >= 30'000);
        BOOST_TEST(ahead <= 31'000 + slack);
    }());
}

BOOST_AUTO_TEST_CASE(too_many_requests_body_says_remaining_seconds_without_a_header)
{
    fault_rule rule = on_every(fault_kind::too_many_requests_body);
    rule.retry_after_seconds = 4;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const limited = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!limited.error, limited.error.message());
        BOOST_TEST(limited.message.result_int() == 429u);
        BOOST_TEST((limited.message.find(http::field::retry_after) == limited.message.end()));
        check_usual_headers(limited.message);

        auto const body = boost::json::parse(limited.message.body()).as_object();
        BOOST_TEST(body.at("reason").as_string() == "Too many requests");
        BOOST_TEST(body.at("remainingSeconds").to_number<int>() == 4);
    }());
}

BOOST_AUTO_TEST_CASE(server_errors_answer_with_a_reason_and_keep_the_connection)
{
    local_api api{small_api()};
    asio::io_context io;
    wire_client client{io, address_of(api)};
    run(io, client.open());

    struct expectation
    {
        fault_kind kind;
        unsigned status;
    };
    for (expectation const expected :
         {expectation{fault_kind::internal_error, 500}, expectation{fault_kind::bad_gateway, 502},
          expectation{fault_kind::service_unavailable, 503}})
    {
        BOOST_TEST_CONTEXT("status " << expected.status)
        {
            // A new plan numbers requests from 1 again: this hits the next request only.
            api.set_fault_plan({{on_requests(expected.kind, {1})}});
            run(io, [&]() -> asio::awaitable<void> {
                reply const failed = co_await client.exchange(listing);
                BOOST_TEST_REQUIRE(!failed.error, failed.error.message());
                BOOST_TEST(failed.message.result_int() == expected.status);
                BOOST_TEST(failed.message.keep_alive());
                BOOST_TEST(!reason_of(failed.message).empty());
                check_usual_headers(failed.message);

                reply const next = co_await client.exchange(listing);
                BOOST_TEST(next.message.result_int() == 200u);
            }());
        }
    }
    BOOST_TEST(api.faults_injected() == 3u);
    BOOST_TEST(api.connections_accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(close_after_response_answers_in_full_then_drops_tcp_without_close_notify)
{
    local_api api{small_api({on_every(fault_kind::close_after_response)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const answer = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!answer.error, answer.error.message());
        BOOST_TEST(answer.message.result_int() == 200u);
        BOOST_TEST(answer.message.keep_alive());
        auto const body = boost::json::parse(answer.message.body()).as_object();
        BOOST_TEST(body.at("models").as_array().size() == 2u);

        reply const after = co_await client.receive();
        BOOST_TEST((after.error == asio::ssl::error::stream_truncated), after.error.message());
    }());
}

BOOST_AUTO_TEST_CASE(reset_mid_headers_sends_part_of_the_header_then_a_reset)
{
    local_api api{small_api({on_every(fault_kind::reset_mid_headers)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const cut = co_await client.exchange(listing);
        BOOST_TEST((cut.error == asio::error::connection_reset), cut.error.message());
        // The status line arrived (Beast's parser takes it on its own), then part of the
        // fields, never their end.
        BOOST_TEST(!cut.header_done);
        BOOST_TEST(cut.message.result_int() == 200u);
        BOOST_TEST(!cut.unparsed.empty());
        BOOST_TEST(cut.unparsed.find("\r\n\r\n") == std::string::npos, cut.unparsed);
    }());
    BOOST_TEST(api.faults_injected() == 1u);
}

BOOST_AUTO_TEST_CASE(reset_mid_body_sends_the_header_and_part_of_the_body_then_a_reset)
{
    local_api api{small_api({on_every(fault_kind::reset_mid_body)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const cut = co_await client.exchange(public_page);
        BOOST_TEST((cut.error == asio::error::connection_reset), cut.error.message());
        BOOST_TEST_REQUIRE(cut.header_done);
        BOOST_TEST(cut.message.result_int() == 200u);
        BOOST_TEST_REQUIRE(cut.message.has_content_length());
        auto const announced = std::stoull(std::string(cut.message[http::field::content_length]));
        BOOST_TEST(announced > 10'000u);
        BOOST_TEST(cut.message.body().size() <= announced / 2);
    }());
}

BOOST_AUTO_TEST_CASE(truncated_body_sends_half_the_body_then_close_notify)
{
    local_api api{small_api({on_every(fault_kind::truncated_body)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const cut = co_await client.exchange(public_page);
        BOOST_TEST((cut.error == http::error::partial_message), cut.error.message());
        BOOST_TEST_REQUIRE(cut.header_done);
        BOOST_TEST(cut.message.result_int() == 200u);
        auto const announced = std::stoull(std::string(cut.message[http::field::content_length]));
        BOOST_TEST(announced > 10'000u);
        BOOST_TEST(cut.message.body().size() == announced / 2);
    }());
}

BOOST_AUTO_TEST_CASE(stall_answers_normally_after_the_delay)
{
    fault_rule rule = on_requests(fault_kind::stall, {1});
    rule.delay = 400ms;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        auto const start = steady_clock::now();
        reply const slow = co_await client.exchange(listing);
        auto const waited = milliseconds_since(start);
        BOOST_TEST_REQUIRE(!slow.error, slow.error.message());
        BOOST_TEST(slow.message.result_int() == 200u);
        BOOST_TEST(waited >= 400);

        reply const next = co_await client.exchange(listing);
        BOOST_TEST(next.message.result_int() == 200u);
    }());
}

BOOST_AUTO_TEST_CASE(a_stall_keeps_the_requests_pipelined_behind_it)
{
    fault_rule rule = on_requests(fault_kind::stall, {1});
    rule.delay = 300ms;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        co_await client.send(listing);
        co_await client.send("/v1/models/public?pageSize=3");
        reply const first = co_await client.receive();
        reply const second = co_await client.receive();
        BOOST_TEST_REQUIRE(!first.error, first.error.message());
        BOOST_TEST_REQUIRE(!second.error, second.error.message());
        auto const first_body = boost::json::parse(first.message.body()).as_object();
        auto const second_body = boost::json::parse(second.message.body()).as_object();
        BOOST_TEST(first_body.at("models").as_array().size() == 2u);
        BOOST_TEST(second_body.at("models").as_array().size() == 3u);
    }());
    BOOST_TEST(api.requests_received() == 2u);
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_a_stall_to_end)
{
    fault_rule rule = on_every(fault_kind::stall);
    rule.delay = 60s;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        co_await client.send(listing);
        asio::steady_timer pause{io, 200ms};
        co_await pause.async_wait(asio::use_awaitable);

        auto const start = steady_clock::now();
        api.stop();
        BOOST_TEST(milliseconds_since(start) < 2000);

        reply const after = co_await client.receive();
        BOOST_TEST(after.error);
        BOOST_TEST(!after.header_done);
    }());
    BOOST_TEST(api.requests_received() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_a_stall_that_read_ahead_all_it_may)
{
    fault_rule rule = on_every(fault_kind::stall);
    rule.delay = 60s;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        co_await client.send(listing);
        // More than the 1 MiB the stalled connection reads ahead, so that it stops reading.
        co_await client.send_bytes(std::string(1024 * 1024 + 64 * 1024, 'x'));
        asio::steady_timer pause{io, 300ms};
        co_await pause.async_wait(asio::use_awaitable);

        auto const start = steady_clock::now();
        api.stop();
        BOOST_TEST(milliseconds_since(start) < 2000);
    }());
}

BOOST_AUTO_TEST_CASE(oversized_body_pads_the_normal_answer_to_the_size_asked)
{
    fault_rule rule = on_requests(fault_kind::oversized_body, {1});
    rule.body_bytes = 1024 * 1024;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const big = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!big.error, big.error.message());
        BOOST_TEST(big.message.result_int() == 200u);
        BOOST_TEST(big.message[http::field::content_length] == "1048576");
        BOOST_TEST(big.message.body().size() == 1024u * 1024u);
        check_usual_headers(big.message);

        auto const body = boost::json::parse(big.message.body()).as_object();
        BOOST_TEST(body.at("models").as_array().size() == 2u);
        BOOST_TEST(body.at("padding").as_string().size() > 1'000'000u);

        reply const next = co_await client.exchange(listing);
        BOOST_TEST(next.message.result_int() == 200u);
        BOOST_TEST(next.message.body().size() < 100'000u);
    }());
}

BOOST_AUTO_TEST_CASE(oversized_body_is_32_mib_of_padding_by_default_even_for_a_refused_request)
{
    local_api api{small_api({on_every(fault_kind::oversized_body)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const big = co_await client.exchange(listing, false);
        BOOST_TEST_REQUIRE(!big.error, big.error.message());
        BOOST_TEST(big.message.result_int() == 200u);
        BOOST_TEST(big.message.body().size() == 32u * 1024u * 1024u);

        auto const body = boost::json::parse(big.message.body()).as_object();
        BOOST_TEST(body.size() == 1u);
        BOOST_TEST(body.at("padding").as_string().size() == 32u * 1024u * 1024u - 14u);
    }());
}

BOOST_AUTO_TEST_CASE(connection_close_answers_then_ends_tls_cleanly)
{
    local_api api{small_api({on_every(fault_kind::connection_close)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const answer = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!answer.error, answer.error.message());
        BOOST_TEST(answer.message.result_int() == 200u);
        BOOST_TEST(answer.message[http::field::connection] == "close");
        BOOST_TEST(!answer.message.keep_alive());

        // close_notify first: a clean end of stream, not a truncation.
        reply const after = co_await client.receive();
        BOOST_TEST((after.error == http::error::end_of_stream), after.error.message());
    }());
}

BOOST_AUTO_TEST_CASE(keep_alive_timeout_announces_a_short_timeout_and_keeps_to_it)
{
    fault_rule rule = on_every(fault_kind::keep_alive_timeout);
    rule.retry_after_seconds = 1;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const answer = co_await client.exchange(listing);
        BOOST_TEST_REQUIRE(!answer.error, answer.error.message());
        BOOST_TEST(answer.message.result_int() == 200u);
        BOOST_TEST(answer.message[http::field::keep_alive] == "timeout=1");
        BOOST_TEST(answer.message.keep_alive());

        // The server's own idle timeout is 30 s; this connection's is now 1 s, and it ends
        // without close_notify.
        auto const start = steady_clock::now();
        reply const after = co_await client.receive();
        auto const waited = milliseconds_since(start);
        BOOST_TEST((after.error == asio::ssl::error::stream_truncated), after.error.message());
        BOOST_TEST(waited >= 900);
        BOOST_TEST(waited < 5000);
    }());
}

BOOST_AUTO_TEST_CASE(the_idle_timeout_takes_milliseconds)
{
    auto options = small_api();
    options.idle_timeout = 300ms;
    local_api api{options};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const answer = co_await client.exchange(listing);
        BOOST_TEST(answer.message.result_int() == 200u);
        BOOST_TEST((answer.message.find(http::field::keep_alive) == answer.message.end()));

        auto const start = steady_clock::now();
        reply const after = co_await client.receive();
        auto const waited = milliseconds_since(start);
        BOOST_TEST((after.error == asio::ssl::error::stream_truncated), after.error.message());
        BOOST_TEST(waited >= 250);
        BOOST_TEST(waited < 3000);
    }());
}

// ---- Which requests a plan hits ----

BOOST_AUTO_TEST_CASE(every_hits_each_nth_request)
{
    local_api api{small_api({on_every(fault_kind::service_unavailable, 3)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    auto const targets = repeated(listing, 9);
    auto const got = run(io, [&]() -> asio::awaitable<std::vector<unsigned>> {
        co_await client.open();
        co_return co_await client.statuses(targets);
    }());
    std::vector<unsigned> const expected{200, 200, 503, 200, 200, 503, 200, 200, 503};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
    BOOST_TEST(api.faults_injected() == 3u);
}

BOOST_AUTO_TEST_CASE(sequence_hits_the_listed_requests)
{
    local_api api{small_api({on_requests(fault_kind::internal_error, {1, 2, 5})})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    auto const targets = repeated(listing, 6);
    auto const got = run(io, [&]() -> asio::awaitable<std::vector<unsigned>> {
        co_await client.open();
        co_return co_await client.statuses(targets);
    }());
    std::vector<unsigned> const expected{500, 500, 200, 200, 500, 200};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
    BOOST_TEST(api.faults_injected() == 3u);
}

BOOST_AUTO_TEST_CASE(share_draws_from_the_seed_and_replays_identically)
{
    fault_rule rule;
    rule.kind = fault_kind::service_unavailable;
    rule.share = 0.3;
    fault_plan const plan{{rule}, 42};
    local_api api{small_api()};
    asio::io_context io;
    wire_client client{io, address_of(api)};
    run(io, client.open());

    auto const targets = repeated(listing, 60);
    auto const statuses = [&](fault_plan const& plan) {
        api.set_fault_plan(plan);
        return run(io, client.statuses(targets));
    };
    auto const first = statuses(plan);
    auto const again = statuses(plan);
    auto const other_seed = statuses(fault_plan{{rule}, 43});

    BOOST_TEST(first == again, boost::test_tools::per_element());
    BOOST_TEST((first != other_seed));
    auto const hits = static_cast<std::size_t>(std::count(first.begin(), first.end(), 503u));
    auto const passes = static_cast<std::size_t>(std::count(first.begin(), first.end(), 200u));
    BOOST_TEST(hits > 5u);
    BOOST_TEST(hits < 40u);
    BOOST_TEST(hits + passes == 60u);
    BOOST_TEST(
        api.faults_injected() == hits * 2 + static_cast<std::size_t>(std::count(
                                                other_seed.begin(), other_seed.end(), 503u)));
}

BOOST_AUTO_TEST_CASE(limit_caps_the_hits_of_a_rule)
{
    fault_rule rule = on_every(fault_kind::bad_gateway);
    rule.limit = 2;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    auto const targets = repeated(listing, 5);
    auto const got = run(io, [&]() -> asio::awaitable<std::vector<unsigned>> {
        co_await client.open();
        co_return co_await client.statuses(targets);
    }());
    std::vector<unsigned> const expected{502, 502, 200, 200, 200};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
    BOOST_TEST(api.faults_injected() == 2u);
}

BOOST_AUTO_TEST_CASE(path_prefix_numbers_and_hits_only_matching_requests)
{
    fault_rule rule = on_every(fault_kind::service_unavailable, 2);
    rule.path_prefix = "/v1/models/public";
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    std::vector<std::string> targets;
    for (int i = 0; i < 4; ++i)
    {
        targets.push_back(listing);
        targets.push_back(public_page);
    }
    auto const got = run(io, [&]() -> asio::awaitable<std::vector<unsigned>> {
        co_await client.open();
        co_return co_await client.statuses(targets);
    }());
    std::vector<unsigned> const expected{200, 200, 200, 503, 200, 200, 200, 503};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_first_rule_that_hits_decides_and_every_rule_counts_every_request)
{
    // The second rule counts request 2 although the first decides it, so it hits request 4.
    local_api api{small_api(
        {on_requests(fault_kind::service_unavailable, {2}),
         on_every(fault_kind::internal_error, 2)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    auto const targets = repeated(listing, 4);
    auto const got = run(io, [&]() -> asio::awaitable<std::vector<unsigned>> {
        co_await client.open();
        co_return co_await client.statuses(targets);
    }());
    std::vector<unsigned> const expected{200, 503, 200, 500};
    BOOST_TEST(got == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(faults_hit_requests_whatever_their_credentials)
{
    local_api api{small_api({on_every(fault_kind::service_unavailable)})};
    asio::io_context io;
    wire_client client{io, address_of(api)};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const refused = co_await client.exchange(listing, false);
        BOOST_TEST(refused.message.result_int() == 503u);
    }());
    api.set_fault_plan({});
    run(io, [&]() -> asio::awaitable<void> {
        reply const refused = co_await client.exchange(listing, false);
        BOOST_TEST(refused.message.result_int() == 401u);
    }());
}

BOOST_AUTO_TEST_CASE(a_new_plan_starts_numbering_and_limits_again_and_the_total_keeps_counting)
{
    fault_rule rule = on_every(fault_kind::service_unavailable, 2);
    rule.limit = 1;
    local_api api{small_api({rule})};
    asio::io_context io;
    wire_client client{io, address_of(api)};
    run(io, client.open());

    auto const four = repeated(listing, 4);
    std::vector<unsigned> const expected{200, 503, 200, 200};
    BOOST_TEST(run(io, client.statuses(four)) == expected, boost::test_tools::per_element());

    api.set_fault_plan({{rule}});
    BOOST_TEST(run(io, client.statuses(four)) == expected, boost::test_tools::per_element());
    BOOST_TEST(api.faults_injected() == 2u);

    api.set_fault_plan({});
    std::vector<unsigned> const clean(4, 200u);
    BOOST_TEST(run(io, client.statuses(four)) == clean, boost::test_tools::per_element());
    BOOST_TEST(api.faults_injected() == 2u);
    BOOST_TEST(api.requests_received() == 12u);
}

BOOST_AUTO_TEST_CASE(a_plan_that_cannot_be_obeyed_is_refused)
{
    fault_rule tiny = on_every(fault_kind::oversized_body);
    tiny.body_bytes = 13;
    BOOST_CHECK_THROW(local_api{small_api({tiny})}, std::invalid_argument);

    // Refused by set_fault_plan too, which keeps the plan it had.
    local_api api{small_api({on_every(fault_kind::service_unavailable)})};
    BOOST_CHECK_THROW(api.set_fault_plan({{tiny}}), std::invalid_argument);
    asio::io_context io;
    wire_client client{io, address_of(api)};
    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        reply const answer = co_await client.exchange(listing);
        BOOST_TEST(answer.message.result_int() == 503u);
    }());
}

// ---- Fault specs, as scenario-local-api --fault reads them ----

BOOST_AUTO_TEST_CASE(every_fault_kind_has_a_kebab_case_name_that_reads_back)
{
    using scenario::testing::fault_kind_name;
    using scenario::testing::parse_fault_rule;
    std::vector<std::string> names;
    for (int i = 0; i <= static_cast<int>(fault_kind::keep_alive_timeout); ++i)
    {
        auto const kind = static_cast<fault_kind>(i);
        std::string const name{fault_kind_name(kind)};
        BOOST_TEST_CONTEXT("kind " << i << " named " << name)
        {
            BOOST_TEST(name.find('_') == std::string::npos);
            BOOST_TEST(name != "unknown");
            BOOST_TEST((parse_fault_rule(name).kind == kind));
            names.push_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    BOOST_TEST((std::unique(names.begin(), names.end()) == names.end()));

    BOOST_TEST((parse_fault_rule("429").kind == fault_kind::too_many_requests));
    BOOST_TEST((parse_fault_rule("429-date").kind == fault_kind::too_many_requests_date));
    BOOST_TEST((parse_fault_rule("429-body").kind == fault_kind::too_many_requests_body));
    BOOST_TEST((parse_fault_rule("500").kind == fault_kind::internal_error));
    BOOST_TEST((parse_fault_rule("502").kind == fault_kind::bad_gateway));
    BOOST_TEST((parse_fault_rule("503").kind == fault_kind::service_unavailable));
}

BOOST_AUTO_TEST_CASE(fault_specs_set_what_they_say)
{
    using scenario::testing::parse_fault_rule;

    auto const every_third = parse_fault_rule("503@every=3");
    BOOST_TEST(every_third.every == 3u);
    BOOST_TEST(every_third.sequence.empty());
    BOOST_TEST(every_third.share == 0.0);

    auto const stall = parse_fault_rule("stall@sequence=1;2;5,delay-ms=300");
    BOOST_TEST((stall.kind == fault_kind::stall));
    BOOST_TEST(stall.sequence == (std::vector<std::size_t>{1, 2, 5}));
    BOOST_TEST(stall.every == 0u);
    BOOST_TEST(stall.delay.count() == 300);
    BOOST_TEST(parse_fault_rule("stall@sequence=1+2+5").sequence == stall.sequence);

    auto const limited = parse_fault_rule("429@share=0.1,retry-after=1");
    BOOST_TEST(limited.share == 0.1);
    BOOST_TEST(limited.retry_after_seconds == 1u);

    auto const reset = parse_fault_rule("reset-mid-body@share=0.05,path=/v1/models/");
    BOOST_TEST((reset.kind == fault_kind::reset_mid_body));
    BOOST_TEST(reset.path_prefix == "/v1/models/");

    auto const big = parse_fault_rule("oversized-body@limit=2,bytes=1000");
    BOOST_TEST(big.every == 1u); // no selector: every request
    BOOST_TEST(big.limit == 2u);
    BOOST_TEST(big.body_bytes == 1000u);

    BOOST_TEST(parse_fault_rule("keep-alive-timeout@timeout=3").retry_after_seconds == 3u);
    BOOST_TEST(parse_fault_rule("close-after-response").every == 1u);
}

BOOST_AUTO_TEST_CASE(bad_fault_specs_are_refused_naming_the_culprit)
{
    struct bad_spec
    {
        char const* spec;
        char const* culprit;
    };
    for (auto const [spec, culprit] : {
             bad_spec{"504", "unknown fault kind '504'"},
             bad_spec{"", "no fault kind"},
             bad_spec{"@every=2", "no fault kind"},
             bad_spec{"503@", "nothing follows '@'"},
             bad_spec{"503@evry=3", "unknown parameter 'evry'"},
             bad_spec{"503@every", "'every' has no '=VALUE'"},
             bad_spec{"503@every=x", "'every' wants a whole number"},
             bad_spec{"503@every=0", "'every' wants a whole number from 1"},
             bad_spec{"503@every=-1", "not '-1'"},
             bad_spec{"503@every=2,every=3", "'every' is given twice"},
             bad_spec{"503@every=2,", "ends with ','"},
             bad_spec{"503@sequence=1;;3", "'sequence' wants a whole number from 1"},
             bad_spec{"503@sequence=0", "not '0'"},
             bad_spec{"429@share=1.5", "'share' wants a probability"},
             bad_spec{"429@share=nan", "not 'nan'"},
             bad_spec{"503@limit=0", "'limit' wants a whole number from 1"},
             bad_spec{"503@path=v1/models", "starting with '/'"},
             bad_spec{"503@retry-after=2", "'retry-after' does not apply to service-unavailable"},
             bad_spec{"stall@timeout=2", "'timeout' does not apply to stall"},
             bad_spec{"429@delay-ms=2", "'delay-ms' does not apply to too-many-requests"},
             bad_spec{"oversized-body@bytes=13", "from 14"},
             bad_spec{"stall@delay-ms=99999999999", "'delay-ms' wants a whole number"},
         })
    {
        BOOST_TEST_CONTEXT("spec '" << spec << "'")
        {
            try
            {
                scenario::testing::parse_fault_rule(spec);
                BOOST_ERROR("accepted");
            }
            catch (std::invalid_argument const& failure)
            {
                std::string const message = failure.what();
                BOOST_TEST(message.find(culprit) != std::string::npos, message);
                BOOST_TEST(message.starts_with("fault spec '" + std::string(spec) + "'"), message);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_program_injects_the_faults_its_options_ask_for)
{
    std::string pattern =
        (std::filesystem::temp_directory_path() / "scenario-faults-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    std::filesystem::path const directory = pattern;
    std::filesystem::path const ca_file = directory / "ca.pem";

    child_process program{
        {SCENARIO_LOCAL_API_PROGRAM, "--public-models", "5", "--private-models", "3", "--ca-out",
         ca_file.string(), "--fault", "503@every=2", "--fault", "stall@sequence=1,delay-ms=300",
         "--fault-seed", "9", "--idle-timeout-ms", "400"}};
    auto const base_url = program.read_line();
    auto const ca_line = program.read_line();
    BOOST_TEST_REQUIRE(base_url.has_value());
    BOOST_TEST_REQUIRE(ca_line.has_value());
    BOOST_TEST_REQUIRE(base_url->starts_with("base_url=https://127.0.0.1:"), *base_url);
    BOOST_TEST_REQUIRE(ca_line->starts_with("ca_file="), *ca_line);

    std::string const port_text =
        base_url->substr(base_url->rfind(':') + 1, base_url->size() - base_url->rfind(':') - 1 - 3);
    server_address address{
        static_cast<std::uint16_t>(std::stoul(port_text)), file_text(ca_file), "local-key",
        "local-secret"};
    asio::io_context io;
    wire_client client{io, address};

    run(io, [&]() -> asio::awaitable<void> {
        co_await client.open();
        // 1: stalled by the second rule; 2: failed by the first; 3: normal.
        auto const start = steady_clock::now();
        reply const first = co_await client.exchange(listing);
        BOOST_TEST(milliseconds_since(start) >= 300);
        BOOST_TEST(first.message.result_int() == 200u);
        reply const second = co_await client.exchange(listing);
        BOOST_TEST(second.message.result_int() == 503u);
        reply const third = co_await client.exchange(listing);
        BOOST_TEST(third.message.result_int() == 200u);

        // --idle-timeout-ms 400: the connection ends soon, without close_notify.
        auto const idle = steady_clock::now();
        reply const after = co_await client.receive();
        BOOST_TEST((after.error == asio::ssl::error::stream_truncated), after.error.message());
        BOOST_TEST(milliseconds_since(idle) >= 350);
        BOOST_TEST(milliseconds_since(idle) < 3000);
    }());

    BOOST_TEST(program.stop() == 0);
    auto const notice = program.error_text();
    BOOST_TEST(notice.find("injecting faults (2 rules, seed 9)") != std::string::npos, notice);
    std::filesystem::remove_all(directory);
}

BOOST_AUTO_TEST_CASE(the_program_refuses_a_bad_fault_option_naming_it)
{
    struct bad_option
    {
        std::vector<std::string> arguments;
        std::string culprit;
    };
    for (auto const& [arguments, culprit] : std::vector<bad_option>{
             {{"--fault", "503@evry=3"}, "fault spec '503@evry=3': unknown parameter 'evry'"},
             {{"--fault", "504"}, "unknown fault kind '504'"},
             {{"--fault", "stall@retry-after=2"}, "'retry-after' does not apply to stall"},
             {{"--fault"}, "option --fault needs a value"},
             {{"--fault-seed", "x"}, "option --fault-seed wants a number"},
             {{"--idle-timeout-ms", "0"}, "option --idle-timeout-ms wants a number from 1"},
         })
    {
        BOOST_TEST_CONTEXT(arguments.front() << " " << arguments.back())
        {
            std::vector<std::string> command{SCENARIO_LOCAL_API_PROGRAM};
            command.insert(command.end(), arguments.begin(), arguments.end());
            child_process program{command};
            BOOST_TEST(program.wait() == 1);
            BOOST_TEST(program.output_text().empty());
            auto const error = program.error_text();
            BOOST_TEST(error.starts_with("scenario-local-api: "), error);
            BOOST_TEST(error.find(culprit) != std::string::npos, error);
            BOOST_TEST(error.find("(see --help)") != std::string::npos, error);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_program_help_documents_faults_with_examples_that_parse)
{
    child_process program{{SCENARIO_LOCAL_API_PROGRAM, "--help"}};
    BOOST_TEST_REQUIRE(program.wait() == 0);
    std::string const help = program.output_text();
    for (std::string_view const option : {"--fault SPEC", "--fault-seed N", "--idle-timeout-ms N"})
        BOOST_TEST(help.find(option) != std::string::npos, option);
    for (int i = 0; i <= static_cast<int>(fault_kind::keep_alive_timeout); ++i)
    {
        auto const name = scenario::testing::fault_kind_name(static_cast<fault_kind>(i));
        BOOST_TEST(help.find(name) != std::string::npos, name);
    }

    std::size_t examples = 0;
    for (std::size_t at = help.find("--fault "); at != std::string::npos;
         at = help.find("--fault ", at + 1))
    {
        std::size_t const start = at + 8;
        std::string spec = help.substr(start, help.find_first_of(" \n", start) - start);
        if (spec == "SPEC")
            continue;
        if (spec.size() >= 2 && spec.front() == '\'' && spec.back() == '\'')
            spec = spec.substr(1, spec.size() - 2);
        BOOST_TEST_CONTEXT("example '" << spec << "'")
        {
            BOOST_CHECK_NO_THROW(scenario::testing::parse_fault_rule(spec));
        }
        ++examples;
    }
    BOOST_TEST(examples >= 5u);
}

BOOST_AUTO_TEST_SUITE_END()
