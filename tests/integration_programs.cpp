// The programs a newcomer runs: the CLI and the README example, as separate processes.
#include "support/local_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>

using namespace scenario_tests;

namespace {

struct process_result
{
    int status = -1;
    std::string out;
    std::string err;
};

std::string read_file(std::filesystem::path const& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string quoted(std::string const& text)
{
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class scratch_dir
{
public:
    scratch_dir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "scenario-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~scratch_dir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::filesystem::path const& path() const
    {
        return path_;
    }

private:
    std::filesystem::path path_;
};

// Runs a program with exactly the scenario variables given (others of the caller's unset).
process_result run_program(
    std::string const& program, std::vector<std::string> const& args,
    std::vector<std::pair<std::string, std::string>> const& env = {})
{
    scratch_dir dir;
    std::string command = "env -u SCENARIO_API_KEY -u SCENARIO_API_SECRET -u SCENARIO_BASE_URL "
                          "-u SCENARIO_CA_FILE -u SCENARIO_SDK_API_KEY -u SCENARIO_SDK_API_SECRET";
    for (auto const& [key, value] : env)
        command += " " + key + "=" + quoted(value);
    command += " " + quoted(program);
    for (auto const& arg : args)
        command += " " + quoted(arg);
    command += " >" + quoted((dir.path() / "out").string()) + " 2>" +
               quoted((dir.path() / "err").string()) + " </dev/null";
    int raw = std::system(command.c_str());
    process_result result;
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_file(dir.path() / "out");
    result.err = read_file(dir.path() / "err");
    return result;
}

std::vector<std::string> lines_of(std::string const& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// The variables that point a program at the shared local API, with its CA in a file.
struct local_environment
{
    scratch_dir dir;
    std::vector<std::pair<std::string, std::string>> env;

    explicit local_environment(scenario::testing::local_api& api = shared_api())
    {
        auto ca = dir.path() / "ca.pem";
        std::ofstream(ca) << api.certificate_pem();
        env = {
            {"SCENARIO_API_KEY", api.api_key()},
            {"SCENARIO_API_SECRET", api.api_secret()},
            {"SCENARIO_BASE_URL", api.base_url()},
            {"SCENARIO_CA_FILE", ca.string()}};
    }
};

std::size_t public_count_with_tag(std::string_view tag)
{
    std::size_t n = 0;
    for (auto const& row : shared_api().public_catalogue())
        for (auto const& t : row.at("tags").as_array())
            n += t.as_string() == tag;
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(programs)

BOOST_AUTO_TEST_CASE(the_cli_with_nothing_set_lists_both_tags_from_the_embedded_api)
{
    auto r = run_program(SCENARIO_MODELS_PROGRAM, {});
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(r.err.find("local API") != std::string::npos, r.err);
    auto lines = lines_of(r.out);
    BOOST_TEST_REQUIRE(lines.size() == 22u, r.out);
    BOOST_TEST(lines[0] == "--- Found 10 models for tag: sc:scenario ---");
    BOOST_TEST(lines[11] == "--- Found 10 models for tag: sc:third-party ---");
    for (std::size_t i : {1u, 10u, 12u, 21u})
    {
        BOOST_TEST(lines[i].starts_with("- "), lines[i]);
        BOOST_TEST(lines[i].find(" (ID: ") != std::string::npos, lines[i]);
        BOOST_TEST(lines[i].ends_with(")"), lines[i]);
    }
}

BOOST_AUTO_TEST_CASE(the_cli_streams_a_whole_tag_as_json_lines)
{
    local_environment local;
    auto r = run_program(
        SCENARIO_MODELS_PROGRAM,
        {"list", "--public", "--tags", "sc:scenario", "--all", "--page-size", "37", "--json"},
        local.env);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    auto lines = lines_of(r.out);
    BOOST_TEST(lines.size() == public_count_with_tag("sc:scenario"));
    std::map<std::string, boost::json::object> sent;
    for (auto const& row : shared_api().public_catalogue())
        sent.emplace(std::string(row.at("id").as_string()), row);
    std::set<std::string> ids;
    for (auto const& line : lines)
    {
        auto object = boost::json::parse(line).as_object();
        std::string id(object.at("id").as_string());
        ids.insert(id);
        // Every field as the service sent it, unknown ones included.
        BOOST_TEST_CONTEXT("model " << id)
        {
            BOOST_TEST_REQUIRE(sent.count(id) == 1u);
            BOOST_TEST((object == sent.at(id)));
        }
    }
    BOOST_TEST(ids.size() == lines.size());
    BOOST_TEST(r.out.find("8E-1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_cli_prints_the_whole_catalogue_once_through_dropped_connections_and_503s)
{
    using scenario::testing::fault_kind;
    for (auto kind : {fault_kind::close_after_response, fault_kind::service_unavailable})
    {
        BOOST_TEST_CONTEXT("fault " << static_cast<int>(kind))
        {
            scenario::testing::fault_rule rule;
            rule.kind = kind;
            rule.every = kind == fault_kind::close_after_response ? 1 : 3;
            scenario::testing::local_api_options options;
            options.public_models = 300;
            options.private_models = 1;
            options.faults.rules = {rule};
            scenario::testing::local_api api(options);
            local_environment local(api);

            auto r = run_program(
                SCENARIO_MODELS_PROGRAM,
                {"list", "--public", "--all", "--page-size", "20", "--json"}, local.env);

            BOOST_TEST_REQUIRE(r.status == 0, r.err);
            std::vector<std::string> printed;
            for (auto const& line : lines_of(r.out))
                printed.emplace_back(boost::json::parse(line).at("id").as_string());
            std::vector<std::string> expected;
            for (auto const& row : api.public_catalogue())
                expected.emplace_back(row.at("id").as_string());
            BOOST_TEST(printed == expected, boost::test_tools::per_element());
            BOOST_TEST(api.faults_injected() >= 5u);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_cli_limit_stops_after_that_many_models)
{
    local_environment local;
    auto r = run_program(
        SCENARIO_MODELS_PROGRAM, {"list", "--public", "--limit", "12", "--page-size", "5"},
        local.env);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(lines_of(r.out).size() == 12u);
}

BOOST_AUTO_TEST_CASE(the_cli_reports_an_api_error_in_one_line_with_status_2)
{
    local_environment local;
    auto r = run_program(SCENARIO_MODELS_PROGRAM, {"get", "model_nope"}, local.env);
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.out.empty());
    auto lines = lines_of(r.err);
    BOOST_TEST_REQUIRE(lines.size() == 1u, r.err);
    BOOST_TEST(lines[0].find("HTTP 404") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find("Model model_nope not found") != std::string::npos, lines[0]);
}

BOOST_AUTO_TEST_CASE(the_cli_reports_a_tls_failure_with_status_3)
{
    local_environment local;
    // Trust a certificate other than the server's.
    auto other = scenario::testing::make_self_signed_certificate();
    auto wrong_ca = local.dir.path() / "other.pem";
    std::ofstream(wrong_ca) << other.certificate_pem;
    auto env = local.env;
    env.back().second = wrong_ca.string();
    auto r = run_program(SCENARIO_MODELS_PROGRAM, {"list", "--public"}, env);
    BOOST_TEST(r.status == 3);
    auto lines = lines_of(r.err);
    BOOST_TEST_REQUIRE(lines.size() == 1u, r.err);
    BOOST_TEST(lines[0].find("certificate") != std::string::npos, lines[0]);
}

BOOST_AUTO_TEST_CASE(the_cli_insecure_option_warns_and_reaches_an_untrusted_server)
{
    local_environment local;
    auto env = local.env;
    env.pop_back(); // no CA file: the server's certificate is untrusted
    auto refused = run_program(SCENARIO_MODELS_PROGRAM, {"list", "--public", "--limit", "2"}, env);
    BOOST_TEST(refused.status == 3, refused.err);

    auto r = run_program(
        SCENARIO_MODELS_PROGRAM, {"list", "--public", "--limit", "2", "--insecure"}, env);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(lines_of(r.out).size() == 2u);
    BOOST_TEST(r.err.find("warning: --insecure") != std::string::npos, r.err);
    BOOST_TEST(r.out.find("warning") == std::string::npos);
}

// What the CLI prints when it fails, on either stream, never holds the secret or the header
// made from it, whatever failed.
BOOST_AUTO_TEST_CASE(no_failing_cli_run_prints_the_secret)
{
    local_environment local;
    auto const& secret = shared_api().api_secret();
    auto with = [&](std::string const& name, std::string const& value) {
        auto env = local.env;
        for (auto& [key, v] : env)
            if (key == name)
                v = value;
        return env;
    };
    auto const wrong_secret = with("SCENARIO_API_SECRET", secret + "-wrong");
    std::vector<std::pair<std::vector<std::string>, decltype(local.env)>> const runs = {
        {{"list"}, wrong_secret},
        {{"get", "model_none"}, wrong_secret},
        {{"describe", "model_none", "--set", "x"}, local.env},
        {{"list", "--page-size", "100000"}, local.env},
        {{"list"}, with("SCENARIO_CA_FILE", "/nonexistent.pem")},
        {{"list"}, with("SCENARIO_BASE_URL", "https://127.0.0.1:1/v1")},
        {{"list"}, with("SCENARIO_BASE_URL", "https://k:" + secret + "@127.0.0.1:1/v1")},
        {{"list"}, with("SCENARIO_API_SECRET", secret + "\r\nX: y")},
        {{"list", "--bogus"}, local.env},
    };
    for (auto const& [args, env] : runs)
    {
        auto r = run_program(SCENARIO_MODELS_PROGRAM, args, env);
        BOOST_TEST(r.status != 0);
        BOOST_TEST(!r.err.empty());
        for (auto const* text : {&r.out, &r.err})
        {
            BOOST_TEST(text->find(secret) == std::string::npos, *text);
            BOOST_TEST(text->find("Basic ") == std::string::npos, *text);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_cli_takes_options_before_the_command_and_says_why_it_runs_locally)
{
    local_environment local; // credentials and base URL set: only --local sends it local
    auto r = run_program(
        SCENARIO_MODELS_PROGRAM, {"--local", "--page-size", "3", "list", "--public"}, local.env);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    BOOST_TEST(lines_of(r.out).size() == 3u);
    BOOST_TEST(r.err.find("--local given") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(the_cli_get_and_describe_round_trip)
{
    local_environment local;
    std::string id(shared_api().private_catalogue().at(1).at("id").as_string());

    auto get = run_program(SCENARIO_MODELS_PROGRAM, {"get", id}, local.env);
    BOOST_TEST_REQUIRE(get.status == 0, get.err);
    BOOST_TEST(get.out.find("id: " + id) != std::string::npos, get.out);

    auto set =
        run_program(SCENARIO_MODELS_PROGRAM, {"describe", id, "--set", "Hello *there*"}, local.env);
    BOOST_TEST_REQUIRE(set.status == 0, set.err);
    auto read = run_program(SCENARIO_MODELS_PROGRAM, {"describe", id}, local.env);
    BOOST_TEST(read.out == "Hello *there*\n");
    auto clear = run_program(SCENARIO_MODELS_PROGRAM, {"describe", id, "--clear"}, local.env);
    BOOST_TEST_REQUIRE(clear.status == 0, clear.err);
    BOOST_TEST(run_program(SCENARIO_MODELS_PROGRAM, {"describe", id}, local.env).out == "\n");
}

BOOST_AUTO_TEST_CASE(the_cli_tags_command_changes_tags_and_prints_what_changed)
{
    scenario::testing::local_api_options options;
    options.public_models = 10;
    options.private_models = 2;
    scenario::testing::local_api api(options);
    local_environment local(api);
    auto const row = api.private_catalogue().at(0);
    std::string const id(row.at("id").as_string());
    std::string const first(row.at("tags").as_array().at(0).as_string());

    auto json = run_program(
        SCENARIO_MODELS_PROGRAM,
        {"tags", id, "--add", "hero", "--add", "Night Scene", "--delete", first, "--delete",
         "never-there", "--json"},
        local.env);
    BOOST_TEST_REQUIRE(json.status == 0, json.err);
    BOOST_TEST(
        json.out == R"({"added":["hero","Night Scene"],"deleted":[")" + first + "\"]}\n", json.out);
    auto tags = api.private_catalogue().at(0).at("tags").as_array();
    BOOST_TEST(tags == (boost::json::array{"hero", "Night Scene"}));

    auto text = run_program(SCENARIO_MODELS_PROGRAM, {"tags", id, "--delete", "hero"}, local.env);
    BOOST_TEST_REQUIRE(text.status == 0, text.err);
    BOOST_TEST(text.out == "added:\ndeleted: [hero]\n", text.out);

    auto strict = run_program(
        SCENARIO_MODELS_PROGRAM, {"tags", id, "--strict", "--delete", "hero"}, local.env);
    BOOST_TEST(strict.status == 2);
    BOOST_TEST(strict.out.empty());
    BOOST_TEST(strict.err.find("HTTP 400") != std::string::npos, strict.err);

    auto help = run_program(SCENARIO_MODELS_PROGRAM, {"--help"});
    BOOST_TEST(help.out.find("tags ID [--add T]... [--delete T]...") != std::string::npos);
    for (std::vector<std::string> args :
         {std::vector<std::string>{"tags", id}, {"tags", "--add", "x"}, {"list", "--strict"}})
    {
        auto r = run_program(SCENARIO_MODELS_PROGRAM, args);
        BOOST_TEST(r.status == 1, r.err);
        BOOST_TEST(r.err.find("usage") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(the_cli_refuses_bad_usage_with_status_1)
{
    for (std::vector<std::string> args :
         {std::vector<std::string>{"frobnicate"},
          {"list", "--limit", "x"},
          {"list", "--all", "--limit", "3"},
          {"get"},
          {"get", "model_a", "model_b"},
          {"list", "--bogus"}})
    {
        BOOST_TEST_CONTEXT("args " << args.size() << " " << args[0])
        {
            auto r = run_program(SCENARIO_MODELS_PROGRAM, args);
            BOOST_TEST(r.status == 1);
            BOOST_TEST(r.err.find("usage") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_readme_example_runs)
{
    local_environment local;
    auto r = run_program(SCENARIO_README_EXAMPLE, {}, local.env);
    BOOST_TEST_REQUIRE(r.status == 0, r.err);
    auto lines = lines_of(r.out);
    BOOST_TEST_REQUIRE(lines.size() == 101u, r.out);
    BOOST_TEST(lines.back().find(" capabilities") != std::string::npos);
    BOOST_TEST(lines[0].starts_with("model_"), lines[0]);
}

BOOST_AUTO_TEST_CASE(the_readme_shows_the_example_that_the_tests_build)
{
    auto readme = read_file(std::filesystem::path(SCENARIO_SOURCE_DIR) / "README.md");
    auto example =
        read_file(std::filesystem::path(SCENARIO_SOURCE_DIR) / "examples/readme_example.cpp");
    auto start = readme.find("```cpp\n");
    BOOST_TEST_REQUIRE(start != std::string::npos);
    start += 7;
    auto end = readme.find("```", start);
    auto shown = readme.substr(start, end - start);
    BOOST_TEST(shown.size() > 500u);
    BOOST_TEST(example.find(shown) != std::string::npos, "README block differs from the file");
}

BOOST_AUTO_TEST_CASE(the_readme_example_explains_missing_credentials)
{
    auto r = run_program(SCENARIO_README_EXAMPLE, {});
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.find("SCENARIO_API_KEY") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
