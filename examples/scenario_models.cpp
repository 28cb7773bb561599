// scenario-models: list, filter and page Scenario models from the command line.
//
//     scenario-models [list] [--public] [--tags T[,T...]] [--all | --limit N] [--page-size N]
//                     [--json]
//     scenario-models get ID [--json]
//     scenario-models describe ID [--set TEXT | --clear]
//     scenario-models tags ID [--add T]... [--delete T]... [--strict] [--json]
//     common options: --base-url URL  --ca-file PEM  --local  --insecure
//
// With no credentials and no base URL, or with --local, it starts the bundled local API in
// this process and talks to it over TLS on loopback.

#include <scenario.hpp>
#include <scenario/testing/local_api.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;

namespace {

// Exit statuses: documented in --help.
constexpr int exit_ok = 0;
constexpr int exit_usage = 1;
constexpr int exit_api = 2;
constexpr int exit_network = 3;

constexpr char const* usage_text =
    "usage:\n"
    "  scenario-models                       first 10 official and 10 third-party models\n"
    "  scenario-models list [--public] [--tags T[,T...]] [--all | --limit N]\n"
    "                       (your own models; --public for the public catalogue)\n"
    "                       [--page-size N] [--json]\n"
    "  scenario-models get ID [--json]\n"
    "  scenario-models describe ID [--set TEXT | --clear]\n"
    "  scenario-models tags ID [--add T]... [--delete T]... [--strict] [--json]\n"
    "                       adds and deletes tags (each option repeatable, one tag each),\n"
    "                       then prints the tags added and deleted; --strict asks the\n"
    "                       service to refuse the whole change unless every part applies\n"
    "common options:\n"
    "  --base-url URL   the API root (or SCENARIO_BASE_URL); default the live service\n"
    "  --ca-file PEM    an extra trust anchor (or SCENARIO_CA_FILE)\n"
    "  --local          use the bundled local API, started in this process\n"
    "  --insecure       do not verify the server's certificate (unsafe: anyone on the\n"
    "                   network path can read the traffic, credentials included)\n"
    "Options may come before or after the command.\n"
    "credentials: SCENARIO_API_KEY and SCENARIO_API_SECRET. With neither credentials nor a\n"
    "base URL, a bundled local API with a fresh catalogue is started for each run.\n"
    "exit status: 0 ok, 1 usage or configuration (options, base URL, CA file),\n"
    "             2 API error, 3 network or TLS error\n";

struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct command_line
{
    std::string command = "guide";
    std::string model_id;
    bool public_catalogue = false;
    std::string tags;
    bool all = false;
    std::optional<std::size_t> limit;
    std::optional<unsigned> page_size;
    bool json = false;
    std::optional<std::string> new_description;
    bool clear_description = false;
    std::vector<std::string> tags_to_add;
    std::vector<std::string> tags_to_delete;
    bool strict = false;
    std::string base_url;
    std::string ca_file;
    bool local = false;
    bool insecure = false;
};

std::size_t parse_count(std::string_view option, std::string_view text)
{
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0)
        throw usage_error(
            std::string(option) + " takes a positive whole number, not '" + std::string(text) +
            "'");
    return value;
}

char const* env_or_empty(char const* name)
{
    char const* value = std::getenv(name);
    return value != nullptr ? value : "";
}

