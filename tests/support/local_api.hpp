#ifndef SCENARIO_TESTS_SUPPORT_LOCAL_API_HPP
#define SCENARIO_TESTS_SUPPORT_LOCAL_API_HPP

#include <scenario.hpp>
#include <scenario/testing/local_api.hpp>

#include <boost/asio/io_context.hpp>

namespace scenario_tests {

// One local API for the whole test binary: it serves every integration suite over TLS on
// loopback, from its own thread.
inline scenario::testing::local_api& shared_api()
{
    static scenario::testing::local_api api;
    return api;
}

inline scenario::client_options options_for(scenario::testing::local_api& api)
{
    scenario::client_options options;
    options.base_url = api.base_url();
    options.ca_pem = api.certificate_pem();
    return options;
}

inline scenario::credentials credentials_for(scenario::testing::local_api& api)
{
    return {api.api_key(), api.api_secret()};
}

inline scenario::client make_client(
    boost::asio::io_context& io, scenario::client_options options = options_for(shared_api()))
{
    return scenario::client(io, credentials_for(shared_api()), std::move(options));
}

} // namespace scenario_tests

#endif // SCENARIO_TESTS_SUPPORT_LOCAL_API_HPP
