#include "ui/views/profilepanel.h"

#include "core/latency/latency_curve.h"
#include "core/latency/profile_grid.h"
#include "core/latency/profiler.h"
#include "core/spec/input_spec.h"
#include "core/util/error.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/errortext.h"
#include "ui/models/savedprofiles.h"
#include "ui/models/session.h"
#include "ui/views/elidedlabel.h"
#include "ui/views/jobprogress.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>

#include <algorithm>
#include <memory>

Q_DECLARE_METATYPE(bucketlab::ProfilePoint)
Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::Profile>)

namespace bucketlab::ui {

namespace {

// What one run measures, decided on the UI thread from the session.
struct ProfilePlan {
    ProfileRequest request;
    QString modelName;
};

ProfilePlan planFor(const Session& session, int gridPoints, int budgetS, int threads,
                    const QString& inputs)
{
    if (!session.model())
        throw Error("open a model or package to profile first");
    const ModelInfo& model = *session.model();
    ProfilePlan plan;
    plan.modelName = QFileInfo(QString::fromStdString(model.path)).fileName();
    ProfileRequest& r = plan.request;
    r.model = model.path;
    r.threads = threads;
    r.budgetS = budgetS;
    std::vector<int64_t> current = session.activeBoundaries().values();
    int64_t maxLength = 0;
    if (model.package) {
        const PackageMeta& meta = *model.package;
        maxLength = meta.maxLength();
        // A shared package: time its bucket model at each length, the cost of a bucket
        // there, which is the curve the tuner needs. A per-bucket package can only run
        // its own buckets: its forward() pads every length to them.
        r.bucketModel = meta.kind == PackageKind::Shared;
        current = meta.boundaries.values();
    } else {
        if (inputs.trimmed().isEmpty())
            throw Error("a plain model needs its inputs (name:dtype[:pad[:fill]],...) to be "
                        "profiled; a package carries them");
        r.inputs = parseInputSpecs(inputs.toStdString());
        maxLength = current.empty() ? 0 : current.back();
        maxLength = std::max<int64_t>(maxLength, session.histogram().maxLength());
        if (maxLength <= 0)
            maxLength = 512;
    }
    current.erase(
        std::remove_if(current.begin(), current.end(), [&](int64_t b) { return b > maxLength; }),
        current.end());
    r.lengths = gridLengths(gridPoints, std::min<int64_t>(16, maxLength), maxLength, current);
    return plan;
}

} // namespace

ProfilePanel::ProfilePanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), job_(new BackgroundJob(this)),
      saved_(new SavedProfiles(session, this))
{
    setObjectName("profilePanel");
    outputDir_ = SavedProfiles::defaultDirectory();

    buildControls();
    layoutControls();
    connectJob();
    updateEnabled();
}

void ProfilePanel::buildControls()
{
    grid_ = new QSpinBox(this);
    grid_->setObjectName("profileGrid");
    grid_->setRange(2, 64);
    grid_->setValue(12);
    grid_->setToolTip(tr("Lengths to measure: log-spaced from 16 to the largest bucket, plus "
                         "the current buckets"));
    budget_ = new QSpinBox(this);
    budget_->setObjectName("profileBudget");
    budget_->setRange(1, 3600);
    budget_->setValue(30);
    budget_->setSuffix(tr(" s"));
    budget_->setToolTip(tr("Time for the whole run; every length stops early once the 95 % "
                           "confidence interval of its median is within ±2 %"));
    threads_ = new QSpinBox(this);
    threads_->setObjectName("profileThreads");
    threads_->setRange(1, 256);
    threads_->setValue(1);
    threads_->setToolTip(tr("Intra-op threads (LibTorch and BLAS), as the server will run"));
    inputs_ = new QLineEdit(this);
    inputs_->setObjectName("profileInputs");
    inputs_->setPlaceholderText(tr("inputs of a plain model, e.g. input_ids:int64:0"));
    inputs_->setToolTip(tr("Only for a plain model: a package carries its inputs"));
    useForTuning_ = new QCheckBox(tr("Use for tuning"), this);
    useForTuning_->setObjectName("profileUseForTuning");
    useForTuning_->setChecked(true);
    useForTuning_->setToolTip(tr("Make the finished profile the latency curve the Buckets view "
                                 "and the optimizer use"));
    run_ = new QPushButton(tr("Profile"), this);
    run_->setObjectName("profileRun");
    run_->setToolTip(tr("Measure the model's latency at each grid length on this machine"));
    jobs_ = new JobProgress("profile", JobProgress::Idle::Hidden, this);
    jobs_->bar()->setTextVisible(false); // the status beside it says what is measured
    jobs_->bar()->setMaximumWidth(160);
    status_ = new ElidedLabel(this, Qt::ElideMiddle); // a saved path can be long
    status_->setObjectName("profileStatus");
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
}

void ProfilePanel::layoutControls()
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Grid:"), this));
    layout->addWidget(grid_);
    layout->addWidget(new QLabel(tr("Budget:"), this));
    layout->addWidget(budget_);
    layout->addWidget(new QLabel(tr("Threads:"), this));
    layout->addWidget(threads_);
    layout->addWidget(inputs_);
    layout->addWidget(useForTuning_);
    layout->addWidget(run_);
    layout->addWidget(jobs_);
    layout->addWidget(status_, 1);
}