command_line parse_command_line(int argc, char** argv)
{
    command_line cl;
    cl.base_url = env_or_empty("SCENARIO_BASE_URL");
    cl.ca_file = env_or_empty("SCENARIO_CA_FILE");

    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::size_t i = 0;
    auto value_of = [&](std::string_view option) -> std::string_view {
        if (i + 1 >= args.size())
            throw usage_error(std::string(option) + " needs a value");
        return args[++i];
    };
    // Options may stand anywhere; the words that are not options are the command and its id.
    std::vector<std::string_view> words;
    for (; i < args.size(); ++i)
    {
        auto arg = args[i];
        if (!arg.starts_with("--"))
            words.push_back(arg);
        else if (arg == "--public")
            cl.public_catalogue = true;
        else if (arg == "--tags")
            cl.tags = std::string(value_of(arg));
        else if (arg == "--all")
            cl.all = true;
        else if (arg == "--limit")
            cl.limit = parse_count(arg, value_of(arg));
        else if (arg == "--page-size")
            cl.page_size = static_cast<unsigned>(parse_count(arg, value_of(arg)));
        else if (arg == "--json")
            cl.json = true;
        else if (arg == "--set")
            cl.new_description = std::string(value_of(arg));
        else if (arg == "--clear")
            cl.clear_description = true;
        else if (arg == "--add")
            cl.tags_to_add.emplace_back(value_of(arg));
        else if (arg == "--delete")
            cl.tags_to_delete.emplace_back(value_of(arg));
        else if (arg == "--strict")
            cl.strict = true;
        else if (arg == "--base-url")
            cl.base_url = std::string(value_of(arg));
        else if (arg == "--ca-file")
            cl.ca_file = std::string(value_of(arg));
        else if (arg == "--local")
            cl.local = true;
        else if (arg == "--insecure")
            cl.insecure = true;
        else
            throw usage_error("unknown option '" + std::string(arg) + "'");
    }
    if (!words.empty())
    {
        cl.command = std::string(words[0]);
        if (cl.command != "list" && cl.command != "get" && cl.command != "describe" &&
            cl.command != "tags")
            throw usage_error("unknown command '" + cl.command + "'");
    }
    bool const takes_id = cl.command == "get" || cl.command == "describe" || cl.command == "tags";
    std::size_t expected_words = takes_id ? 2 : 1;
    if (cl.command != "guide" && words.size() < expected_words)
        throw usage_error(cl.command + " needs a model id");
    if (words.size() > expected_words)
        throw usage_error("unexpected argument '" + std::string(words[expected_words]) + "'");
    if (expected_words == 2)
        cl.model_id = std::string(words[1]);
    if (cl.all && cl.limit)
        throw usage_error("--all and --limit exclude each other");
    if (cl.new_description && cl.clear_description)
        throw usage_error("--set and --clear exclude each other");
    if (cl.command == "tags" && cl.tags_to_add.empty() && cl.tags_to_delete.empty())
        throw usage_error("tags needs at least one --add or --delete");
    bool const tag_options = !cl.tags_to_add.empty() || !cl.tags_to_delete.empty() || cl.strict;
    if (cl.command != "tags" && tag_options)
        throw usage_error("--add, --delete and --strict go with the tags command");
    return cl;
}

void print_model_line(scenario::model const& m)
{
    std::cout << "- " << m.name.value_or("(unnamed)") << " (ID: " << m.id << ")\n";
}

// JSON as compact as Boost.JSON writes it, but with numbers in their shortest round-trip form
// (0.8, not Boost.JSON's 8E-1), so the output reads like what the service sent.
void write_json(std::ostream& out, boost::json::value const& value)
{
    switch (value.kind())
    {
    case boost::json::kind::object:
    {
        char separator = '{';
        for (auto const& [key, member] : value.get_object())
        {
            out << separator << boost::json::serialize(boost::json::string(key)) << ':';
            write_json(out, member);
            separator = ',';
        }
        out << (separator == '{' ? "{}" : "}");
        break;
    }
    case boost::json::kind::array:
    {
        char separator = '[';
        for (auto const& element : value.get_array())
        {
            out << separator;
            write_json(out, element);
            separator = ',';
        }
        out << (separator == '[' ? "[]" : "]");
        break;
    }
    case boost::json::kind::double_:
    {
        char digits[32];
        auto end = std::to_chars(digits, digits + sizeof digits, value.get_double()).ptr;
        out.write(digits, end - digits);
        break;
    }
    default: out << boost::json::serialize(value);
    }
}

void print_model(scenario::model const& m, bool json)
{
    if (json)
    {
        write_json(std::cout, m.raw);
        std::cout << '\n';
    }
    else
    {
        print_model_line(m);
    }
}

// The API guide's example: the first official and third-party models of the catalogue.
asio::awaitable<void> show_guide(scenario::models_api models)
{
    for (char const* tag : {"sc:scenario", "sc:third-party"})
    {
        auto page = co_await models.list_public({.tags = tag, .page_size = 10});
        std::cout << "--- Found " << page.models.size() << " models for tag: " << tag << " ---\n";
        for (auto const& m : page.models)
            print_model_line(m);
    }
}

asio::awaitable<void> show_list(scenario::models_api models, command_line const& cl)
{
    scenario::list_params params{.tags = cl.tags, .page_size = cl.page_size};
    auto stream = cl.public_catalogue ? models.all_public(params) : models.all(params);
    // Without --all or --limit, one page: as many models as the page size asks for.
    std::size_t limit = cl.all ? SIZE_MAX : cl.limit.value_or(cl.page_size.value_or(100));
    for (std::size_t shown = 0; shown < limit; ++shown)
    {
        auto m = co_await stream.next();
        if (!m)
            break;
        print_model(*m, cl.json);
    }
}

asio::awaitable<void> show_model(scenario::models_api models, command_line const& cl)
{
    auto m = co_await models.get(cl.model_id);
    if (cl.json)
    {
        print_model(m, true);
        co_return;
    }
    std::cout << "id: " << m.id << "\nname: " << m.name.value_or("") << "\ntype: " << m.type
              << "\nstatus: " << m.status << "\nprivacy: " << m.privacy << "\ntags:";
    for (auto const& tag : m.tags)
        std::cout << " [" << tag << ']';
    std::cout << "\ncapabilities:";
    for (auto const& capability : m.capabilities)
        std::cout << ' ' << capability;
    std::cout << "\ncreated: " << m.created_at << "\nupdated: " << m.updated_at << '\n';
}

