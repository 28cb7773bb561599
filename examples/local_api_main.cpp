// scenario-local-api: runs the bundled Scenario-compatible HTTPS server on loopback until
// SIGINT or SIGTERM, for the demo, for manual tests with curl, and for benchmarks.

#include <scenario/testing/fault_spec.hpp>
#include <scenario/testing/local_api.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view program = "scenario-local-api";

constexpr std::string_view usage = R"(Usage: scenario-local-api [options]

Runs a local Scenario-compatible HTTPS API on 127.0.0.1 until interrupted (SIGINT, SIGTERM).
Prints "base_url=<URL>" on the first line of standard output, then "ca_file=<path>": the
self-signed certificate, generated at start-up, that clients must trust.

Options:
  --port N             port to listen on (default 0: any free port)
  --key K              API key clients must send (default local-key)
  --secret S           API secret clients must send (default local-secret)
  --public-models N    size of the public catalogue (default 1500)
  --private-models N   number of the account's own models (default 40)
  --ca-out FILE        where to write the certificate (default scenario-local-api.pem)
  --idle-timeout-ms N  close keep-alive connections idle this long (default 30000)
  --require-sni NAME   refuse TLS handshakes that do not name this server (SNI)
  --fault SPEC         inject a fault; repeatable, the first rule that hits a request wins
  --fault-seed N       seed of the draws of share= (default 1): same seed, same requests hit
  --help               show this help

Fault specs: KIND[@PARAMETER=VALUE,...]
  Kinds:
    429 | too-many-requests       429 with Retry-After: N (seconds)
    429-date | too-many-requests-date
                                  429 with Retry-After as an HTTP-date N seconds ahead
    429-body | too-many-requests-body
                                  429 without Retry-After, "remainingSeconds": N in the body
    500 | internal-error, 502 | bad-gateway, 503 | service-unavailable
                                  that status, {"reason": ...} body, connection kept
    close-after-response          the answer, then TCP close without TLS close_notify
    reset-mid-headers             half the status line and headers, then TCP reset
    reset-mid-body                the headers and half the body, then TCP reset
    stall                         nothing for delay-ms, then the answer
    truncated-body                the headers and half the body, then close_notify
    oversized-body                a 200 of valid JSON padded to bytes= bytes
    connection-close              the answer with Connection: close, then close_notify
    keep-alive-timeout            the answer with Keep-Alive: timeout=N, then the
                                  connection is closed (no close_notify) after N s idle
  Which requests (numbered from 1 per rule); without any of the first three, all of them:
    every=N                       every Nth request
    sequence=N;N;...              the requests with these numbers (N+N+... also works,
                                  and needs no quotes in a shell)
    share=P                       each request with probability P (0 to 1), see --fault-seed
    limit=N                       at most N hits
    path=/PREFIX                  only requests whose path starts with /PREFIX
  The fault's own parameter:
    retry-after=N                 seconds, for the 429 kinds (default 1)
    delay-ms=N                    for stall (default 200)
    timeout=N                     seconds, for keep-alive-timeout (default 1)
    bytes=N                       for oversized-body (default 33554432)

Examples:
  curl --cacert scenario-local-api.pem -u local-key:local-secret \
      "https://127.0.0.1:PORT/v1/models?privacy=public&pageSize=2"
  scenario-local-api --fault 503@every=3
  scenario-local-api --fault 429@share=0.1,retry-after=1 --fault-seed 7
  scenario-local-api --fault 'stall@sequence=1;2;5,delay-ms=300'
  scenario-local-api --fault reset-mid-body@share=0.05,path=/v1/models/
  scenario-local-api --fault close-after-response@every=1 --fault 502@limit=3
)";

/// What the command line asks for.
struct command_line
{
    scenario::testing::local_api_options options;
    std::string ca_out = "scenario-local-api.pem";
    bool help = false;
};

/// A command line that cannot be obeyed; the message names the culprit.
struct bad_command_line
{
    std::string message;
};

template <class Number>
Number parse_number(
    std::string_view option, std::string_view text, Number maximum, Number minimum = 0)
{
    Number value{};
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
        value > maximum || value < minimum)
    {
        throw bad_command_line{
            "option " + std::string(option) + " wants a number from " + std::to_string(minimum) +
            " to " + std::to_string(maximum) + ", not '" + std::string(text) + "'"};
    }
    return value;
}

