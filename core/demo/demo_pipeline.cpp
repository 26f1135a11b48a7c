#include "core/demo/demo_pipeline.h"

#include "core/latency/latency_curve.h"
#include "core/traffic/distribution.h"
#include "core/tuning/bucket_evaluator.h"
#include "core/util/error.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace bucketlab {

DemoRun runDemo(const DemoRunOptions& options, const Job& job)
{
    DemoRun run;
    job.report(0, "packaging the demo encoder");
    run.files = prepareDemo(options.dir);

    job.checkCancelled();
    job.report(0.05, "reading the traffic");
    run.traffic = readDistributionFile(run.files.distribution, {});
    const LatencyCurve curve = LatencyCurve::load(run.files.latency);
    run.latencyDescription = curve.describe();
    const BucketEvaluator evaluator(run.traffic, curve, demoCurrentBoundaries().largest());
    run.current = evaluator.evaluate(demoCurrentBoundaries());

    job.report(0.07, "tuning");
    TuningRequest request;
    request.settings.buckets = options.buckets;
    // Serve up to the current largest bucket (the default): the tuned package then serves
    // every length the current one does, and only the buckets below it move.
    request.current = demoCurrentBoundaries();
    request.distributionSource = run.files.distribution;
    run.tuning = tuneAndCompare(evaluator, request, job.sub(0.07, 0.1));
    if (!run.tuning.solution.feasible)
        throw Error("demo: tuning found no boundaries (" + run.tuning.solution.infeasibleReason +
                    ")");

    job.report(0.1, "validating the package's kernel");
    KernelCheckOptions check;
    check.maxLength = 2 * demoCurrentBoundaries().largest();
    check.batchSizes = {1, 2};
    run.kernel = checkKernelFile(run.files.package, "", check, job.sub(0.1, 0.2));

    job.report(0.2, "exporting the tuned package");
    ExportRequest exportRequest;
    exportRequest.package = run.files.package;
    exportRequest.boundaries = run.tuning.solution.boundaries;
    exportRequest.out = (fs::path(options.dir) / "demo_tuned.pt").string();
    exportRequest.force = true;
    exportRequest.neuronRecipeDir = (fs::path(options.dir) / "neuron_recipe").string();
    exportRequest.batches = {1};
    exportRequest.randomLengthsPerBucket = 1;
    run.exported = exportPackage(exportRequest, job.sub(0.2, 0.6));

    if (options.verifyBudgetS > 0) {
        job.report(0.6, "measuring the tuned package");
        BucketVerificationRequest v = verificationRequestFor(run.tuning.evaluation, curve);
        v.model = run.exported.out;
        v.budgetS = options.verifyBudgetS;
        run.verification = measureBuckets(v, job.sub(0.6, 0.95));
        run.prediction =
            checkPrediction(run.tuning.evaluation.stats.meanLatencyMs, run.verification);
        run.verified = true;
    }

    job.report(0.95, "checking the package against its bucket models");
    EquivalenceOptions equivalence;
    equivalence.lengths = {1};
    for (int64_t b : demoCurrentBoundaries())
        for (int64_t l : {b - 1, b})
            equivalence.lengths.push_back(l);
    equivalence.lengths.push_back(demoCurrentBoundaries().largest() + 1);
    run.equivalence = checkPackageAgainstBuckets(run.files.package, equivalence, job.sub(0.95, 1));
    job.report(1, "done");
    return run;
}

} // namespace bucketlab
