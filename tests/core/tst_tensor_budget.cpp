// The memory budget for what a model allocates inside its own forward() (issue 12): while a
// TensorBudgetScope is alive, CPU tensor allocations are counted, and one that would pass the
// budget is refused before it is made.
#include "core/runtime/tensor_budget_p.h"
#include "core/util/error.h"

#include <c10/core/CPUAllocator.h>
#include <torch/jit.h>
#include <torch/script.h>

#include <QtTest>

using namespace bucketlab;

namespace {
constexpr uint64_t kMiB = uint64_t(1) << 20;

// Whether allocating `elements` floats raises; the tensor is freed at once when it does not.
bool allocationRaises(int64_t elements)
{
    try {
        auto t = torch::zeros({elements}, torch::kFloat32);
        return t.numel() != elements;
    } catch (const c10::Error&) {
        return true;
    }
}
} // namespace

class TestTensorBudget : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void refusesPastTheBudgetAndOnlyInsideTheScope()
    {
        QVERIFY(!allocationRaises(int64_t(4 * kMiB))); // 16 MiB, no scope: no limit
        {
            const TensorBudgetScope scope(8 * kMiB);
            QVERIFY(!allocationRaises(int64_t(kMiB))); // 4 MiB fits
            QVERIFY(TensorBudgetScope::refusedSince(scope.mark()).empty());
            QVERIFY(allocationRaises(int64_t(4 * kMiB))); // 16 MiB does not
            const std::string why = TensorBudgetScope::refusedSince(scope.mark());
            QVERIFY2(why.find("allocating a tensor of 16.00 MiB would pass the memory budget "
                              "of 8.00 MiB") == 0,
                     why.c_str());
            QVERIFY2(why.find("BUCKETLAB_MEMORY_BUDGET_MIB") != std::string::npos, why.c_str());
            QVERIFY_THROWS_EXCEPTION(Error, scope.throwIfRefused("model.pt: length 9"));
            try {
                scope.throwIfRefused("model.pt: length 9");
            } catch (const Error& e) {
                QCOMPARE(std::string(e.what()), "model.pt: length 9: " + why);
            }
        }
        QVERIFY(!allocationRaises(int64_t(4 * kMiB))); // the scope ended, and its limit too
    }

    void countsWhatIsHeldNotWhatWasEverAllocated()
    {
        const TensorBudgetScope scope(10 * kMiB);
        // Many 4 MiB tensors one after the other: each is freed before the next, so the
        // run never holds more than one.
        for (int i = 0; i < 20; ++i)
            QVERIFY(!allocationRaises(int64_t(kMiB)));
        const uint64_t before = TensorBudgetScope::liveBytes();
        auto a = torch::zeros({int64_t(kMiB)});
        QVERIFY(TensorBudgetScope::liveBytes() >= before + 4 * kMiB);
        auto b = torch::zeros({int64_t(kMiB)});
        QVERIFY(allocationRaises(int64_t(kMiB))); // a third 4 MiB would hold 12 MiB
        a = torch::Tensor();
        QVERIFY(!allocationRaises(int64_t(kMiB))); // freeing one made room
        QVERIFY(TensorBudgetScope::liveBytes() < before + 8 * kMiB);
    }

    void aMarkSeesOnlyLaterRefusals()
    {
        const TensorBudgetScope outer(4 * kMiB);
        QVERIFY(allocationRaises(int64_t(2 * kMiB)));
        const TensorBudgetScope inner(4 * kMiB); // nested: the outermost scope's limit holds
        QVERIFY(TensorBudgetScope::refusedSince(inner.mark()).empty());
        QVERIFY(!TensorBudgetScope::refusedSince(outer.mark()).empty());
        QVERIFY(allocationRaises(int64_t(2 * kMiB)));
        QVERIFY(!TensorBudgetScope::refusedSince(inner.mark()).empty());
    }

    void rawAllocationsStillWork()
    {
        // Some LibTorch code allocates raw memory through the CPU allocator's raw_deleter.
        const TensorBudgetScope scope(8 * kMiB);
        c10::Allocator* allocator = c10::GetCPUAllocator();
        void* p = allocator->raw_allocate(1000);
        QVERIFY(p != nullptr);
        static_cast<char*>(p)[999] = 1;
        allocator->raw_deallocate(p);
    }

    void aRefusalInsideTorchScriptNamesTheBudget()
    {
        // A model that builds an n x n x 1024 float tensor inside its forward().
        auto unit = torch::jit::compile("def hungry(n: int):\n"
                                        "    return torch.zeros([n, n, 1024]).sum()\n");
        const TensorBudgetScope scope(16 * kMiB);
        QCOMPARE(unit->run_method("hungry", int64_t(16)).toTensor().item<float>(), 0.0f);
        try {
            unit->run_method("hungry", int64_t(1024)); // 4 GiB
            QFAIL("a 4 GiB tensor was allocated under a 16 MiB budget");
        } catch (const std::exception& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("allocating a tensor of 4.00 GiB would pass the memory budget "
                               "of 16.00 MiB") != std::string::npos,
                     what.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestTensorBudget)
#include "tst_tensor_budget.moc"
