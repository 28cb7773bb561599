// Arbitrary bytes as a 2xx response body, read into the typed model as a listing page, a
// single model and a description. Each result is checked field by field against the JSON it
// came from, copied, moved and read again after its page is gone (see model_checks.hpp).
#include "model_checks.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    scenario_fuzz::read_every_way(std::string_view(reinterpret_cast<char const*>(data), size));
    return 0;
}
