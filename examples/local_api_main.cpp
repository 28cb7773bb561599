// scenario-local-api: runs the bundled Scenario-compatible HTTPS server on loopback until
// SIGINT or SIGTERM, for the demo, for manual tests with curl, and for benchmarks.

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
  --help               show this help

Example:
  curl --cacert scenario-local-api.pem -u local-key:local-secret \
      "https://127.0.0.1:PORT/v1/models?privacy=public&pageSize=2"
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
Number parse_number(std::string_view option, std::string_view text, Number maximum)
{
    Number value{};
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value > maximum)
    {
        throw bad_command_line{
            "option " + std::string(option) + " wants a number from 0 to " +
            std::to_string(maximum) + ", not '" + std::string(text) + "'"};
    }
    return value;
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
                           name == "--ca-out";
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
        if (name == "--port")
            options.port = parse_number<std::uint16_t>(name, *value, 65535);
        else if (name == "--public-models")
            options.public_models = parse_number<std::size_t>(name, *value, catalogue_limit);
        else if (name == "--private-models")
            options.private_models = parse_number<std::size_t>(name, *value, catalogue_limit);
        else if (value->empty())
            throw bad_command_line{"option " + std::string(name) + " needs a non-empty value"};
        else if (name == "--key")
            options.api_key = *value;
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
