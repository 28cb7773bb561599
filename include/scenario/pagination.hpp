#ifndef SCENARIO_PAGINATION_HPP
#define SCENARIO_PAGINATION_HPP

#include <scenario/detail/async_front.hpp>
#include <scenario/detail/model_calls.hpp>
#include <scenario/detail/pagination_state.hpp>
#include <scenario/list_params.hpp>
#include <scenario/model.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace scenario {

class model_stream;

namespace detail {

// A page fetched ahead, in the background, while the consumer works on the one before: its
// outcome, and a timer whose cancellation wakes the `next` that waits for it.
struct prefetched_page
{
    explicit prefetched_page(asio::any_io_executor const& executor)
        : wake(executor, std::chrono::steady_clock::time_point::max())
    {}

    asio::steady_timer wake;
    asio::cancellation_signal cancel; // emitted when the stream goes away first
    bool ready = false;
    error_code ec;
    diagnostics diag;
    std::exception_ptr failure; // what was thrown that is not an error_code (bad_alloc)
    model_page page;
};

} // namespace detail

/// Streams the pages of one listing, fetching each only when asked.
///
///     auto pages = models.pages({.tags = "sc:scenario"});
///     while (auto page = co_await pages.next())
///         use(page->models);
///
/// The listing ends on a page with no `nextPaginationToken` (absent, `null` or `""`); an empty
/// page with a token does not end it. A token already seen in the listing ends it with
/// `client_errc::repeated_pagination_token`. After any other failure the stream stays where it
/// was: calling `next` again asks for the same page. Every page is sent with the same filters.
///
/// One page is held at a time, whatever the size of the catalogue. Not thread-safe; one
/// `next` at a time; the stream must outlive each `next` operation and must not be moved
/// while one is pending.
///
/// With `prefetch(true)`, each page delivered starts the request for the one after it in the
/// background, so that the network wait overlaps the consumer's work on the page it holds; at
/// most two pages are held then. A failure of the page fetched ahead is reported by the `next`
/// that asks for it, and the stream stays where it was, as without prefetch. Cancelling a
/// `next` that waits for the page fetched ahead, or destroying the stream, cancels that fetch.
class page_stream
{
    auto fetch_op()
    {
        return [this](diagnostics& diag, error_code& ec) { return fetch(diag, ec); };
    }

public:
    /// Completion signature of `next`: the next page, or an empty optional at the end.
    using next_signature = void(error_code, std::optional<model_page>);

    /// The next page, or an empty optional when the listing is over; throws `scenario::error`.
    boost::asio::awaitable<std::optional<model_page>> next()
    {
        return detail::run_or_throw<std::optional<model_page>>(fetch_op());
    }

    /// `next` for any completion token, with signature `void(error_code,
    /// std::optional<model_page>)`. The completion runs on the token's associated executor
    /// (by default the client's). Supports terminal cancellation, which closes the
    /// connection in use. If `diag` is given, it receives what is known of a failure.
    template <boost::asio::completion_token_for<next_signature> CompletionToken>
    auto next(CompletionToken&& token)
    {
        return detail::run_with_token<std::optional<model_page>>(
            state_->executor(), fetch_op(), nullptr, std::forward<CompletionToken>(token));
    }

    template <boost::asio::completion_token_for<next_signature> CompletionToken>
    auto next(diagnostics& diag, CompletionToken&& token)
    {
        return detail::run_with_token<std::optional<model_page>>(
            state_->executor(), fetch_op(), &diag, std::forward<CompletionToken>(token));
    }

    /// Whether each page delivered starts the request for the next one at once; off by
    /// default. Returns the stream, so `models.pages(params).prefetch(true)` chains.
    page_stream& prefetch(bool on) & noexcept
    {
        prefetch_ = on;
        return *this;
    }

    page_stream&& prefetch(bool on) && noexcept
    {
        prefetch_ = on;
        return std::move(*this);
    }

    page_stream(page_stream&&) noexcept = default;
    page_stream(page_stream const&) = delete;
    page_stream& operator=(page_stream const&) = delete;

    page_stream& operator=(page_stream&& other) noexcept
    {
        abandon_prefetch();
        state_ = std::move(other.state_);
        request_ = std::move(other.request_);
        pagination_ = std::move(other.pagination_);
        pending_ = std::move(other.pending_);
        prefetch_ = other.prefetch_;
        busy_ = other.busy_;
        return *this;
    }

    ~page_stream()
    {
        abandon_prefetch();
    }

    /// True once the last page was delivered or the listing stopped on a repeated token.
    bool done() const noexcept
    {
        return pagination_.done();
    }

    /// The token the next request will send: keep it to resume the listing later. Empty
    /// once the listing is over.
    std::string_view resume_token() const noexcept
    {
        return pagination_.done() ? std::string_view() : pagination_.next_token();
    }

private:
    friend class models_api;
    friend class model_stream;

    page_stream(std::shared_ptr<detail::client_state> state, detail::listing_request request)
        : state_(std::move(state))
        , request_(std::move(request))
        , pagination_(request_.start_token)
    {}