void ProfilePanel::connectJob()
{
    connect(run_, &QPushButton::clicked, this, &ProfilePanel::start);
    jobs_->track(job_);
    connect(session_, &Session::modelChanged, this, &ProfilePanel::updateEnabled);
    connect(job_, &BackgroundJob::progress, this,
            [this](double, const QString& message, double) { status_->setText(message); });
    connect(job_, &BackgroundJob::partialResult, this, [this](const QVariant& value) {
        const auto point = value.value<ProfilePoint>();
        live_[point.length] = point;
        Q_EMIT liveUpdated();
    });
    connect(job_, &BackgroundJob::stopped, this, &ProfilePanel::updateEnabled);
    connect(job_, &BackgroundJob::cancelled, this, [this] {
        showMessage(tr("Profiling cancelled; nothing was saved."), false);
        live_.clear();
        Q_EMIT liveUpdated();
        Q_EMIT profilingStopped(false);
    });
    connect(job_, &BackgroundJob::failed, this, [this](const QString& message) {
        showMessage(tr("Profiling failed: %1").arg(message), true);
        live_.clear();
        Q_EMIT liveUpdated();
        Q_EMIT profilingStopped(false);
    });
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& value) {
        finishProfile(*value.value<std::shared_ptr<Profile>>());
    });
}

void ProfilePanel::finishProfile(const Profile& profile)
{
    live_.clear();
    Q_EMIT liveUpdated();
    QDir().mkpath(outputDir_);
    const QString stem = QFileInfo(QString::fromStdString(profile.modelFile)).completeBaseName();
    const QString path =
        QDir(outputDir_)
            .filePath(QStringLiteral("%1-%2.json")
                          .arg(stem, QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    try {
        writeProfile(path.toStdString(), profile, /*replace=*/true);
    } catch (const std::exception& e) {
        showMessage(tr("Measured, but the profile could not be saved: %1").arg(messageFor(e)),
                    true);
        Q_EMIT profilingStopped(false);
        return;
    }
    saved_->remember(path); // offered again after a restart
    session_->addProfile({path, profile});
    session_->markModified(); // minutes of measuring: the project should keep it
    int failed = 0;
    for (const auto& p : profile.points)
        failed += p.ok() ? 0 : 1;
    if (useForTuning_->isChecked()) {
        try {
            const std::string name = QFileInfo(path).fileName().toStdString();
            session_->setLatency(LatencyCurve::fromProfile(profile, path.toStdString()),
                                 LatencySource{name, path.toStdString()});
        } catch (const std::exception& e) {
            showMessage(tr("Saved %1, but it gives no latency curve: %2")
                            .arg(QDir::toNativeSeparators(path), messageFor(e)),
                        true);
            Q_EMIT profilingStopped(false);
            return;
        }
    }
    showMessage(failed ? tr("Saved %1; %2 lengths failed (see the table)")
                             .arg(QDir::toNativeSeparators(path))
                             .arg(failed)
                       : tr("Saved %1").arg(QDir::toNativeSeparators(path)),
                failed > 0);
    Q_EMIT profilingStopped(true);
}

Profile ProfilePanel::liveProfile() const
{
    Profile p = liveHeader_;
    for (const auto& [length, point] : live_)
        p.points.push_back(point);
    return p;
}

bool ProfilePanel::isProfiling() const
{
    return job_->isRunning();
}

void ProfilePanel::start()
{
    ProfilePlan plan;
    try {
        plan = planFor(*session_, grid_->value(), budget_->value(), threads_->value(),
                       inputs_->text());
    } catch (const std::exception& e) {
        showMessage(messageFor(e), true);
        Q_EMIT profilingStopped(false);
        return;
    }
    live_.clear();
    liveHeader_ = Profile{};
    showMessage(tr("Loading %1…").arg(plan.modelName), false);
    plan.request.simulatedCallMs = simulatedCallMs_;
    const ProfileRequest request = plan.request;
    job_->start(tr("Profiling %1").arg(plan.modelName), [request](JobContext& context) {
        ProfileObserver observer;
        observer.intervalS = 0.2;
        observer.progress = [&context](const ProfilerProgress& p) {
            // The point's statistics so far: the plot follows every length as it converges.
            if (p.point &&
                (p.stage == ProfileStage::Sampling || p.stage == ProfileStage::PointDone)) {
                ProfilePoint copy = *p.point;
                copy.samplesMs.clear(); // the plot needs the summary, not every sample
                context.partial(QVariant::fromValue(copy));
            }
        };
        auto profile = std::make_shared<Profile>(runProfile(request, context.job(), observer));
        return QVariant::fromValue(profile);
    });
    updateEnabled();
}

void ProfilePanel::cancel()
{
    job_->cancel();
}

void ProfilePanel::updateEnabled()
{
    const bool running = job_->isRunning();
    const bool hasModel = session_->model().has_value();
    const bool plain = hasModel && !session_->model()->package;
    run_->setEnabled(!running && hasModel);
    grid_->setEnabled(!running);
    budget_->setEnabled(!running);
    threads_->setEnabled(!running);
    inputs_->setVisible(plain);
    inputs_->setEnabled(!running);
    if (!hasModel && !running)
        run_->setToolTip(tr("Open a model or package to profile it"));
}

void ProfilePanel::showMessage(const QString& text, bool error)
{
    status_->setText(text);
    status_->setToolTip(text);
    QPalette p = status_->palette();
    p.setColor(QPalette::WindowText,
               error ? QColor(0xc0, 0x39, 0x2b) : palette().color(QPalette::WindowText));
    status_->setPalette(p);
}

} // namespace bucketlab::ui
