#include "app/cli/terminal_progress.h"

#include <iomanip>
#include <iostream>
#include <unistd.h>

namespace bucketlab::cli {

ProfilerControl terminalProgress()
{
    ProfilerControl control;
    if (!::isatty(STDERR_FILENO))
        return control;
    control.progressIntervalS = 0.25;
    control.progress = [](const ProfilerProgress& p) {
        std::cerr << "\r\033[K" << std::fixed << std::setprecision(1) << p.elapsedS << " s, ~"
                  << p.remainingS << " s left: " << p.message;
        if (p.stage == ProfileStage::Finished)
            std::cerr << "\r\033[K";
        std::cerr << std::flush;
    };
    return control;
}

} // namespace bucketlab::cli