asio::awaitable<void> show_description(scenario::models_api models, command_line const& cl)
{
    scenario::model_description description;
    if (cl.new_description)
        description = co_await models.set_description(cl.model_id, *cl.new_description);
    else if (cl.clear_description)
        description = co_await models.delete_description(cl.model_id);
    else
        description = co_await models.get_description(cl.model_id);
    std::cout << description.value << '\n';
}

void print_tag_list(std::string_view label, std::vector<std::string> const& tags)
{
    std::cout << label << ':';
    for (auto const& tag : tags)
        std::cout << " [" << tag << ']';
    std::cout << '\n';
}

asio::awaitable<void> change_tags(scenario::models_api models, command_line const& cl)
{
    scenario::tag_changes changes{
        .add = cl.tags_to_add, .remove = cl.tags_to_delete, .strict = cl.strict};
    auto changed = co_await models.update_tags(cl.model_id, changes);
    if (cl.json)
    {
        auto const as_array = [](std::vector<std::string> const& tags) {
            boost::json::array array;
            for (auto const& tag : tags)
                array.emplace_back(std::string_view(tag));
            return array;
        };
        boost::json::object answer{
            {"added", as_array(changed.added)}, {"deleted", as_array(changed.deleted)}};
        write_json(std::cout, answer);
        std::cout << '\n';
        co_return;
    }
    print_tag_list("added", changed.added);
    print_tag_list("deleted", changed.deleted);
}

asio::awaitable<void> run(scenario::client& client, command_line const& cl)
{
    auto models = client.models();
    if (cl.command == "guide")
        co_await show_guide(models);
    else if (cl.command == "list")
        co_await show_list(models, cl);
    else if (cl.command == "get")
        co_await show_model(models, cl);
    else if (cl.command == "tags")
        co_await change_tags(models, cl);
    else
        co_await show_description(models, cl);
}

int exit_status_for(boost::system::error_code const& ec)
{
    if (ec.category() == scenario::http_category())
        return exit_api;
    if (ec.category() == scenario::client_category())
    {
        switch (static_cast<scenario::client_errc>(ec.value()))
        {
        case scenario::client_errc::invalid_argument:
        case scenario::client_errc::invalid_base_url:
        case scenario::client_errc::invalid_trust_anchor:
        case scenario::client_errc::missing_credentials: return exit_usage;
        default: return exit_api;
        }
    }
    return exit_network;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h"))
    {
        std::cout << usage_text;
        return exit_ok;
    }
    try
    {
        auto cl = parse_command_line(argc, argv);
        auto creds = scenario::credentials_from_env();
        scenario::client_options options;
        std::unique_ptr<scenario::testing::local_api> local;
        if (cl.local || (!creds && cl.base_url.empty()))
        {
            // A fresh catalogue each run: changes made by one command are gone by the next.
            local = std::make_unique<scenario::testing::local_api>();
            std::cerr << "scenario-models: "
                      << (cl.local ? "--local given" : "no credentials or base URL given")
                      << "; using the bundled local API at " << local->base_url() << '\n';
            creds = scenario::credentials{local->api_key(), local->api_secret()};
            options.base_url = local->base_url();
            options.ca_pem = local->certificate_pem();
        }
        else
        {
            if (!cl.base_url.empty())
                options.base_url = cl.base_url;
            options.ca_file = cl.ca_file;
        }
        if (cl.insecure)
        {
            std::cerr << "scenario-models: warning: --insecure turns off TLS certificate "
                         "verification; anyone on the network path can read and change this "
                         "traffic, credentials included\n";
            options.insecure_skip_certificate_verification = true;
        }
        if (!creds)
            throw scenario::error(
                scenario::client_errc::missing_credentials,
                {.message = "set SCENARIO_API_KEY and SCENARIO_API_SECRET, or pass --local"});

        asio::io_context io;
        scenario::client client(io, *creds, options);
        std::exception_ptr failure;
        asio::co_spawn(io, run(client, cl), [&](std::exception_ptr e) { failure = e; });
        io.run();
        if (failure)
            std::rethrow_exception(failure);
        return exit_ok;
    }
    catch (usage_error const& e)
    {
        std::cerr << "scenario-models: " << e.what() << "\n" << usage_text;
        return exit_usage;
    }
    catch (scenario::error const& e)
    {
        std::cerr << e.what() << '\n';
        return exit_status_for(e.code());
    }
    catch (boost::system::system_error const& e)
    {
        std::cerr << "scenario-models: " << e.what() << '\n';
        return exit_status_for(e.code());
    }
    catch (std::exception const& e)
    {
        std::cerr << "scenario-models: " << e.what() << '\n';
        return exit_network;
    }
}
