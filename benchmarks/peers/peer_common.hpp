// What the C++ benchmark programs share: the command line every client takes, the model ids to
// fetch, the clocks, and the one JSON line of results. See benchmarks/README.md.

#ifndef SCENARIO_BENCHMARKS_PEER_COMMON_HPP
#define SCENARIO_BENCHMARKS_PEER_COMMON_HPP

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

/// Exit status of a client asked for a variant it does not have (the runner reports n/a).
constexpr int exit_unsupported = 4;

/// The command line shared by every client:
///     --base-url URL --ca-file PEM --key K --secret S --workload get|pages
///     --concurrency N --pool N --count N [--page-size N] [--ids FILE]
///     [--consume-ms N] [--prefetch 0|1]
struct peer_options
{
    std::string base_url; ///< https://127.0.0.1:PORT/v1
    std::string ca_file;
    std::string key;
    std::string secret;
    std::string workload = "get";
    std::size_t concurrency = 64;
    std::size_t pool = 16;
    std::size_t count = 20000; ///< GETs, or models to stream
    unsigned page_size = 100;
    std::string ids_file;                 ///< the model ids the GETs cycle through, one a line
    std::chrono::milliseconds consume{0}; ///< awaited by the consumer after each page
    bool prefetch = false;                ///< fetch the next page while the consumer is busy
};

inline std::size_t parse_count(std::string_view name, std::string_view text)
{
    std::size_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size())
        throw std::invalid_argument(
            std::string(name) + " wants a number, not '" + std::string(text) + "'");
    return value;
}

/// Reads the shared command line; throws std::invalid_argument naming what is wrong.
inline peer_options parse_options(int argc, char** argv)
{
    peer_options options;
    for (int i = 1; i < argc; i += 2)
    {
        std::string_view const name = argv[i];
        if (i + 1 >= argc)
            throw std::invalid_argument(std::string(name) + " needs a value");
        std::string_view const value = argv[i + 1];

        if (name == "--base-url")
            options.base_url = value;
        else if (name == "--ca-file")
            options.ca_file = value;
        else if (name == "--key")
            options.key = value;
        else if (name == "--secret")
            options.secret = value;
        else if (name == "--workload")
            options.workload = value;
        else if (name == "--concurrency")
            options.concurrency = std::max<std::size_t>(1, parse_count(name, value));
        else if (name == "--pool")
            options.pool = std::max<std::size_t>(1, parse_count(name, value));
        else if (name == "--count")
            options.count = parse_count(name, value);
        else if (name == "--page-size")
            options.page_size = static_cast<unsigned>(parse_count(name, value));
        else if (name == "--ids")
            options.ids_file = value;
        else if (name == "--consume-ms")
            options.consume = std::chrono::milliseconds(parse_count(name, value));
        else if (name == "--prefetch")
            options.prefetch = parse_count(name, value) != 0;
        else
            throw std::invalid_argument("unknown option '" + std::string(name) + "'");
    }
    if (options.base_url.empty() || options.key.empty() || options.secret.empty())
        throw std::invalid_argument("--base-url, --key and --secret are required");
    if (options.workload != "get" && options.workload != "pages")
        throw std::invalid_argument("--workload is get or pages");
    if (options.workload == "get" && options.ids_file.empty())
        throw std::invalid_argument("the get workload needs --ids");
    return options;
}

/// The model ids of `path`, one a line.
inline std::vector<std::string> read_ids(std::string const& path)
{
    std::ifstream in(path);
    std::vector<std::string> ids;
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            ids.push_back(line);
    if (ids.empty())
        throw std::invalid_argument("no model ids in '" + path + "'");
    return ids;
}

/// `text` percent-encoded as one path segment or query value (RFC 3986 unreserved kept).
inline std::string percent_encode(std::string_view text)
{
    constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text)
    {
        bool const unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved)
        {
            out += static_cast<char>(c);
            continue;
        }
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

/// User plus system CPU time of this process, all threads, in seconds.
inline double cpu_seconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

using clock = std::chrono::steady_clock;

/// What a client measured over its workload, start-up excluded.
struct results
{
    std::size_t requests = 0;   ///< successful responses
    std::size_t errors = 0;     ///< failed requests
    std::size_t models = 0;     ///< models streamed (pages workload)
    std::size_t pages = 0;      ///< pages received (pages workload)
    std::size_t handshakes = 0; ///< TLS connections the client opened
    std::size_t checksum = 0;   ///< sum of the ids' lengths, the same for every client
    std::vector<double> latencies_ms;
    std::string first_error;

    clock::time_point started = clock::now();
    double cpu_started = cpu_seconds();
    double wall_s = 0;
    double cpu_s = 0;

    /// Restarts both clocks: call it when the workload begins.
    void start()
    {
        started = clock::now();
        cpu_started = cpu_seconds();
    }

    /// Stops both clocks: call it when the workload is over.
    void stop()
    {
        wall_s = std::chrono::duration<double>(clock::now() - started).count();
        cpu_s = cpu_seconds() - cpu_started;
    }

    void add_latency(clock::duration d)
    {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(d).count());
    }

    void add_error(std::string_view what)
    {
        if (errors++ == 0)
            first_error = what;
    }
};

/// The nearest-rank percentile `p` (0 to 100) of `values`, which it sorts; 0 when empty.
inline double percentile(std::vector<double>& values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    auto const rank = static_cast<std::size_t>(p / 100 * double(values.size()));
    return values[std::min(rank, values.size() - 1)];
}

/// Prints the results as one JSON line on standard output, the first error on standard error.
inline void print_results(std::string_view client, peer_options const& options, results& r)
{
    boost::json::object line{
        {"client", client},
        {"workload", options.workload},
        {"concurrency", options.concurrency},
        {"pool", options.pool},
        {"consume_ms", options.consume.count()},
        {"prefetch", options.prefetch},
        {"requests", r.requests},
        {"errors", r.errors},
        {"models", r.models},
        {"pages", r.pages},
        {"handshakes", r.handshakes},
        {"checksum", r.checksum},
        {"wall_s", r.wall_s},
        {"cpu_s", r.cpu_s},
        {"p50_ms", percentile(r.latencies_ms, 50)},
        {"p99_ms", percentile(r.latencies_ms, 99)},
    };
    std::cout << boost::json::serialize(line) << std::endl;
    if (r.errors > 0)
        std::cerr << client << ": " << r.errors << " errors; the first: " << r.first_error << '\n';
}

} // namespace bench

#endif // SCENARIO_BENCHMARKS_PEER_COMMON_HPP
