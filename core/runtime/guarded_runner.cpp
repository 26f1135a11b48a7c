#include "core/runtime/guarded_runner_p.h"

#include "core/runtime/tensor_budget_p.h"
#include "core/util/error.h"

#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace bucketlab {
namespace {

using Clock = std::chrono::steady_clock;

int64_t nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

struct Slot {
    std::atomic<int64_t> itemStart{0};
    std::atomic<size_t> item{0};
};
struct RunnerState {
    RunnerState(size_t n, int t) : count(n), threads(t), slots(size_t(t)), done(n), running(t)
    {
        for (auto& d : done)
            d.store(0);
    }
    void work(size_t w)
    {
        torch::NoGradGuard noGrad;
        size_t i = count;
        try {
            while (!stop.load()) {
                i = next.fetch_add(1);
                if (i >= count)
                    break;
                slots[w].item.store(i);
                slots[w].itemStart.store(nowNs());
                item(i);
                // A refused allocation raised inside the call; the item may have taken it
                // for the kernel's own failure. It is the budget's, and ends the run.
                if (!TensorBudgetScope::refusedSince(budgetMark).empty())
                    throw Error("refused");
                slots[w].itemStart.store(0);
                done[i].store(1, std::memory_order_release);
                completed.fetch_add(1);
            }
        } catch (...) {
            std::string refused = TensorBudgetScope::refusedSince(budgetMark);
            std::lock_guard<std::mutex> lock(mutex);
            if (!refused.empty() && refusal.empty()) {
                refusal = std::move(refused);
                refusedItem = i;
            }
            if (!error)
                error = std::current_exception();
            stop.store(true);
        }
        std::lock_guard<std::mutex> lock(mutex);
        --running;
        cv.notify_all();
    }
    std::vector<uint8_t> doneFlags() const
    {
        std::vector<uint8_t> v(count);
        for (size_t i = 0; i < count; ++i)
            v[i] = done[i].load(std::memory_order_acquire);
        return v;
    }
    std::function<void(size_t)> item;
    uint64_t budgetMark = 0;
    size_t count;
    int threads;
    std::vector<Slot> slots;
    std::vector<std::atomic<uint8_t>> done;
    std::atomic<size_t> next{0};
    std::atomic<size_t> completed{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable cv;
    int running;
    std::exception_ptr error;
    std::string refusal; // the memory budget's, when it ended the run
    size_t refusedItem = 0;
};

} // namespace

struct GuardedRunner::Shared : RunnerState {
    using RunnerState::RunnerState;
};

GuardedRunner::Outcome GuardedRunner::run(size_t count, std::function<void(size_t)> item,
                                          double timeoutSeconds,
                                          const std::function<void(size_t)>& onProgress,
                                          const Job& job, int threads,
                                          const std::function<std::string(size_t)>& describe)
{
    const TensorBudgetScope budget;
    auto shared = std::make_shared<Shared>(count, std::max(1, threads));
    shared->item = std::move(item);
    shared->budgetMark = budget.mark();
    std::vector<std::thread> workers;
    for (int w = 0; w < shared->threads; ++w)
        workers.emplace_back([shared, w] { shared->work(size_t(w)); });
    const auto timeoutNs = int64_t(timeoutSeconds * 1e9);
    Outcome out;
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (shared->running > 0) {
        shared->cv.wait_for(lock, std::chrono::milliseconds(25));
        if (shared->running == 0)
            break;
        if (onProgress)
            onProgress(shared->completed.load());
        if (job.cancelled()) {
            shared->stop.store(true);
            // Calls in flight still have to end; one that never does is abandoned.
            const auto deadline = Clock::now() + std::chrono::nanoseconds(timeoutNs);
            shared->cv.wait_until(lock, deadline, [&] { return shared->running == 0; });
            const bool all = shared->running == 0;
            lock.unlock();
            for (auto& t : workers)
                all ? t.join() : t.detach();
            throw Cancelled();
        }
        for (auto& slot : shared->slots) {
            const int64_t start = slot.itemStart.load();
            if (start != 0 && nowNs() - start > timeoutNs) {
                shared->stop.store(true);
                out.timedOut = slot.item.load();
                break;
            }
        }
        if (out.timedOut) {
            lock.unlock();
            for (auto& t : workers)
                t.detach();
            out.done = shared->doneFlags();
            out.completed = size_t(std::count(out.done.begin(), out.done.end(), 1));
            return out;
        }
    }
    lock.unlock();
    for (auto& t : workers)
        t.join();
    if (!shared->refusal.empty())
        throw Error((describe ? describe(shared->refusedItem) + ": " : std::string()) +
                    shared->refusal);
    if (shared->error)
        std::rethrow_exception(shared->error);
    out.done = shared->doneFlags();
    out.completed = shared->completed.load();
    return out;
}

} // namespace bucketlab
