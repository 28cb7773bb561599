// Compiles Asio, Asio's SSL layer and Beast once for the project's own programs (tests,
// examples, benchmarks), which define BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION. The library itself stays header-only for users.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
