// Exact optimal bucket boundaries when a bucket's cost is a sum over several cost classes,
// which the 1-D tuner of core/tuning (one weight and one latency curve) cannot express:
// batch x sequence TKG buckets, where the calls of each batch bucket pay that batch
// bucket's latency at the sequence bucket they land in.
//
// Candidates x_1 < ... < x_n are the lengths seen; a length is served by the smallest
// boundary >= it (the non-strict fit of NxD's 2-D rule); the largest bucket is fixed at
// `cover` >= x_n. With prefix weights P_c per class c and per-unit costs h_c, a part holding
// x_{i+1}..x_j with boundary x_j costs
//     w(i, j) = sum_c (P_c[j] - P_c[i]) * h_c(x_j).
// Each term is the 1-D tuner's cost and satisfies the quadrangle inequality when h_c never
// decreases and weights are >= 0 (the difference of the two sides is
// (h_c(x_d) - h_c(x_c)) (P_c[b] - P_c[a]) >= 0); a sum of such terms satisfies it too, so
// the leftmost optimal split is monotone and divide-and-conquer DP is exact, in
// O(K n log n m) for K buckets and m classes. The covering part is a plain minimum over its
// start. bruteForcePartitions enumerates every boundary set for tests.
#pragma once

#include "core/util/job.h"

#include <cstdint>
#include <vector>

namespace bucketlab {

struct PartitionProblem {
    std::vector<int64_t> lengths;            // x_1 < ... < x_n, all <= cover
    std::vector<std::vector<double>> weight; // weight[c][i]: class c's weight at lengths[i], >= 0
    std::vector<std::vector<double>> cost;   // cost[c][i]: per unit of class c in a bucket
                                             // ending at lengths[i]; non-decreasing in i
    int64_t cover = 0;                       // the largest bucket
    std::vector<double> coverCost;           // per unit of class c in the covering bucket
};

struct PartitionSolution {
    bool feasible = false;           // false when k buckets cannot be placed
    std::vector<int64_t> boundaries; // ascending, ending with cover
    double cost = 0;                 // sum of weight x cost over all lengths
};

// For k = 1..kMax, the optimum with exactly k buckets (the cover included): solutions[k-1].
// Throws Error for inconsistent sizes, a decreasing cost or a negative weight; Cancelled
// when the job's flag is set.
std::vector<PartitionSolution> solvePartitions(const PartitionProblem& problem, int kMax,
                                               const Job& job = {});
// The same by enumeration (exponential: tests and tiny problems only).
std::vector<PartitionSolution> bruteForcePartitions(const PartitionProblem& problem, int kMax);
// The cost of given boundaries (ascending, ending with cover), as the DP counts it.
double partitionCost(const PartitionProblem& problem, const std::vector<int64_t>& boundaries);

} // namespace bucketlab
