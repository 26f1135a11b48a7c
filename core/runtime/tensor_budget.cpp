#include "core/runtime/tensor_budget_p.h"

#include "core/spec/memory_budget.h"
#include "core/util/error.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>

#include <malloc.h>

#include <atomic>
#include <limits>
#include <mutex>

namespace bucketlab {
namespace {

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

struct BudgetState {
    std::mutex mutex;
    int active = 0;                          // scopes alive
    std::atomic<uint64_t> live{0};           // bytes of tensors allocated through us, held now
    std::atomic<uint64_t> limit{kUnlimited}; // base + budget while a scope is alive
    uint64_t base = 0;                       // live when the outermost scope began
    uint64_t budget = 0;                     // the outermost scope's budget
    std::atomic<uint64_t> refusals{0};
    std::string lastRefusal; // guarded by mutex
};

BudgetState& state()
{
    static BudgetState s;
    return s;
}

// The allocation's real size: what it holds of the heap, also known when it is freed.
uint64_t heldBytes(void* p)
{
    return p ? uint64_t(malloc_usable_size(p)) : 0;
}

void countedFree(void* p)
{
    state().live.fetch_sub(heldBytes(p), std::memory_order_relaxed);
    c10::free_cpu(p);
}

// LibTorch's default CPU allocation (c10::alloc_cpu: aligned, zero-filled when asked), counted.
// The data pointer is its own context, as the default allocator's is, so raw allocations
// (raw_allocate/raw_deleter) keep working.
class CountingCpuAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const override
    {
        BudgetState& s = state();
        const uint64_t limit = s.limit.load(std::memory_order_relaxed);
        if (limit != kUnlimited) {
            const uint64_t live = s.live.load(std::memory_order_relaxed);
            if (uint64_t(n) > limit || live > limit - uint64_t(n))
                refuse(uint64_t(n), live);
        }
        void* p = c10::alloc_cpu(n);
        s.live.fetch_add(heldBytes(p), std::memory_order_relaxed);
        return {p, p, &countedFree, c10::Device(c10::DeviceType::CPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override { return &countedFree; }

private:
    [[noreturn]] static void refuse(uint64_t n, uint64_t live)
    {
        BudgetState& s = state();
        std::string why;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            const uint64_t held = live > s.base ? live - s.base : 0;
            why = "allocating a tensor of " + formatBudgetBytes(n) +
                  " would pass the memory budget of " + formatBudgetBytes(s.budget) +
                  " (the run holds " + formatBudgetBytes(held) + " of tensors already; raise " +
                  "the budget with " + kMemoryBudgetVariable + " if the model needs that much)";
            s.lastRefusal = why;
        }
        s.refusals.fetch_add(1);
        TORCH_CHECK(false, why);
    }
};

void installOnce()
{
    static std::once_flag once;
    std::call_once(once, [] {
        static CountingCpuAllocator allocator;
        // Priority 1: above the default allocator's registration (0), so it stays in place.
        c10::SetCPUAllocator(&allocator, 1);
    });
}

} // namespace

TensorBudgetScope::TensorBudgetScope() : TensorBudgetScope(memoryBudget()) {}

TensorBudgetScope::TensorBudgetScope(uint64_t budgetBytes)
{
    installOnce();
    BudgetState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    mark_ = s.refusals.load();
    if (s.active++ == 0) {
        s.base = s.live.load();
        s.budget = budgetBytes;
        s.limit.store(s.base > kUnlimited - 1 - budgetBytes ? kUnlimited - 1
                                                            : s.base + budgetBytes);
    }
}

TensorBudgetScope::~TensorBudgetScope()
{
    BudgetState& s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (--s.active == 0)
        s.limit.store(kUnlimited);
}

std::string TensorBudgetScope::refusedSince(uint64_t mark)
{
    BudgetState& s = state();
    if (s.refusals.load() <= mark)
        return {};
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.lastRefusal;
}

void TensorBudgetScope::throwIfRefused(const std::string& what) const
{
    const std::string refused = refusedSince(mark_);
    if (!refused.empty())
        throw Error(what + ": " + refused);
}

uint64_t TensorBudgetScope::liveBytes()
{
    return state().live.load();
}

} // namespace bucketlab
