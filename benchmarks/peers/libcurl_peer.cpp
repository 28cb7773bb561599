// libcurl_peer: the benchmark requests through libcurl's multi interface, each body parsed with
// boost::json::parse. Keep-alive connections live in the multi handle's cache, at most --pool
// of them; transfers beyond wait in libcurl's queue. Easy handles are reused, and so are their
// body buffers.
//
//     libcurl_peer --base-url URL --ca-file PEM --key K --secret S --workload get|pages
//                  --concurrency N --pool N --count N [--page-size N] [--ids FILE]
//                  [--consume-ms N] [--prefetch 0|1]

#include "peer_common.hpp"

#include <boost/json/parse.hpp>

#include <curl/curl.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;

namespace {

constexpr std::string_view client_name = "libcurl-multi";

/// One easy handle and the response it is receiving.
struct transfer
{
    CURL* easy = nullptr;
    std::string body;
    bench::clock::time_point started;
    bool done = false;
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user)
{
    static_cast<transfer*>(user)->body.append(data, size * count);
    return size * count;
}

/// A multi handle with its connection cache and the transfers it drives.
class multi_session
{
public:
    explicit multi_session(bench::peer_options const& options)
        : options_(options)
        , multi_(curl_multi_init())
        , user_password_(options.key + ':' + options.secret)
    {
        auto const pool = static_cast<long>(options.pool);
        curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, pool);
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, pool);
        headers_ = curl_slist_append(headers_, "Accept: application/json");
    }

    multi_session(multi_session const&) = delete;
    multi_session& operator=(multi_session const&) = delete;

    ~multi_session()
    {
        for (auto& t : transfers_)
        {
            curl_multi_remove_handle(multi_, t->easy);
            curl_easy_cleanup(t->easy);
        }
        curl_multi_cleanup(multi_);
        curl_slist_free_all(headers_);
    }

    /// A transfer of this session, set up for every request it will make.
    transfer& make_transfer()
    {
        auto& t = *transfers_.emplace_back(std::make_unique<transfer>());
        t.easy = curl_easy_init();
        curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
        curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, append_body);
        curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(t.easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(t.easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(t.easy, CURLOPT_USERPWD, user_password_.c_str());
        curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, headers_);
        curl_easy_setopt(t.easy, CURLOPT_USERAGENT, "libcurl-peer");
        curl_easy_setopt(t.easy, CURLOPT_BUFFERSIZE, 64L * 1024);
        if (!options_.ca_file.empty())
            curl_easy_setopt(t.easy, CURLOPT_CAINFO, options_.ca_file.c_str());
        return t;
    }

    void start(transfer& t, std::string const& url)
    {
        curl_easy_setopt(t.easy, CURLOPT_URL, url.c_str());
        t.body.clear();
        t.done = false;
        t.started = bench::clock::now();
        curl_multi_add_handle(multi_, t.easy);
        ++in_flight_;
    }

    /// Moves the transfers on, then waits at most `timeout` for the network if any are left,
    /// and hands each one that ends to `on_done(transfer&, bool ok)`; a failure also goes to
    /// `results`.
    template <class OnDone>
    void step(std::chrono::milliseconds timeout, bench::results& results, OnDone&& on_done)
    {
        int running = 0;
        curl_multi_perform(multi_, &running);
        int left = 0;
        while (CURLMsg* message = curl_multi_info_read(multi_, &left))
        {
            if (message->msg != CURLMSG_DONE)
                continue;
            transfer* t = nullptr;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &t);
            CURLcode const code = message->data.result;
            curl_multi_remove_handle(multi_, t->easy);
            --in_flight_;
            t->done = true;

            long connects = 0;
            long status = 0;
            curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
            handshakes_ += static_cast<std::size_t>(connects);
            if (code != CURLE_OK)
                results.add_error(curl_easy_strerror(code));
            else if (status / 100 != 2)
                results.add_error("HTTP " + std::to_string(status));
            on_done(*t, code == CURLE_OK && status / 100 == 2);
        }
        if (in_flight_ > 0)
            curl_multi_poll(multi_, nullptr, 0, static_cast<int>(timeout.count()), nullptr);
    }

    std::size_t in_flight() const noexcept
    {
        return in_flight_;
    }

    std::size_t handshakes() const noexcept
    {
        return handshakes_;
    }

