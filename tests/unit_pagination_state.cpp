// The end conditions of a listing, without I/O.
#include <scenario/detail/pagination_state.hpp>

#include <boost/test/unit_test.hpp>

using scenario::client_errc;
namespace sd = scenario::detail;

BOOST_AUTO_TEST_SUITE(pagination_state)

BOOST_AUTO_TEST_CASE(a_listing_starts_without_a_token_and_follows_each_one)
{
    sd::pagination_state state;
    BOOST_TEST(state.next_token().empty());
    BOOST_TEST(!state.done());

    BOOST_TEST(!state.on_page(std::string("t1")));
    BOOST_TEST(state.next_token() == "t1");
    BOOST_TEST(!state.on_page(std::string("t2")));
    BOOST_TEST(state.next_token() == "t2");
    BOOST_TEST(!state.done());
}

BOOST_AUTO_TEST_CASE(absent_or_empty_tokens_end_the_listing)
{
    for (auto const& end : {std::optional<std::string>{}, std::optional<std::string>{""}})
    {
        BOOST_TEST_CONTEXT("token " << (end ? "\"\"" : "absent"))
        {
            sd::pagination_state state;
            BOOST_TEST(!state.on_page(std::string("t1")));
            BOOST_TEST(!state.on_page(end));
            BOOST_TEST(state.done());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_repeated_token_is_an_error_that_ends_the_listing)
{
    sd::pagination_state state;
    BOOST_TEST(!state.on_page(std::string("a")));
    BOOST_TEST(!state.on_page(std::string("b")));
    auto ec = state.on_page(std::string("a"));
    BOOST_TEST((ec == client_errc::repeated_pagination_token));
    BOOST_TEST(state.done());
}

BOOST_AUTO_TEST_CASE(a_token_repeated_at_once_is_caught)
{
    sd::pagination_state state;
    BOOST_TEST(!state.on_page(std::string("a")));
    BOOST_TEST((state.on_page(std::string("a")) == client_errc::repeated_pagination_token));
}

BOOST_AUTO_TEST_CASE(a_resumed_listing_counts_its_start_token_as_seen)
{
    sd::pagination_state state("start");
    BOOST_TEST(state.next_token() == "start");
    BOOST_TEST((state.on_page(std::string("start")) == client_errc::repeated_pagination_token));
}

BOOST_AUTO_TEST_SUITE_END()
