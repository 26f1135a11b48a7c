// Synthetic traffic from a one-line spec, for what-if tuning and for tests and benchmarks:
//   lognormal:mu=5,sigma=0.8,max=4096      normal:mean=300,sd=60     uniform:min=16,max=512
//   zipf:s=1.2,max=2048 0.8*lognormal:mu=4.5,sigma=0.5+0.2*uniform:min=900,max=1024
// Components are joined with '+', each optionally weighted `w*` (weights are normalised).
// Every family takes min= (default 1) and max= (default 2^31-1; required for uniform and
// zipf): draws are rounded to the nearest integer and clamped to [min, max], as a tokenizer
// truncating at the model's maximum would. n= (default 100000) and seed= (default 1) may
// appear in any component and apply to the whole spec. Draws use std::mt19937_64 (whose
// output the C++ standard fixes) with our own uniform and Box-Muller transforms, not the
// library's distributions, so a spec gives the same histogram on every platform.
#pragma once

#include "core/traffic/length_histogram.h"

#include <string>

namespace bucketlab {

// True when `text` starts like a spec (a known family, optionally weighted) rather than a
// file name.
bool looksLikeSyntheticSpec(const std::string& text);

// Throws Error naming the spec and the offending part.
LengthHistogram syntheticDistribution(const std::string& spec);

} // namespace bucketlab