private:
    bench::peer_options const& options_;
    CURLM* multi_;
    std::string user_password_;
    curl_slist* headers_ = nullptr;
    std::vector<std::unique_ptr<transfer>> transfers_;
    std::size_t in_flight_ = 0;
    std::size_t handshakes_ = 0;
};

void get_models(
    multi_session& session, bench::peer_options const& options,
    std::vector<std::string> const& urls, bench::results& results)
{
    std::size_t started = 0;
    for (std::size_t i = 0; i < options.concurrency && started < options.count; ++i)
        session.start(session.make_transfer(), urls[started++ % urls.size()]);

    // Each transfer that ends starts the next request, as long as there are some left.
    auto on_done = [&](transfer& t, bool ok) {
        if (ok)
        {
            auto const body = json::parse(t.body);
            results.checksum += body.at("model").at("id").as_string().size();
            ++results.requests;
        }
        results.add_latency(bench::clock::now() - t.started);
        if (started < options.count)
            session.start(t, urls[started++ % urls.size()]);
    };
    while (session.in_flight() > 0)
        session.step(std::chrono::seconds(1), results, on_done);
}

std::string page_url(bench::peer_options const& options, std::string_view token)
{
    auto url = options.base_url + "/models/public?pageSize=" + std::to_string(options.page_size);
    if (!token.empty())
        url += "&paginationToken=" + bench::percent_encode(token);
    return url;
}

/// Pages one after the other; with `consume`, the consumer then waits that long on each, and
/// with `prefetch` the next page is asked for before it starts.
void stream_pages(
    multi_session& session, bench::peer_options const& options, bench::results& results)
{
    auto& page = session.make_transfer();
    std::optional<json::value> arrived;
    auto on_done = [&](transfer& t, bool ok) {
        if (ok)
            arrived = json::parse(t.body);
    };

    session.start(page, page_url(options, {}));
    auto waiting_since = page.started;
    while (true)
    {
        while (!page.done)
            session.step(std::chrono::seconds(1), results, on_done);
        if (!arrived)
            throw std::runtime_error(results.first_error);
        results.add_latency(bench::clock::now() - waiting_since);
        ++results.pages;
        ++results.requests;
        auto const body = std::move(*arrived);
        arrived.reset();

        for (auto const& model : body.at("models").as_array())
        {
            if (results.models == options.count)
                break;
            ++results.models;
            results.checksum += model.at("id").as_string().size();
        }
        auto const* token = body.as_object().if_contains("nextPaginationToken");
        bool const more = results.models < options.count && token && token->is_string() &&
                          !token->as_string().empty();
        auto const url = more ? page_url(options, token->as_string()) : std::string();

        if (more && options.prefetch)
            session.start(page, url);
        // The consumer's time passes while libcurl moves a prefetched page on.
        auto const consumed = bench::clock::now() + options.consume;
        for (auto now = bench::clock::now(); now < consumed; now = bench::clock::now())
        {
            if (session.in_flight() == 0)
                std::this_thread::sleep_until(consumed);
            else
                session.step(
                    std::chrono::ceil<std::chrono::milliseconds>(consumed - now), results, on_done);
        }
        if (!more)
            return;
        if (!options.prefetch)
            session.start(page, url);
        waiting_since = bench::clock::now();
    }
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        auto const options = bench::parse_options(argc, argv);
        std::vector<std::string> urls;
        if (options.workload == "get")
            for (auto const& id : bench::read_ids(options.ids_file))
                urls.push_back(options.base_url + "/models/" + bench::percent_encode(id));

        curl_global_init(CURL_GLOBAL_DEFAULT);
        bench::results results;
        {
            multi_session session(options);
            results.start();
            if (options.workload == "get")
                get_models(session, options, urls, results);
            else
                stream_pages(session, options, results);
            results.stop();
            results.handshakes = session.handshakes();
        }
        curl_global_cleanup();
        bench::print_results(client_name, options, results);
        return results.errors == 0 ? 0 : 2;
    }
    catch (std::exception const& failure)
    {
        std::cerr << client_name << ": " << failure.what() << '\n';
        return 2;
    }
}
