// The memory budget: the most a kernel check, a package check, a verification or a profile
// may plan to allocate for what BucketLab itself makes (the inputs at every length and batch
// size it runs, shared state buffers, the kernel check's record of every call), worked out
// from the request and checked before anything is allocated. A request beyond it is an Error
// that names what to lower, not a process the system kills for memory. What a model
// allocates inside its own forward() is held to the same budget while it runs, by the
// counting allocator of core/runtime/tensor_budget_p.h.
#pragma once

#include "core/spec/input_spec.h"
#include "core/spec/state_spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bucketlab {

// 2 GiB: far beyond any check of real lengths (the demo's validation plans about 2 MiB, a
// 32k-context kernel at batch sizes 1,2,5 about 150 MiB), far below what kills a process.
inline constexpr uint64_t kDefaultMemoryBudget = uint64_t(2) << 30;

// The environment variable that replaces the default: a whole number of MiB, at least 1.
inline constexpr const char* kMemoryBudgetVariable = "BUCKETLAB_MEMORY_BUDGET_MIB";

// The budget in bytes: the variable's value when it is set, else kDefaultMemoryBudget.
// Throws Error when the variable is set to anything but a whole number of MiB >= 1.
uint64_t memoryBudget();

// Byte arithmetic that saturates at UINT64_MAX instead of wrapping (a request for 2^31
// lengths at 4096 batch sizes is too much, not a small number).
uint64_t bytesTimes(uint64_t a, uint64_t b);
uint64_t bytesPlus(uint64_t a, uint64_t b);

// One call's inputs: each bucketed input [batch, length], each other one [batch].
uint64_t inputBytes(const std::vector<InputSpec>& inputs, int64_t batch, int64_t length);

// The shared state buffers, each at its largest bucket's shape.
uint64_t stateBufferBytes(const std::vector<StateSpec>& states);

// One package call BucketLab makes (build's proof, validate's and export's package checks):
// the inputs with varied values (made through float64 patterns, 24 bytes per position of
// each bucketed input), and two packages' state buffers (export compares two).
uint64_t packageCallBytes(const std::vector<InputSpec>& inputs,
                          const std::vector<StateSpec>& states, int64_t batch, int64_t length);

// "1.5 GiB"; "more than 16 EiB" when saturated.
std::string formatBudgetBytes(uint64_t bytes);

// Throws Error "`what` needs about X, more than the memory budget of Y; `advice`" when
// `bytes` exceeds memoryBudget(). `what` and `advice` may mark fields with subject().
void checkMemoryBudget(uint64_t bytes, const std::string& what, const std::string& advice);

} // namespace bucketlab
