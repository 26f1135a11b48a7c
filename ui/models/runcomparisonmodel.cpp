#include "ui/models/runcomparisonmodel.h"

#include "core/report/boundary_report.h"
#include "core/util/format.h"
#include "ui/models/session.h"

#include <QLocale>
#include <QStringList>

#include <cmath>

namespace bucketlab::ui {

RunComparison compareSessionWith(const BucketEvaluator& runA, const std::string& trafficA,
                                 const std::vector<BoundarySet>& sets, int active,
                                 const SecondRun& runB, const Job& job)
{
    const BoundarySet* activeSet =
        active >= 0 && size_t(active) < sets.size() ? &sets[size_t(active)] : nullptr;
    const BoundarySet* current = nullptr;
    for (const auto& s : sets)
        if (s.kind == "current" && !s.boundaries.empty()) {
            current = &s;
            break;
        }
    if (!current)
        current = activeSet;
    if (!current || current->boundaries.empty())
        throw Error("comparing runs needs a boundary set in the session: open a "
                    "package or type "
                    "boundaries");
    BoundaryComparisonRequest compare;
    compare.current = current->boundaries;
    if (activeSet && activeSet != current && !activeSet->boundaries.empty())
        compare.tuned = activeSet->boundaries;
    compare.distributionSource = trafficA;
    const BoundaryComparison primary = compareBoundaries(runA, compare, job.sub(0, 0.4));
    job.checkCancelled();

    const BucketEvaluator evaluatorB(runB.traffic ? *runB.traffic : runA.histogram(),
                                     runB.curve ? *runB.curve : runA.curve(), runA.maxLength());
    RunComparisonRequest request;
    request.primary = &primary;
    request.runA = &runA;
    request.runB = &evaluatorB;
    const auto info = [](const std::string& traffic, const BucketEvaluator& e) {
        ReportRunInfo r;
        r.traffic = traffic;
        r.latency = e.curve().describe();
        r.requests = e.histogram().total();
        r.shortest = e.histogram().minLength();
        r.longest = e.histogram().maxLength();
        r.meanLength = e.histogram().mean();
        return r;
    };
    request.a = info(trafficA, runA);
    request.b = info(runB.traffic ? runB.trafficSource : trafficA, evaluatorB);
    if (runB.kind == "project")
        request.b.project = runB.path.toStdString();
    request.sameTraffic = !runB.traffic;
    request.sameLatency = !runB.curve;
    request.setsOfB = runB.sets;
    for (const auto& s : sets)
        if (!s.boundaries.empty())
            request.setsOfA.push_back({boundarySetTitle(s).toStdString(), s.boundaries});
    return compareRuns(request, job.sub(0.4, 1));
}

RunComparisonModel::RunComparisonModel(QObject* parent) : ColumnTableModel(parent)
{
    using Row = RunComparisonRow;
    using Col = TableColumn<Row>;
    // A figure of one run: the number with its unit, sorted by the number.
    auto figure = [this](const QString& header, bool runB, double EvaluationStats::*field,
                         int decimals, const QString& unit) {
        auto value = [this, runB, field](const Row& r) {
            return (runB ? set(r).b : set(r).a).stats.*field;
        };
        return Col(header,
                   [value, decimals, unit](const Row& r) {
                       return QLocale().toString(value(r), 'f', decimals) + unit;
                   })
            .sortBy([value](const Row& r) { return value(r); });
    };
    auto delta = [this](const Row& r) {
        return set(r).b.stats.meanLatencyMs - set(r).a.stats.meanLatencyMs;
    };
    auto deltaText = [delta](const Row& r) {
        const double d = delta(r);
        const QString sign = d > 0 ? "+" : d < 0 ? "−" : "";
        return sign + QLocale().toString(std::abs(d), 'f', 3) + " ms";
    };
    auto boundaries = [this](const Row& r) {
        return QString::fromStdString(formatLengths(set(r).a.boundaries, ", "));
    };
    const auto ms = &EvaluationStats::meanLatencyMs;
    const auto p99 = &EvaluationStats::p99LatencyMs;
    const auto waste = &EvaluationStats::wastePct;
    const auto rejected = &EvaluationStats::rejectedPct;
    std::vector<Col> columns{
        Col(tr("Set"), [this](const Row& r) { return QString::fromStdString(set(r).name); })
            .boldWhen([](const Row& r) { return r.bestA || r.bestB; }),
        Col(tr("Boundaries"), boundaries),
        figure(tr("Mean A"), false, ms, 3, " ms"),
        figure(tr("Mean B"), true, ms, 3, " ms"),
        Col(tr("B − A"), deltaText).sortBy([delta](const Row& r) { return delta(r); }),
        figure(tr("p99 A"), false, p99, 3, " ms"),
        figure(tr("p99 B"), true, p99, 3, " ms"),
        figure(tr("Waste A"), false, waste, 1, " %"),
        figure(tr("Waste B"), true, waste, 1, " %"),
        figure(tr("Rejected A"), false, rejected, 2, " %"),
        figure(tr("Rejected B"), true, rejected, 2, " %"),
    };
    for (int c = MeanA; c < ColumnCount; ++c)
        columns[size_t(c)].align(Qt::AlignRight | Qt::AlignVCenter);
    setColumns(std::move(columns));
    setRowToolTip([this](const Row& r) -> QVariant {
        QStringList tip;
        if (!set(r).note.empty())
            tip << QString::fromStdString(set(r).note);
        if (r.bestA)
            tip << tr("Best on run A");
        if (r.bestB)
            tip << tr("Best on run B");
        return tip.isEmpty() ? QVariant() : tip.join("\n");
    });
}

void RunComparisonModel::setComparison(std::optional<RunComparison> comparison)
{
    std::vector<RunComparisonRow> rows;
    if (comparison)
        for (size_t i = 0; i < comparison->sets.size(); ++i)
            rows.push_back({i, i == comparison->bestA, i == comparison->bestB});
    setRows(std::move(rows), [&] { comparison_ = std::move(comparison); });
}

} // namespace bucketlab::ui
