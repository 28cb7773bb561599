#ifndef SCENARIO_HPP
#define SCENARIO_HPP

// The whole public API of scenario-cpp, a C++20 client of the Scenario REST API.

#include <scenario/client.hpp>
#include <scenario/client_options.hpp>
#include <scenario/credentials.hpp>
#include <scenario/error.hpp>
#include <scenario/list_params.hpp>
#include <scenario/model.hpp>
#include <scenario/model_spec.hpp>
#include <scenario/models_api.hpp>
#include <scenario/pagination.hpp>
#include <scenario/tag_changes.hpp>

#endif // SCENARIO_HPP
