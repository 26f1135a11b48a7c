// Progress of a profiling run on the terminal, shared by the commands that measure.
#pragma once

#include "core/latency/profiler.h"

namespace bucketlab::cli {

// A one-line progress display on stderr when it is a terminal; scripts (stderr not a
// terminal) get nothing, so their stderr holds only errors.
ProfilerControl terminalProgress();

} // namespace bucketlab::cli