scenario::testing::fault_rule parse_fault(std::string_view spec)
{
    try
    {
        return scenario::testing::parse_fault_rule(spec);
    }
    catch (std::invalid_argument const& failure)
    {
        throw bad_command_line{"option --fault: " + std::string(failure.what())};
    }
}

command_line parse_command_line(int argc, char** argv)
{
    command_line result;
    for (int i = 1; i < argc; ++i)
    {
        std::string_view argument = argv[i];
        if (argument == "--help" || argument == "-h")
        {
            result.help = true;
            continue;
        }

        // Both "--port 8443" and "--port=8443".
        std::string_view name = argument;
        std::optional<std::string_view> value;
        if (auto const equals = argument.find('=');
            argument.starts_with("--") && equals != std::string_view::npos)
        {
            name = argument.substr(0, equals);
            value = argument.substr(equals + 1);
        }

        bool const known = name == "--port" || name == "--key" || name == "--secret" ||
                           name == "--public-models" || name == "--private-models" ||
                           name == "--ca-out" || name == "--idle-timeout-ms" || name == "--fault" ||
                           name == "--fault-seed" || name == "--require-sni";
        if (!known)
            throw bad_command_line{"unknown option '" + std::string(argument) + "'"};
        if (!value)
        {
            if (i + 1 >= argc)
                throw bad_command_line{"option " + std::string(name) + " needs a value"};
            value = argv[++i];
        }

        auto& options = result.options;
        constexpr std::size_t catalogue_limit = 10'000'000;
        constexpr std::size_t longest_idle_ms = 24 * 60 * 60 * 1000;
        if (name == "--port")
            options.port = parse_number<std::uint16_t>(name, *value, 65535);
        else if (name == "--public-models")
            options.public_models = parse_number<std::size_t>(name, *value, catalogue_limit);
        else if (name == "--private-models")
            options.private_models = parse_number<std::size_t>(name, *value, catalogue_limit);
        else if (name == "--idle-timeout-ms")
            options.idle_timeout = std::chrono::milliseconds(
                parse_number<std::size_t>(name, *value, longest_idle_ms, 1));
        else if (name == "--fault-seed")
            options.faults.seed = parse_number<std::uint64_t>(
                name, *value, std::numeric_limits<std::uint64_t>::max());
        else if (name == "--fault")
            options.faults.rules.push_back(parse_fault(*value));
        else if (value->empty())
            throw bad_command_line{"option " + std::string(name) + " needs a non-empty value"};
        else if (name == "--key")
            options.api_key = *value;
        else if (name == "--require-sni")
            options.required_server_name = *value;
        else if (name == "--secret")
            options.api_secret = *value;
        else
            result.ca_out = *value;
    }
    return result;
}

} // namespace

int main(int argc, char** argv)
{
    command_line command;
    try
    {
        command = parse_command_line(argc, argv);
    }
    catch (bad_command_line const& failure)
    {
        std::cerr << program << ": " << failure.message << " (see --help)\n";
        return 1;
    }
    if (command.help)
    {
        std::cout << usage;
        return 0;
    }

    try
    {
        // Listening for the signals before the server starts, so that one sent while the
        // catalogue is being built still ends the program cleanly.
        boost::asio::io_context signals_context;
        boost::asio::signal_set signals{signals_context, SIGINT, SIGTERM};
        signals.async_wait([](boost::system::error_code, int) {});

        scenario::testing::local_api api{command.options};

        std::ofstream ca_file{command.ca_out, std::ios::binary | std::ios::trunc};
        ca_file << api.certificate_pem();
        ca_file.close();
        if (!ca_file)
        {
            std::cerr << program << ": cannot write the certificate to " << command.ca_out << '\n';
            return 1;
        }

        auto const& faults = command.options.faults;
        if (!faults.rules.empty())
        {
            std::cerr << program << ": injecting faults (" << faults.rules.size()
                      << (faults.rules.size() == 1 ? " rule" : " rules") << ", seed " << faults.seed
                      << ")\n";
        }

        std::cout << "base_url=" << api.base_url() << std::endl;
        std::cout << "ca_file=" << std::filesystem::absolute(command.ca_out).string() << std::endl;

        signals_context.run();
        api.stop();
        return 0;
    }
    catch (std::exception const& failure)
    {
        std::cerr << program << ": cannot run the local API: " << failure.what() << '\n';
        return 1;
    }
}
