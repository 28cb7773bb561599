// Boost.JSON and Boost.URL compiled from source into the harnesses, with the same
// instrumentation as the harnesses, instead of linking Debian's uninstrumented libraries.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
