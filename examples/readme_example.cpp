// The README's example: the first page of Scenario's third-party models.
#include <scenario.hpp>

#include <boost/asio.hpp>

#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> show_third_party(scenario::client& client)
{
    auto models = client.models();
    auto page = co_await models.list({.tags = "sc:third-party", .privacy = "public"});
    for (auto const& model : page.models)
        std::cout << model.id << "  " << model.name.value_or("(unnamed)") << '\n';

    auto first = co_await models.get(page.models.at(0).id);
    std::cout << first.id << " has " << first.capabilities.size() << " capabilities\n";
}

int main()
{
    auto credentials = scenario::credentials_from_env(); // SCENARIO_API_KEY, SCENARIO_API_SECRET
    if (!credentials)
        return std::cerr << "set SCENARIO_API_KEY and SCENARIO_API_SECRET\n", 1;

    scenario::client_options options; // the live service unless these say otherwise
    if (char const* url = std::getenv("SCENARIO_BASE_URL"))
        options.base_url = url;
    if (char const* ca = std::getenv("SCENARIO_CA_FILE"))
        options.ca_file = ca;

    asio::io_context io;
    scenario::client client(io, *credentials, options);
    std::exception_ptr failure;
    asio::co_spawn(io, show_third_party(client), [&](std::exception_ptr e) { failure = e; });
    io.run();
    try
    {
        if (failure)
            std::rethrow_exception(failure);
    }
    catch (scenario::error const& e)
    {
        return std::cerr << e.what() << '\n', 1; // says what failed and what to do
    }
}
