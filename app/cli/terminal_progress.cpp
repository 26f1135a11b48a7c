#include "app/cli/terminal_progress.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace bucketlab::cli {

Job terminalJob()
{
    if (!::isatty(STDERR_FILENO))
        return {};
    using Clock = std::chrono::steady_clock;
    struct State {
        Clock::time_point start = Clock::now();
        Clock::time_point last;
    };
    auto state = std::make_shared<State>();
    return Job([state](double fraction, const std::string& message) {
        const auto now = Clock::now();
        const bool done = fraction >= 1.0;
        if (!done && now - state->last < std::chrono::milliseconds(250))
            return;
        state->last = now;
        if (done) {
            std::fprintf(stderr, "\r\033[K");
        } else {
            const double elapsed = std::chrono::duration<double>(now - state->start).count();
            std::fprintf(stderr, "\r\033[K%3.0f %%  %.1f s", 100 * fraction, elapsed);
            if (fraction > 0.02)
                std::fprintf(stderr, ", ~%.0f s left", elapsed * (1 - fraction) / fraction);
            std::fprintf(stderr, ": %.60s", message.c_str());
        }
        std::fflush(stderr);
    });
}

} // namespace bucketlab::cli
