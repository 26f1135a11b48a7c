#include "ui/models/sessionloader.h"

#include "core/archive/model_info.h"
#include "core/demo/demo.h"
#include "core/latency/latency_curve.h"
#include "core/latency/profile_format.h"
#include "core/traffic/distribution.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"

#include <QFileInfo>
#include <QSettings>

#include <fstream>
#include <memory>
#include <optional>

namespace bucketlab::ui {

namespace {

// What a request produced; applied to the session on the UI thread.
struct LoadResult {
    QString description;
    std::optional<ModelInfo> model;
    std::optional<std::string> kernelFile;
    std::optional<std::pair<LengthHistogram, DistributionSource>> traffic;
    std::optional<std::pair<LatencyCurve, LatencySource>> latency;
    std::vector<LoadedProfile> profiles;
    std::vector<BoundarySet> boundarySets;
    std::string activeSet;
    std::vector<std::string> warnings;
    bool replaceSession = false;
    // A project not read further: the files it names outside its folder.
    std::vector<std::string> outside;
    QString projectPath;
};

std::string peek(const std::string& path, size_t bytes)
{
    std::ifstream in(path, std::ios::binary);
    std::string s(bytes, '\0');
    in.read(s.data(), std::streamsize(bytes));
    s.resize(size_t(in.gcount()));
    return s;
}

std::string lower(std::string s)
{
    for (auto& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The current boundaries of an opened package.
void addPackageSet(LoadResult& r)
{
    if (r.model && r.model->package)
        r.boundarySets.push_back({"current", "current", r.model->package->boundaries});
}

LoadResult loadProfileFile(const std::string& path)
{
    LoadResult r;
    Profile profile = readProfile(path);
    LatencySource source{QFileInfo(QString::fromStdString(path)).fileName().toStdString(), path};
    r.latency = {LatencyCurve::fromProfile(profile, path), source};
    r.profiles.push_back({QString::fromStdString(path), std::move(profile)});
    r.description = QObject::tr("latency profile %1").arg(QString::fromStdString(path));
    return r;
}

LoadResult loadTrafficFile(const DistributionSource& source, const Job& job)
{
    DistributionOptions o;
    if (auto it = source.options.find("column"); it != source.options.end())
        o.column = it->second;
    if (auto it = source.options.find("field"); it != source.options.end())
        o.field = it->second;
    if (auto it = source.options.find("vocab"); it != source.options.end())
        o.vocab = it->second;
    if (auto it = source.options.find("text_columns"); it != source.options.end()) {
        std::string cols = it->second;
        size_t start = 0;
        while (start <= cols.size()) {
            const size_t comma = cols.find(',', start);
            o.textColumns.push_back(cols.substr(start, comma - start));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    }
    if (auto it = source.options.find("lowercase"); it != source.options.end())
        o.lowercase = it->second == "true" || it->second == "1";
    o.job = job;
    LoadResult r;
    r.traffic = {loadDistribution(source.source, o), source};
    r.description = QObject::tr("traffic %1").arg(QString::fromStdString(source.source));
    return r;
}

LoadResult loadAnyFile(const std::string& path, const Job& job)
{
    if (!QFileInfo::exists(QString::fromStdString(path)))
        throw Error(path + ": no such file");
    const std::string ext = lower(QFileInfo(QString::fromStdString(path)).suffix().toStdString());
    if (ext == "pt" || ext == "pth" || ext == "ptl" || ext == "zip") {
        LoadResult r;
        r.model = inspectModel(path);
        r.kernelFile = path;
        addPackageSet(r);
        r.description = QObject::tr("%1 %2").arg(r.model->package ? QObject::tr("package")
                                                                  : QObject::tr("model"),
                                                 QString::fromStdString(path));
        return r;
    }
    if (ext == "py") {
        // Compiled by the graph and validation views, which report its errors in place.
        LoadResult r;
        r.kernelFile = path;
        r.description = QObject::tr("kernel %1").arg(QString::fromStdString(path));
        return r;
    }
    if (ext == "json") {
        const std::string head = peek(path, 4096);
        if (head.find("bucketlab.profile/1") != std::string::npos)
            return loadProfileFile(path);
        if (head.find("bucketlab.project/1") != std::string::npos)
            throw Error(path + ": is a project; open it with File ▸ Open Project");
        throw Error(path + ": not a BucketLab profile (bucketlab.profile/1) or project");
    }
    if (ext == "csv" || ext == "tsv") {
        const std::string head = peek(path, 4096);
        if (head.substr(0, head.find('\n')).find("latency_ms") != std::string::npos)
            return loadProfileFile(path);
        return loadTrafficFile(
            {QFileInfo(QString::fromStdString(path)).fileName().toStdString(), path, {}}, job);
    }
    if (ext == "jsonl" || ext == "ndjson")
        return loadTrafficFile(
            {QFileInfo(QString::fromStdString(path)).fileName().toStdString(), path, {}}, job);
    if (ext == "txt") {
        const QString vocab = SessionLoader::textVocabulary();
        if (vocab.isEmpty())
            throw Error(path + ": text traffic needs a WordPiece vocabulary (vocab.txt); choose "
                               "one with File ▸ Open Traffic…");
        return loadTrafficFile({QFileInfo(QString::fromStdString(path)).fileName().toStdString(),
                                path,
                                {{"vocab", vocab.toStdString()}}},
                               job);
    }
    throw Error(path + ": unknown kind of file (open .pt models and packages, .py kernels, "
                       ".csv/.tsv/.jsonl/.txt traffic, .json/.csv latency profiles, "
                       ".bucketlab.json projects)");
}

} // namespace

} // namespace bucketlab::ui

Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::ui::LoadResult>)

namespace bucketlab::ui {

SessionLoader::SessionLoader(Session* session, QObject* parent)
    : QObject(parent), session_(session), job_(new BackgroundJob(this))
{
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        const auto r = result.value<std::shared_ptr<LoadResult>>();
        if (!r->outside.empty()) {
            QStringList files;
            for (const auto& f : r->outside)
                files << QString::fromStdString(f);
            Q_EMIT projectReachesOutside(r->projectPath, files);
        } else {
            apply(result);
            Q_EMIT finished(true, r->description);
        }
        startNext();
    });
    connect(job_, &BackgroundJob::failed, this, [this](const QString& message) {
        Q_EMIT finished(false, message);
        startNext();
    });
    connect(job_, &BackgroundJob::cancelled, this, [this] {
        Q_EMIT finished(false, tr("cancelled"));
        startNext();
    });
}

bool SessionLoader::isBusy() const
{
    return job_->isRunning() || !queue_.isEmpty();
}

QString SessionLoader::textVocabulary()
{
    const QString v = QSettings().value("traffic/vocabulary").toString();
    return QFileInfo::exists(v) ? v : QString();
}

void SessionLoader::setTextVocabulary(const QString& path)
{
    QSettings().setValue("traffic/vocabulary", path);
}

void SessionLoader::enqueue(Request request)
{
    queue_.enqueue(std::move(request));
    if (!job_->isRunning())
        startNext();
}

void SessionLoader::startNext()
{
    if (queue_.isEmpty()) {
        Q_EMIT idle();
        return;
    }
    Request r = queue_.dequeue();
    Q_EMIT started(r.what);
    job_->start(r.what, [work = r.work](JobContext& context) { return work(context.job()); });
}

void SessionLoader::openFile(const QString& path)
{
    const std::string p = path.toStdString();
    if (path.endsWith(".bucketlab.json")) {
        openProject(path);
        return;
    }
    enqueue({tr("Opening %1").arg(path), [p](const Job& job) {
                 return QVariant::fromValue(std::make_shared<LoadResult>(loadAnyFile(p, job)));
             }});
}

void SessionLoader::openTraffic(const DistributionSource& source)
{
    enqueue({tr("Reading traffic %1").arg(QString::fromStdString(source.source)),
             [source](const Job& job) {
                 return QVariant::fromValue(
                     std::make_shared<LoadResult>(loadTrafficFile(source, job)));
             }});
}

void SessionLoader::openLatency(const LatencySource& source)
{
    enqueue(
        {tr("Reading latency %1").arg(QString::fromStdString(source.source)), [source](const Job&) {
             LoadResult r;
             if (LatencyCurve::looksLikeSpec(source.source) &&
                 !QFileInfo::exists(QString::fromStdString(source.source))) {
                 r.latency = {LatencyCurve::fromSpec(source.source), source};
                 r.description =
                     QObject::tr("latency %1").arg(QString::fromStdString(source.source));
             } else {
                 r = loadProfileFile(source.source);
                 r.latency->second.name = source.name;
             }
             return QVariant::fromValue(std::make_shared<LoadResult>(r));
         }});
}

void SessionLoader::openDemo(const QString& dir)
{
    const std::string d = dir.toStdString();
    enqueue(
        {tr("Building the demo in %1").arg(dir), [d](const Job& job) {
             const DemoFiles files = prepareDemo(d);
             LoadResult r = loadAnyFile(files.package, job);
             LoadResult t = loadTrafficFile({"MRPC sentence pairs", files.distribution, {}}, job);
             r.traffic = t.traffic;
             const LatencySource latency{"demo encoder", files.latency};
             r.latency = {LatencyCurve::load(latency.source), latency};
             if (!LatencyCurve::looksLikeSpec(latency.source))
                 r.profiles.push_back(
                     {QString::fromStdString(latency.source), readProfile(latency.source)});
             r.replaceSession = true;
             r.activeSet = "current";
             r.description = QObject::tr("the demo (%1)").arg(QString::fromStdString(d));
             return QVariant::fromValue(std::make_shared<LoadResult>(r));
         }});
}

void SessionLoader::openProject(const QString& path, bool outsideAllowed)
{
    const std::string p = path.toStdString();
    enqueue({tr("Opening project %1").arg(path), [p, path, outsideAllowed](const Job& job) {
                 const Project project = readProject(p);
                 LoadResult r;
                 if (!outsideAllowed) {
                     r.outside = outsideProjectFiles(project);
                     r.projectPath = path;
                     if (!r.outside.empty())
                         return QVariant::fromValue(std::make_shared<LoadResult>(r));
                 }
                 r.replaceSession = true;
                 r.warnings = missingProjectFiles(project);
                 auto missing = [&](const std::string& file) {
                     for (const auto& w : r.warnings)
                         if (w.size() >= file.size() &&
                             w.compare(w.size() - file.size(), file.size(), file) == 0)
                             return true;
                     return false;
                 };
                 if (!project.model.empty() && !missing(project.model)) {
                     r.model = inspectModel(project.model);
                     r.kernelFile = project.model;
                 }
                 if (!project.distributions.empty() && !missing(project.distributions[0].source))
                     r.traffic = loadTrafficFile(project.distributions[0], job).traffic;
                 for (size_t i = 0; i < project.latencies.size(); ++i) {
                     const auto& l = project.latencies[i];
                     if (missing(l.source))
                         continue;
                     if (LatencyCurve::looksLikeSpec(l.source) &&
                         !QFileInfo::exists(QString::fromStdString(l.source))) {
                         if (!r.latency)
                             r.latency = {LatencyCurve::fromSpec(l.source), l};
                         continue;
                     }
                     LoadResult lr = loadProfileFile(l.source);
                     if (!r.latency) {
                         r.latency = lr.latency;
                         r.latency->second = l;
                     }
                     r.profiles.insert(r.profiles.end(), lr.profiles.begin(), lr.profiles.end());
                 }
                 r.boundarySets = project.boundarySets;
                 r.activeSet = project.activeBoundarySet;
                 r.description = QObject::tr("project %1").arg(QString::fromStdString(p));
                 return QVariant::fromValue(std::make_shared<LoadResult>(r));
             }});
}

void SessionLoader::apply(const QVariant& result)
{
    const auto r = result.value<std::shared_ptr<LoadResult>>();
    if (r->replaceSession)
        session_->clear();
    if (r->model)
        session_->setModel(*r->model);
    if (r->kernelFile)
        session_->setKernelFile(QString::fromStdString(*r->kernelFile));
    if (r->traffic)
        session_->setTraffic(r->traffic->first, r->traffic->second);
    for (const auto& p : r->profiles)
        session_->addProfile(p);
    if (r->latency)
        session_->setLatency(r->latency->first, r->latency->second);
    int active = -1;
    for (const auto& set : r->boundarySets) {
        const int index = session_->putBoundarySet(set);
        if (set.name == r->activeSet || (r->activeSet.empty() && active < 0))
            active = index;
    }
    if (active >= 0)
        session_->setActiveIndex(active);
    else if (session_->activeIndex() < 0 && !session_->boundarySets().empty())
        session_->setActiveIndex(0);
    for (const auto& w : r->warnings)
        Q_EMIT warning(tr("Missing %1").arg(QString::fromStdString(w)));
}

} // namespace bucketlab::ui
