#ifndef SCENARIO_DETAIL_PAGINATION_STATE_HPP
#define SCENARIO_DETAIL_PAGINATION_STATE_HPP

#include <scenario/error.hpp>

#include <optional>
#include <string>
#include <unordered_set>

namespace scenario::detail {

// The end conditions of one listing, without I/O: which token the next request sends, when
// the listing is over, and when the service is looping.
class pagination_state
{
public:
    // A listing may resume from a token the caller kept; empty starts at the first page.
    explicit pagination_state(std::string start_token = {})
    {
        if (!start_token.empty())
        {
            seen_.insert(start_token);
            next_token_ = std::move(start_token);
        }
    }

    bool done() const noexcept
    {
        return done_;
    }

    // The token the next request sends; empty for the first page.
    std::string const& next_token() const noexcept
    {
        return next_token_;
    }

    // Records the token a page carried. An absent or empty token ends the listing; a token
    // seen before in this listing ends it with an error, whatever the page held.
    error_code on_page(std::optional<std::string> const& token)
    {
        if (!token || token->empty())
        {
            done_ = true;
            return {};
        }
        if (!seen_.insert(*token).second)
        {
            done_ = true;
            return client_errc::repeated_pagination_token;
        }
        next_token_ = *token;
        return {};
    }

private:
    std::string next_token_;
    std::unordered_set<std::string> seen_;
    bool done_ = false;
};

} // namespace scenario::detail

#endif // SCENARIO_DETAIL_PAGINATION_STATE_HPP
