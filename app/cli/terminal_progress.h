// Progress of a long command on the terminal, shared by every command that runs one.
#pragma once

#include "core/util/job.h"

namespace bucketlab::cli {

// A job whose progress is one line on stderr (percent, elapsed, an estimate of the time left
// and what is being done) when stderr is a terminal; scripts (stderr not a terminal) get
// nothing, so their stderr holds only errors.
Job terminalJob();

} // namespace bucketlab::cli
