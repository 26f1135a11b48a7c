#include "ui/views/runcomparisonpanel.h"

#include "ui/models/backgroundjob.h"
#include "ui/models/runcomparisonmodel.h"
#include "ui/models/secondrun.h"
#include "ui/models/session.h"
#include "ui/views/tablecopy.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <memory>

Q_DECLARE_METATYPE(std::shared_ptr<const bucketlab::ui::SecondRun>)
Q_DECLARE_METATYPE(std::shared_ptr<const bucketlab::RunComparison>)

namespace bucketlab::ui {

RunComparisonPanel::RunComparisonPanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), model_(new RunComparisonModel(this)),
      readJob_(new BackgroundJob(this)), priceJob_(new BackgroundJob(this)),
      debounce_(new QTimer(this))
{
    setObjectName("runComparisonPanel");
    title_ = new QLabel(this);
    title_->setObjectName("runComparisonTitle");
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QPushButton(tr("Close Comparison"), this);
    close->setObjectName("closeComparison");
    connect(close, &QPushButton::clicked, this, &RunComparisonPanel::closeSecondRun);
    summary_ = new QLabel(this);
    summary_->setObjectName("runComparisonSummary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    table_ = new QTableView(this);
    table_->setObjectName("runComparisonTable");
    table_->setModel(model_);
    installTableCopy(table_);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->setAlternatingRowColors(true);
    table_->setTextElideMode(Qt::ElideMiddle);

    auto* top = new QHBoxLayout;
    top->addWidget(title_, 1);
    top->addWidget(close);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(summary_);
    layout->addWidget(table_, 1);

    // A drag changes the active set on every mouse move: price once it rests.
    debounce_->setSingleShot(true);
    debounce_->setInterval(250);
    connect(debounce_, &QTimer::timeout, this, &RunComparisonPanel::price);
    for (auto signal : {&Session::boundarySetsChanged, &Session::activeBoundariesChanged,
                        &Session::trafficChanged, &Session::latencyChanged})
        connect(session_, signal, this, &RunComparisonPanel::schedulePricing);
    connect(session_, &Session::secondRunChanged, this, [this] {
        const auto& run = session_->secondRun();
        title_->setText(
            run ? tr("Run A: this session · Run B: %1 (%2)").arg(run->displayName, run->kind)
                : QString());
        title_->setToolTip(run ? run->path : QString());
        if (!run) {
            priceJob_->cancel();
            model_->setComparison(std::nullopt);
            summary_->clear();
            return;
        }
        price();
    });

    connect(readJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        session_->setSecondRun(result.value<std::shared_ptr<const SecondRun>>());
    });
    connect(readJob_, &BackgroundJob::failed, this, &RunComparisonPanel::failed);
    connect(priceJob_, &BackgroundJob::finished, this, [this](const QVariant& result) {
        const auto comparison = result.value<std::shared_ptr<const RunComparison>>();
        model_->setComparison(*comparison);
        summary_->setText(QString::fromStdString(describeRunComparison(*comparison)));
        Q_EMIT comparisonReady();
    });
    connect(priceJob_, &BackgroundJob::failed, this, [this](const QString& message) {
        model_->setComparison(std::nullopt);
        summary_->setText(tr("Not priced: %1").arg(message));
        Q_EMIT failed(tr("Compare: %1").arg(message));
    });
}

void RunComparisonPanel::openSecondRun(const QString& path)
{
    readJob_->start(tr("Reading %1").arg(path), [path](JobContext& context) -> QVariant {
        auto run = std::make_shared<const SecondRun>(readSecondRun(path, context.job()));
        return QVariant::fromValue(std::shared_ptr<const SecondRun>(run));
    });
}

void RunComparisonPanel::closeSecondRun()
{
    session_->setSecondRun(nullptr);
}

QString RunComparisonPanel::summary() const
{
    return summary_->text();
}

bool RunComparisonPanel::isBusy() const
{
    return readJob_->isRunning() || priceJob_->isRunning() || debounce_->isActive();
}

void RunComparisonPanel::schedulePricing()
{
    if (session_->secondRun())
        debounce_->start();
}

void RunComparisonPanel::price()
{
    debounce_->stop();
    const auto run = session_->secondRun();
    const auto runA = session_->evaluator();
    if (!run)
        return;
    if (!runA) {
        model_->setComparison(std::nullopt);
        summary_->setText(tr("Run A needs traffic and a latency curve to be priced"));
        return;
    }
    const std::string trafficA =
        session_->trafficSource() ? session_->trafficSource()->source : std::string();
    const std::vector<BoundarySet> sets = session_->boundarySets();
    const int active = session_->activeIndex();
    summary_->setText(tr("Pricing every set on both runs…"));
    priceJob_->start(tr("Comparing runs"), [=](JobContext& context) -> QVariant {
        auto comparison = std::make_shared<const RunComparison>(
            compareSessionWith(*runA, trafficA, sets, active, *run, context.job()));
        return QVariant::fromValue(std::shared_ptr<const RunComparison>(comparison));
    });
}

} // namespace bucketlab::ui
