#include "core/demo/demo_pipeline.h"

#include "core/latency/latency_curve.h"
#include "core/traffic/distribution.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/util/error.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace bucketlab {

DemoRun runDemo(const DemoRunOptions& options)
{
    auto stage = [&](const char* name) {
        if (options.stage)
            options.stage(name);
    };
    DemoRun run;
    stage("package");
    run.files = prepareDemo(options.dir);

    stage("traffic");
    run.traffic = readDistributionFile(run.files.distribution, {});
    const LatencyCurve curve = LatencyCurve::load(run.files.latency);
    run.latencyDescription = curve.describe();
    const BucketEvaluator evaluator(run.traffic, curve, demoCurrentBoundaries().back());
    run.current = evaluator.evaluate(demoCurrentBoundaries());

    stage("tune");
    TuningRequest request;
    request.settings.buckets = options.buckets;
    // Keep the largest bucket where the guide has it: the tuned package then serves every
    // length the current one does, and only the buckets below it move.
    request.settings.coverLength = demoCurrentBoundaries().back();
    request.current = demoCurrentBoundaries();
    request.distributionSource = run.files.distribution;
    run.tuning = tuneAndCompare(evaluator, request);
    if (!run.tuning.solution.feasible)
        throw Error("demo: tuning found no boundaries (" + run.tuning.solution.infeasibleReason +
                    ")");

    stage("validate");
    KernelCheckOptions check;
    check.maxLength = 2 * demoCurrentBoundaries().back();
    check.batchSizes = {1, 2};
    run.kernel = checkKernelFile(run.files.package, "", check);

    stage("export");
    ExportRequest exportRequest;
    exportRequest.package = run.files.package;
    exportRequest.boundaries = run.tuning.solution.boundaries;
    exportRequest.out = (fs::path(options.dir) / "demo_tuned.pt").string();
    exportRequest.force = true;
    exportRequest.neuronRecipeDir = (fs::path(options.dir) / "neuron_recipe").string();
    exportRequest.batches = {1};
    exportRequest.randomLengthsPerBucket = 1;
    run.exported = exportPackage(exportRequest);

    if (options.verifyBudgetS > 0) {
        stage("verify");
        BucketVerificationRequest v = verificationRequestFor(run.tuning.evaluation, curve);
        v.model = run.exported.out;
        v.budgetS = options.verifyBudgetS;
        run.verification = measureBuckets(v);
        run.prediction =
            checkPrediction(run.tuning.evaluation.stats.meanLatencyMs, run.verification);
        run.verified = true;
    }

    stage("check");
    EquivalenceOptions equivalence;
    equivalence.lengths = {1};
    for (int64_t b : demoCurrentBoundaries())
        for (int64_t l : {b - 1, b})
            equivalence.lengths.push_back(l);
    equivalence.lengths.push_back(demoCurrentBoundaries().back() + 1);
    run.equivalence = checkPackageAgainstBuckets(run.files.package, equivalence);
    return run;
}

} // namespace bucketlab