    boost::asio::awaitable<std::optional<model_page>> fetch(diagnostics& diag, error_code& ec)
    {
        if (busy_)
        {
            ec = client_errc::invalid_argument;
            diag.message = "next() was called before the previous next() completed";
            co_return std::nullopt;
        }
        if (pagination_.done())
            co_return std::nullopt;

        // Reset however this ends, a cancellation's exception included.
        struct busy_flag
        {
            bool& busy;
            ~busy_flag()
            {
                busy = false;
            }
        };
        busy_ = true;
        busy_flag flag{busy_};

        model_page page;
        if (pending_)
        {
            // Wait for the page fetched ahead, unless it is already here. Cancelling the wait
            // cancels that fetch too, and closes its connection; the next call asks again.
            auto ahead = pending_;
            if (!ahead->ready)
                co_await ahead->wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            pending_.reset();
            if (!ahead->ready)
            {
                ahead->cancel.emit(boost::asio::cancellation_type::terminal);
                throw boost::system::system_error(boost::asio::error::operation_aborted);
            }
            if (ahead->failure)
                std::rethrow_exception(ahead->failure);
            if ((ec = ahead->ec))
            {
                diag = std::move(ahead->diag);
                co_return std::nullopt;
            }
            page = std::move(ahead->page);
        }
        else
        {
            page = co_await detail::fetch_page(
                state_, request_, pagination_.next_token(), diag, ec);
            if (ec)
                co_return std::nullopt;
        }

        if ((ec = pagination_.on_page(page.next_pagination_token)))
        {
            diag.message = "the service sent the pagination token of an earlier page again; "
                           "the listing was stopped rather than loop forever";
            co_return std::nullopt;
        }
        if (prefetch_ && !pagination_.done())
            fetch_ahead();
        co_return std::optional<model_page>(std::move(page));
    }

    // Starts the request for the page after the one just delivered.
    void fetch_ahead()
    {
        auto ahead = std::make_shared<detail::prefetched_page>(state_->executor());
        pending_ = ahead;
        auto work = [](std::shared_ptr<detail::client_state> state, detail::listing_request request,
                       std::string token,
                       std::shared_ptr<detail::prefetched_page> ahead) -> boost::asio::awaitable<void> {
            try
            {
                ahead->page =
                    co_await detail::fetch_page(state, request, token, ahead->diag, ahead->ec);
            }
            catch (boost::system::system_error const& e)
            {
                ahead->ec = e.code();
                if (ahead->ec == boost::asio::error::operation_aborted && ahead->diag.message.empty())
                    ahead->diag.message = "the call was cancelled";
            }
            catch (...)
            {
                ahead->failure = std::current_exception(); // for the `next` that waits
            }
            if (ahead->ec)
                ahead->page = {};
            ahead->ready = true;
            ahead->wake.cancel();
        };
        // The completion handler keeps `ahead`, and so the signal its slot belongs to, alive.
        auto slot = ahead->cancel.slot();
        boost::asio::co_spawn(
            state_->executor(),
            work(state_, request_, std::string(pagination_.next_token()), ahead),
            boost::asio::bind_cancellation_slot(slot, [ahead](std::exception_ptr) {}));
    }

    void abandon_prefetch() noexcept
    {
        if (pending_ && !pending_->ready)
            pending_->cancel.emit(boost::asio::cancellation_type::terminal);
        pending_.reset();
    }

    std::shared_ptr<detail::client_state> state_;
    detail::listing_request request_;
    detail::pagination_state pagination_;
    std::shared_ptr<detail::prefetched_page> pending_; // the page fetched ahead, if any
    bool prefetch_ = false;
    bool busy_ = false;
};

/// Streams every model of one listing, one at a time, fetching a page only when the models
/// of the one before are used up. Same end conditions, failures and rules as `page_stream`.
class model_stream
{
    auto next_op()
    {
        return [this](diagnostics& diag, error_code& ec) { return take(diag, ec); };
    }

public:
    using next_signature = void(error_code, std::optional<model>);

    explicit model_stream(page_stream pages)
        : pages_(std::move(pages))
    {}

    /// The next model, or an empty optional when the listing is over; throws `scenario::error`.
    boost::asio::awaitable<std::optional<model>> next()
    {
        return detail::run_or_throw<std::optional<model>>(next_op());
    }

    /// `next` for any completion token, with signature `void(error_code,
    /// std::optional<model>)`; executor, cancellation and lifetime as `page_stream::next`.
    template <boost::asio::completion_token_for<next_signature> CompletionToken>
    auto next(CompletionToken&& token)
    {
        return detail::run_with_token<std::optional<model>>(
            pages_.state_->executor(), next_op(), nullptr, std::forward<CompletionToken>(token));
    }

    template <boost::asio::completion_token_for<next_signature> CompletionToken>
    auto next(diagnostics& diag, CompletionToken&& token)
    {
        return detail::run_with_token<std::optional<model>>(
            pages_.state_->executor(), next_op(), &diag, std::forward<CompletionToken>(token));
    }

    /// Fetches each page ahead while the models of the one before are consumed; see
    /// `page_stream::prefetch`.
    model_stream& prefetch(bool on) & noexcept
    {
        pages_.prefetch(on);
        return *this;
    }

    model_stream&& prefetch(bool on) && noexcept
    {
        pages_.prefetch(on);
        return std::move(*this);
    }

    /// The pages underneath, for their `resume_token`.
    page_stream const& pages() const noexcept
    {
        return pages_;
    }

private:
    boost::asio::awaitable<std::optional<model>> take(diagnostics& diag, error_code& ec)
    {
        while (position_ == current_.size())
        {
            current_.clear();
            position_ = 0;
            auto page = co_await pages_.fetch(diag, ec);
            if (ec || !page)
                co_return std::nullopt;
            current_ = std::move(page->models);
        }
        co_return std::optional<model>(std::move(current_[position_++]));
    }

    page_stream pages_;
    std::vector<model> current_;
    std::size_t position_ = 0;
};

} // namespace scenario

#endif // SCENARIO_PAGINATION_HPP
