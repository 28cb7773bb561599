// raw_beast_peer: the benchmark requests over Beast and Boost.JSON with no library layer, as a
// careful user would write them: a pool of keep-alive TLS connections handed out in arrival
// order, a 64 KiB read buffer per connection, each body parsed with boost::json::parse.
//
//     raw_beast_peer --base-url URL --ca-file PEM --key K --secret S --workload get|pages
//                    --concurrency N --pool N --count N [--page-size N] [--ids FILE]
//                    [--consume-ms N] [--prefetch 0|1]

#include "peer_common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <openssl/evp.h>

#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using asio::use_awaitable;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view client_name = "raw-beast";
constexpr std::size_t read_buffer_size = 64 * 1024;

struct connection
{
    connection(asio::any_io_executor executor, ssl::context& tls)
        : stream(std::move(executor), tls)
    {
        buffer.reserve(read_buffer_size);
    }

    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    bool open = false;
};

/// Where the API lives: the host to connect to and verify, and the path the targets start with.
struct origin
{
    std::string host;
    std::string port;
    std::string path; ///< "/v1"
};

origin parse_origin(std::string const& base_url)
{
    auto const url = boost::urls::parse_uri(base_url).value();
    return {
        std::string(url.host_address()), url.has_port() ? std::string(url.port()) : "443",
        std::string(url.encoded_path())};
}

/// At most `size` keep-alive connections: an idle one if any, else a new one while under the
/// bound, else callers wait in arrival order for one to come back.
class connection_pool
{
public:
    connection_pool(asio::io_context& io, ssl::context& tls, origin const& where, std::size_t size)
        : executor_(io.get_executor())
        , tls_(tls)
        , host_(where.host)
        , size_(size)
        , idle_(io, size)
    {
        asio::ip::tcp::resolver resolver(io);
        endpoints_ = resolver.resolve(where.host, where.port);
    }

    asio::awaitable<connection*> acquire()
    {
        connection* conn = nullptr;
        if (!idle_.try_receive([&](error_code, connection* idle) { conn = idle; }))
        {
            if (connections_.size() < size_)
                conn = connections_.emplace_back(new_connection()).get();
            else
                conn = co_await idle_.async_receive(use_awaitable);
        }
        if (!conn->open)
        {
            try
            {
                co_await open(*conn);
            }
            catch (...)
            {
                replace(conn);
                throw;
            }
        }
        co_return conn;
    }

    /// Lends `conn` again, after a complete response on a connection kept alive.
    void release(connection* conn)
    {
        idle_.try_send(error_code{}, conn);
    }

    /// Closes `conn` and lends a new one, opened when first used, in its place.
    void replace(connection* conn)
    {
        for (auto& owned : connections_)
        {
            if (owned.get() == conn)
            {
                owned = new_connection();
                idle_.try_send(error_code{}, owned.get());
            }
        }
    }

    std::string const& host() const noexcept
    {
        return host_;
    }

    std::size_t handshakes() const noexcept
    {
        return handshakes_;
    }

private:
    std::unique_ptr<connection> new_connection()
    {
        return std::make_unique<connection>(executor_, tls_);
    }

    asio::awaitable<void> open(connection& conn)
    {
        auto& tcp = beast::get_lowest_layer(conn.stream);
        co_await tcp.async_connect(endpoints_, use_awaitable);
        tcp.socket().set_option(asio::ip::tcp::no_delay(true));

        error_code ec;
        asio::ip::make_address(host_, ec);
        if (ec) // SNI names hosts, never IP addresses
            SSL_set_tlsext_host_name(conn.stream.native_handle(), host_.c_str());
        conn.stream.set_verify_callback(ssl::host_name_verification(host_));
        co_await conn.stream.async_handshake(ssl::stream_base::client, use_awaitable);
        conn.open = true;
        ++handshakes_;
    }

    asio::any_io_executor executor_;
    ssl::context& tls_;
    std::string host_;
    std::size_t size_;
    asio::ip::tcp::resolver::results_type endpoints_;
    std::vector<std::unique_ptr<connection>> connections_;
    asio::experimental::channel<void(error_code, connection*)> idle_;
    std::size_t handshakes_ = 0;
};

std::string basic_authorization(std::string const& key, std::string const& secret)
{
    std::string const plain = key + ':' + secret;
    std::string encoded(4 * ((plain.size() + 2) / 3), '\0');
    EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(encoded.data()),
        reinterpret_cast<unsigned char const*>(plain.data()), static_cast<int>(plain.size()));
    return "Basic " + encoded;
}

/// The requests of one run: what every GET shares, and the pool they go through.
struct api
{
    connection_pool& pool;
    std::string path;
    std::string authorization;

