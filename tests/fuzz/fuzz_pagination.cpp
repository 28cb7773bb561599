// The end conditions of a listing, driven by the tokens of a made-up service. Each page is
// read from JSON as the client reads it (read_page) and handed to pagination_state as
// page_stream does; a small model of the rules of the API notes says what must happen:
// - absent, null and "" end the listing, without an error;
// - a token seen before in the listing, the start token included, ends it with
//   repeated_pagination_token;
// - a page whose token is not a string fails the call and leaves the state as it was;
// - a service that replays its tokens forever is stopped within one token more than it has.
//
// Input: the front holds the token texts, the back the choices (FuzzedDataProvider).
#include "model_checks.hpp"

#include <scenario/detail/pagination_state.hpp>

#include <boost/json/serialize.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace sd = scenario::detail;
using scenario::client_errc;

// What one response of the made-up service carries, or what the caller does between pages.
struct page_step
{
    enum kind_t
    {
        absent,
        null,
        empty,
        text,
        not_a_string,
        resume // the caller keeps the resume token and starts a new listing from it
    };
    kind_t kind = absent;
    std::string token; // for `text`
};

// ASCII only, control characters included: JSON escapes them and reads them back the same.
std::string ascii(std::string text)
{
    for (auto& c : text)
        c = static_cast<char>(c & 0x7f);
    return text;
}

// The page's body as the service would send it: no models, and the token as given.
std::string page_body(page_step const& step)
{
    json::object page;
    page["models"] = json::array();
    switch (step.kind)
    {
    case page_step::null: page["nextPaginationToken"] = nullptr; break;
    case page_step::empty: page["nextPaginationToken"] = ""; break;
    case page_step::text: page["nextPaginationToken"] = step.token; break;
    case page_step::not_a_string: page["nextPaginationToken"] = 5; break;
    default: break;
    }
    return json::serialize(page);
}

// The rules, kept apart from the code under test.
struct listing_rules
{
    std::set<std::string> seen;
    std::string next;
    bool done = false;

    explicit listing_rules(std::string const& start)
        : next(start)
    {
        if (!start.empty())
            seen.insert(start);
    }
};

struct listing
{
    sd::pagination_state state;
    listing_rules rules;

    explicit listing(std::string const& start)
        : state(start)
        , rules(start)
    {
        FUZZ_CHECK(!state.done());
        FUZZ_CHECK(state.next_token() == start);
    }
};

// One response through the client's reading and the state, checked against the rules.
void deliver(page_step const& step, listing& l)
{
    std::string problem;
    auto parsed = sd::parse_body(page_body(step), problem);
    FUZZ_CHECK(problem.empty());
    scenario::model_page page;
    auto ec = sd::read_page(std::move(parsed), page, problem);
    if (step.kind == page_step::not_a_string)
    {
        // The call fails before the state sees the page; the next call asks for it again.
        FUZZ_CHECK(ec == client_errc::unexpected_response && !problem.empty());
        FUZZ_CHECK(!l.state.done() && l.state.next_token() == l.rules.next);
        return;
    }
    FUZZ_CHECK(!ec && problem.empty());

    auto const before = l.state.next_token();
    ec = l.state.on_page(page.next_pagination_token);
    if (step.kind != page_step::text || step.token.empty())
    {
        FUZZ_CHECK(!page.next_pagination_token);
        FUZZ_CHECK(!ec);
        l.rules.done = true;
    }
    else if (!l.rules.seen.insert(step.token).second)
    {
        FUZZ_CHECK(ec == client_errc::repeated_pagination_token);
        l.rules.done = true;
    }
    else
    {
        FUZZ_CHECK(!ec);
        l.rules.next = step.token;
    }
    FUZZ_CHECK(l.state.done() == l.rules.done);
    if (!l.state.done())
        FUZZ_CHECK(l.state.next_token() == l.rules.next && l.state.next_token() != before);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    FuzzedDataProvider input(data, size);

    std::string start;
    if (input.ConsumeBool())
        start = ascii(input.ConsumeRandomLengthString(24));
    std::vector<std::string> texts;
    if (!start.empty())
        texts.push_back(start);

    std::vector<page_step> steps;
    while (input.remaining_bytes() > 0 && steps.size() < 256)
    {
        page_step step;
        switch (input.ConsumeIntegralInRange<int>(0, 6))
        {
        case 0: step.kind = page_step::absent; break;
        case 1: step.kind = page_step::null; break;
        case 2: step.kind = page_step::empty; break;
        case 3:
            step.kind = page_step::text;
            step.token = ascii(input.ConsumeRandomLengthString(24));
            texts.push_back(step.token);
            break;
        case 4: // a token sent before, if there is one
            step.kind = page_step::text;
            if (!texts.empty())
                step.token = texts[input.ConsumeIntegralInRange<std::size_t>(0, texts.size() - 1)];
            break;
        case 5: step.kind = page_step::not_a_string; break;
        default: step.kind = page_step::resume; break;
        }
        steps.push_back(std::move(step));
    }

    // The scripted responses. A listing that ends makes way for a new one from the first page,
    // as a new call to pages() would.
    listing current(start);
    for (auto const& step : steps)
    {
        if (current.state.done())
            current = listing(std::string());
        if (step.kind == page_step::resume)
            current = listing(std::string(current.state.next_token()));
        else
            deliver(step, current);
    }

    // Then a service that replays its responses forever: the listing must end, and within one
    // more page than the tokens it can send before repeating one.
    std::vector<page_step> replayed;
    for (auto const& step : steps)
        if (step.kind != page_step::resume && step.kind != page_step::not_a_string)
            replayed.push_back(step);
    if (replayed.empty() || current.state.done())
        return 0;
    std::size_t const bound = replayed.size() + 1;
    std::size_t pages = 0;
    for (; !current.state.done(); ++pages)
    {
        FUZZ_CHECK(pages < bound);
        deliver(replayed[pages % replayed.size()], current);
    }
    return 0;
}
