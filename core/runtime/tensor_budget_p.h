// PRIVATE to core/: holds what LibTorch allocates for tensors on the CPU while BucketLab runs
// a model (a kernel check, a package check, a verification, a profile) to the memory budget.
// The planned allocations are checked up front (core/spec/memory_budget.h); this covers the
// rest: what a kernel or a model allocates inside its own forward(). While a scope is alive,
// every CPU tensor allocation goes through a counting allocator, and one that would take the
// bytes allocated since the outermost scope began past the budget is refused before it is
// made: the call raises, the scope records the refusal, and the caller turns it into an Error
// instead of a defect of the kernel or a failed point.
#pragma once

#include <cstdint>
#include <string>

namespace bucketlab {

class TensorBudgetScope {
public:
    // The budget is memoryBudget() (BUCKETLAB_MEMORY_BUDGET_MIB or 2 GiB).
    TensorBudgetScope();
    explicit TensorBudgetScope(uint64_t budgetBytes);
    ~TensorBudgetScope();
    TensorBudgetScope(const TensorBudgetScope&) = delete;
    TensorBudgetScope& operator=(const TensorBudgetScope&) = delete;

    // A mark to ask refusedSince() about later, from any thread (a worker that may outlive
    // the scope keeps the mark, not the scope).
    uint64_t mark() const { return mark_; }

    // The latest refusal since `mark` in words ("allocating a tensor of 32.00 GiB would pass
    // the memory budget of 2.00 GiB (the run holds ...)"), or "" when there was none.
    static std::string refusedSince(uint64_t mark);

    // Throws Error("`what`: <the refusal>") when an allocation was refused since this scope
    // began. For callers that catch a model's exceptions themselves.
    void throwIfRefused(const std::string& what) const;

    // Bytes held now by CPU tensors allocated through the counting allocator.
    static uint64_t liveBytes();

private:
    uint64_t mark_ = 0;
};

} // namespace bucketlab
