// The local Scenario API server's choice of a fault for each request it reads, without any
// I/O: a fault_plan and a request path in, the rule that decides the request's fault out.

#ifndef SCENARIO_TESTING_DETAIL_FAULT_SELECTOR_HPP
#define SCENARIO_TESTING_DETAIL_FAULT_SELECTOR_HPP

#include <scenario/testing/fault_plan.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scenario::testing::detail {

/// The smallest body an `oversized_body` fault can send: `{"padding":""}`.
inline constexpr std::size_t smallest_padded_body = 14;

/// Throws std::invalid_argument, naming the rule, when a plan cannot be obeyed.
inline void validate(fault_plan const& plan)
{
    for (std::size_t i = 0; i < plan.rules.size(); ++i)
    {
        fault_rule const& rule = plan.rules[i];
        if (rule.kind == fault_kind::oversized_body && rule.body_bytes < smallest_padded_body)
        {
            throw std::invalid_argument(
                "fault rule " + std::to_string(i) + ": an oversized_body needs body_bytes of " +
                "at least " + std::to_string(smallest_padded_body) + ", not " +
                std::to_string(rule.body_bytes));
        }
        if (rule.delay.count() < 0)
            throw std::invalid_argument("fault rule " + std::to_string(i) + ": negative delay");
    }
}

/// Numbers the requests for each rule of a `fault_plan` and picks the fault of each request.
/// Thread-safe: the server's thread selects while any thread may replace the plan. Without a
/// plan, `select` costs one atomic load.
class fault_selector
{
public:
    /// Applies `plan`; throws std::invalid_argument as `validate` does.
    explicit fault_selector(fault_plan plan)
    {
        replace(std::move(plan));
    }

    fault_selector(fault_selector const&) = delete;
    fault_selector& operator=(fault_selector const&) = delete;

    /// Applies `plan` to the requests read from now on: numbering, hit counts and draws start
    /// again. Throws std::invalid_argument as `validate` does, and then keeps the old plan.
    void replace(fault_plan plan)
    {
        validate(plan);

        std::lock_guard lock{mutex_};
        plan_ = std::move(plan);
        progress_.assign(plan_.rules.size(), rule_progress{});
        generator_.seed(plan_.seed);
        active_.store(!plan_.rules.empty(), std::memory_order_release);
    }

    /// Counts a request to `path` (its target without the query) and answers the rule that
    /// decides its fault, if one hits it.
    std::optional<fault_rule> select(std::string_view path)
    {
        if (!active_.load(std::memory_order_acquire))
            return std::nullopt;

        std::lock_guard lock{mutex_};
        std::optional<fault_rule> decided;
        for (std::size_t i = 0; i < plan_.rules.size(); ++i)
        {
            fault_rule const& rule = plan_.rules[i];
            if (!path.starts_with(rule.path_prefix))
                continue;

            rule_progress& progress = progress_[i];
            std::size_t const number = ++progress.requests;

            // Drawn even when an earlier rule already decided, so that the draws depend on the
            // requests alone.
            bool const drawn = rule.share > 0.0 && draw() < rule.share;
            bool const hit = drawn || (rule.every != 0 && number % rule.every == 0) ||
                             std::find(rule.sequence.begin(), rule.sequence.end(), number) !=
                                 rule.sequence.end();
            if (decided || !hit || progress.hits >= rule.limit)
                continue;

            ++progress.hits;
            decided = rule;
        }

        if (decided)
            injected_.fetch_add(1, std::memory_order_relaxed);
        return decided;
    }

    /// Requests that got a fault since construction, across every plan.
    std::size_t injected() const noexcept
    {
        return injected_.load(std::memory_order_relaxed);
    }

private:
    struct rule_progress
    {
        std::size_t requests = 0;
        std::size_t hits = 0;
    };

    /// A uniform draw in [0, 1) from the top 53 bits, the same on every standard library
    /// (std::uniform_real_distribution is not).
    double draw()
    {
        return static_cast<double>(generator_() >> 11) * 0x1.0p-53;
    }

    std::atomic<bool> active_{false};
    std::atomic<std::size_t> injected_{0};

    std::mutex mutex_;
    fault_plan plan_;
    std::vector<rule_progress> progress_;
    std::mt19937_64 generator_;
};

} // namespace scenario::testing::detail

#endif