    /// GET `target` and its body parsed; throws on a failure or a status other than 2xx.
    asio::awaitable<json::value> get_json(std::string target)
    {
        http::request<http::empty_body> request{http::verb::get, target, 11};
        request.set(http::field::host, pool.host());
        request.set(http::field::authorization, authorization);
        request.set(http::field::accept, "application/json");
        request.set(http::field::user_agent, "raw-beast-peer");

        auto* conn = co_await pool.acquire();
        http::response<http::string_body> response;
        try
        {
            co_await http::async_write(conn->stream, request, use_awaitable);
            co_await http::async_read(conn->stream, conn->buffer, response, use_awaitable);
        }
        catch (...)
        {
            pool.replace(conn);
            throw;
        }
        if (response.keep_alive())
            pool.release(conn);
        else
            pool.replace(conn);

        if (response.result_int() / 100 != 2)
            throw std::runtime_error("HTTP " + std::to_string(response.result_int()));
        co_return json::parse(response.body());
    }

    std::string page_target(unsigned page_size, std::string const& token) const
    {
        auto target = path + "/models/public?pageSize=" + std::to_string(page_size);
        if (!token.empty())
            target += "&paginationToken=" + bench::percent_encode(token);
        return target;
    }
};

asio::awaitable<void> get_models(
    api& service, bench::peer_options const& options, std::vector<std::string> const& targets,
    std::size_t& started, bench::results& results)
{
    while (started < options.count)
    {
        auto const& target = targets[started++ % targets.size()];
        auto const start = bench::clock::now();
        try
        {
            auto const body = co_await service.get_json(target);
            results.checksum += body.at("model").at("id").as_string().size();
            ++results.requests;
        }
        catch (std::exception const& failure)
        {
            results.add_error(failure.what());
        }
        results.add_latency(bench::clock::now() - start);
    }
}

/// Takes the models of `page` until `count`; returns the next page's target, or an empty string
/// when the run is over.
std::string take_models(
    api const& service, json::value const& page, bench::peer_options const& options,
    bench::results& results)
{
    ++results.pages;
    ++results.requests;
    auto const& body = page.as_object();
    for (auto const& model : body.at("models").as_array())
    {
        if (results.models == options.count)
            break;
        ++results.models;
        results.checksum += model.at("id").as_string().size();
    }

    auto const* token = body.if_contains("nextPaginationToken");
    if (results.models == options.count || !token || !token->is_string() ||
        token->as_string().empty())
        return {};
    return service.page_target(options.page_size, std::string(token->as_string()));
}

/// Pages one after the other; with `consume`, the consumer then waits that long on each, and
/// with `prefetch` the next page is asked for before it starts.
asio::awaitable<void> stream_pages(
    api& service, bench::peer_options const& options, bench::results& results)
{
    auto const executor = co_await asio::this_coro::executor;
    asio::steady_timer consumer(executor);

    // A page asked for while the consumer works arrives here, with what went wrong if anything.
    asio::experimental::channel<void(error_code, json::value)> prefetched(executor, 1);
    std::exception_ptr prefetch_failure;
    auto on_prefetched = [&](std::exception_ptr failure, json::value next) {
        prefetch_failure = failure;
        prefetched.try_send(error_code{}, std::move(next));
    };

    auto const first = service.page_target(options.page_size, {});
    auto start = bench::clock::now();
    auto page = co_await service.get_json(first);
    while (true)
    {
        results.add_latency(bench::clock::now() - start);
        auto target = take_models(service, page, options, results);

        bool const prefetching = !target.empty() && options.prefetch;
        if (prefetching)
            asio::co_spawn(executor, service.get_json(target), on_prefetched);
        if (options.consume.count() > 0)
        {
            consumer.expires_after(options.consume);
            co_await consumer.async_wait(use_awaitable);
        }
        if (target.empty())
            co_return;

        start = bench::clock::now();
        if (!prefetching)
        {
            page = co_await service.get_json(std::move(target));
            continue;
        }
        page = co_await prefetched.async_receive(use_awaitable);
        if (prefetch_failure)
            std::rethrow_exception(prefetch_failure);
    }
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        auto const options = bench::parse_options(argc, argv);
        auto const where = parse_origin(options.base_url);

        asio::io_context io(1);
        ssl::context tls(ssl::context::tls_client);
        tls.set_default_verify_paths();
        if (!options.ca_file.empty())
            tls.load_verify_file(options.ca_file);
        tls.set_verify_mode(ssl::verify_peer);

        connection_pool pool(io, tls, where, options.pool);
        api service{pool, where.path, basic_authorization(options.key, options.secret)};
        std::vector<std::string> targets;
        if (options.workload == "get")
            for (auto const& id : bench::read_ids(options.ids_file))
                targets.push_back(where.path + "/models/" + bench::percent_encode(id));

        std::exception_ptr failure;
        auto remember = [&](std::exception_ptr e) {
            if (e && !failure)
                failure = e;
        };
        bench::results results;
        std::size_t started = 0;
        results.start();
        if (options.workload == "get")
        {
            for (std::size_t i = 0; i < options.concurrency; ++i)
                asio::co_spawn(
                    io, get_models(service, options, targets, started, results), remember);
        }
        else
            asio::co_spawn(io, stream_pages(service, options, results), remember);
        io.run();
        results.stop();
        if (failure)
            std::rethrow_exception(failure);

        results.handshakes = pool.handshakes();
        bench::print_results(client_name, options, results);
        return results.errors == 0 ? 0 : 2;
    }
    catch (std::exception const& failure)
    {
        std::cerr << client_name << ": " << failure.what() << '\n';
        return 2;
    }
}
