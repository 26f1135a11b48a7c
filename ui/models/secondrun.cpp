#include "ui/models/secondrun.h"

#include "core/latency/profile_format.h"
#include "core/project/project.h"
#include "core/traffic/distribution.h"
#include "core/util/error.h"

#include <QFile>
#include <QFileInfo>

namespace bucketlab::ui {

namespace {

QByteArray firstLine(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readLine(4096);
}

void readTraffic(SecondRun& run, const DistributionSource& source, const Job& job)
{
    DistributionOptions options = distributionOptionsOf(source);
    options.job = job;
    run.traffic = loadDistribution(source.source, options);
    run.trafficSource = source.source;
}

void readLatency(SecondRun& run, const std::string& source)
{
    run.curve = LatencyCurve::load(source);
    run.latencySource = source;
}

} // namespace

SecondRun readSecondRun(const QString& path, const Job& job)
{
    const std::string file = path.toStdString();
    const QFileInfo info(path);
    if (!info.isFile())
        throw Error(file + ": no such file");
    SecondRun run;
    run.path = path;
    run.displayName = info.fileName();
    const QString suffix = info.suffix().toLower();
    if (path.endsWith(".bucketlab.json")) {
        run.kind = "project";
        const Project project = readProject(file);
        if (project.distributions.empty() && project.latencies.empty())
            throw Error(file + ": the project has neither traffic nor a latency curve to "
                               "compare with; open one that has either");
        if (!project.distributions.empty())
            readTraffic(run, project.distributions.front(), job);
        job.checkCancelled();
        if (!project.latencies.empty())
            readLatency(run, project.latencies.front().source);
        for (const auto& set : project.boundarySets)
            if (!set.boundaries.empty())
                run.sets.push_back({set.name, set.boundaries});
        return run;
    }
    if (suffix == "json" || (suffix == "csv" && firstLine(path).contains("latency_ms"))) {
        run.kind = "profile";
        readLatency(run, file);
        return run;
    }
    if (suffix == "csv" || suffix == "tsv" || suffix == "jsonl" || suffix == "ndjson") {
        run.kind = "traffic";
        readTraffic(run, {info.fileName().toStdString(), file, {}}, job);
        return run;
    }
    throw Error(file + ": compare with a project (.bucketlab.json), a latency profile "
                       "(.json/.csv) or a traffic file (.csv/.tsv/.jsonl)");
}

} // namespace bucketlab::ui
