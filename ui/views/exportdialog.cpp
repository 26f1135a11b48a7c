#include "ui/views/exportdialog.h"

#include "core/report/html_report.h"
#include "core/util/error.h"
#include "core/util/output_file.h"

#include "core/package/package_export.h"
#include "core/spec/package_meta.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/errortext.h"
#include "ui/views/jobprogress.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <map>
#include <memory>

namespace bucketlab::ui {
// What one export run produced: the package, and the report when one was asked for.
struct ExportOutcome {
    ExportResult result;
    std::string report;      // written report, empty when none
    std::string reportError; // the package was written but the report failed
};
} // namespace bucketlab::ui
Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::ui::ExportOutcome>)

namespace bucketlab::ui {

namespace {

QString boundariesText(const Boundaries& b)
{
    return QString::fromStdString(b.str()).replace(",", ", ");
}

} // namespace

void ExportDialog::setServedRange(const ServedRangeChange& range)
{
    servedRange_->setText(QString::fromStdString(range.describe()));
    servedRange_->setStyleSheet(
        range.shrinks() ? QStringLiteral("color: #b00020; font-weight: 600;") : QString());
}

ExportDialog::ExportDialog(const QString& sourcePackage, const Boundaries& boundaries,
                           QWidget* parent)
    : QDialog(parent), source_(sourcePackage), boundaries_(boundaries)
{
    setObjectName("exportDialog");
    setWindowTitle(tr("Export tuned package"));
    setMinimumWidth(620);
    job_ = new BackgroundJob(this);

    QFormLayout* form = buildForm(boundaries);
    QLabel* note = buildStatusArea();
    QHBoxLayout* buttons = buildButtons();

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(jobs_);
    layout->addWidget(error_);
    layout->addWidget(summary_, 1);
    layout->addLayout(buttons);

    connectJob();
}

QFormLayout* ExportDialog::buildForm(const Boundaries& boundaries)
{
    const QFileInfo src(source_);
    out_ = new QLineEdit(src.dir().filePath(src.completeBaseName() + ".tuned.pt"), this);
    out_->setObjectName("exportOutput");
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export package"), out_->text(),
                                                          tr("TorchScript packages (*.pt)"));
        if (!path.isEmpty())
            out_->setText(path);
    });
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(out_, 1);
    outRow->addWidget(browse);

    recipe_ = new QCheckBox(tr("Also write the Neuron build recipe to"), this);
    recipe_->setObjectName("exportRecipe");
    recipe_->setToolTip(tr("bucket_config.json, bucket_kernel.py, neuron_build.py and a README: "
                           "what torch_neuronx.bucket_model_trace needs on a Neuron host"));
    recipeDir_ = new QLineEdit(src.dir().filePath("neuron_recipe"), this);
    recipeDir_->setObjectName("exportRecipeDir");
    recipeDir_->setEnabled(false);
    connect(recipe_, &QCheckBox::toggled, recipeDir_, &QLineEdit::setEnabled);
    auto* recipeRow = new QHBoxLayout;
    recipeRow->addWidget(recipe_);
    recipeRow->addWidget(recipeDir_, 1);
    report_ = new QCheckBox(tr("Also write the HTML report to"), this);
    report_->setObjectName("exportReport");
    reportPath_ = new QLineEdit(src.dir().filePath(src.completeBaseName() + ".report.html"), this);
    reportPath_->setObjectName("exportReportPath");
    reportPath_->setEnabled(false);
    connect(report_, &QCheckBox::toggled, reportPath_, &QLineEdit::setEnabled);
    auto* reportRow = new QHBoxLayout;
    reportRow->addWidget(report_);
    reportRow->addWidget(reportPath_, 1);
    setReportInputs(std::nullopt);
    force_ = new QCheckBox(tr("Replace the outputs if they exist"), this);
    force_->setObjectName("exportForce");

    auto* form = new QFormLayout;
    form->addRow(tr("Source package"), new QLabel(source_, this));
    form->addRow(tr("New boundaries"), new QLabel(boundariesText(boundaries), this));
    servedRange_ =
        new QLabel(tr("up to %1").arg(boundaries.empty() ? 0 : boundaries.largest()), this);
    servedRange_->setObjectName("exportServedRange");
    servedRange_->setWordWrap(true);
    form->addRow(tr("Serves"), servedRange_);
    form->addRow(tr("Output"), outRow);
    form->addRow(recipeRow);
    form->addRow(reportRow);
    form->addRow(force_);
    return form;
}

QLabel* ExportDialog::buildStatusArea()
{
    auto* note = new QLabel(tr("The new package is read back and compared with the source at "
                               "every boundary, each boundary + 1, the maximum and random "
                               "lengths before it gets its name; nothing is written if it "
                               "differs."),
                            this);
    note->setWordWrap(true);
    jobs_ = new JobProgress("export", JobProgress::Idle::Shown, this);
    summary_ = new QLabel(this);
    summary_->setObjectName("exportSummary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    error_ = new QLabel(this);
    error_->setObjectName("exportError");
    error_->setWordWrap(true);
    error_->setStyleSheet("color: #b00020;");
    error_->hide();
    return note;
}

QHBoxLayout* ExportDialog::buildButtons()
{
    exportButton_ = new QPushButton(tr("Export"), this);
    exportButton_->setObjectName("exportButton");
    exportButton_->setDefault(true);
    auto* close = new QPushButton(tr("Close"), this);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(exportButton_);
    buttons->addWidget(close);
    connect(exportButton_, &QPushButton::clicked, this, &ExportDialog::start);
    connect(close, &QPushButton::clicked, this, [this] {
        job_->cancel();
        reject();
    });
    return buttons;
}

void ExportDialog::connectJob()
{
    jobs_->track(job_);
    connect(job_, &BackgroundJob::stopped, this, [this] { exportButton_->setEnabled(true); });
    connect(job_, &BackgroundJob::failed, this, [this](const QString& message) {
        error_->setText(message);
        error_->show();
        Q_EMIT exportFinished(false);
    });
    connect(job_, &BackgroundJob::cancelled, this, [this] {
        jobs_->showOutcome(0.0, tr("cancelled — nothing was written"));
        Q_EMIT exportFinished(false);
    });
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& value) {
        showOutcome(*value.value<std::shared_ptr<ExportOutcome>>());
    });
}

void ExportDialog::showOutcome(const ExportOutcome& outcome)
{
    const ExportResult* r = &outcome.result;
    QStringList lines;
    if (!r->written) {
        error_->setText(tr("Not written: %1").arg(QString::fromStdString(r->failure)));
        error_->show();
        jobs_->showOutcome(1.0, tr("verification failed"));
    } else {
        jobs_->showOutcome(1.0, tr("done"));
        lines << tr("Wrote %1 (%2 bytes): buckets %3.")
                     .arg(QString::fromStdString(r->out))
                     .arg(r->packageBytes)
                     .arg(boundariesText(r->meta.boundaries));
        lines << tr("Verified against the source at %n length(s): max |diff| %1.", nullptr,
                    int(r->lengths.size()))
                     .arg(r->maxAbsDiff, 0, 'g', 3);
        lines << (r->kernelValidated
                      ? (r->kernelDefects.empty()
                             ? tr("The kernel validates clean.")
                             : tr("Kernel defects: %1")
                                   .arg(QString::fromStdString(r->kernelDefects.front())))
                      : tr("The kernel was not validated."));
    }
    for (const auto& f : r->recipeFiles)
        lines << tr("Recipe: %1").arg(QString::fromStdString(f));
    if (!outcome.report.empty())
        lines << tr("Report: %1").arg(QString::fromStdString(outcome.report));
    if (!outcome.reportError.empty()) {
        error_->setText(tr("The package was written, but not the report: %1")
                            .arg(QString::fromStdString(outcome.reportError)));
        error_->show();
    }
    summary_->setText(lines.join("\n"));
    Q_EMIT exportFinished(r->written);
}

void ExportDialog::setOutput(const QString& path)
{
    out_->setText(path);
}

void ExportDialog::setRecipeDir(const QString& dir)
{
    recipe_->setChecked(!dir.isEmpty());
    if (!dir.isEmpty())
        recipeDir_->setText(dir);
}

void ExportDialog::setReportInputs(const std::optional<BoundaryReportRequest>& inputs,
                                   const QString& whyNot)
{
    reportInputs_ = whyNot.isEmpty() ? inputs : std::nullopt;
    report_->setEnabled(reportInputs_.has_value());
    if (!reportInputs_)
        report_->setChecked(false);
    report_->setToolTip(
        reportInputs_ ? tr("One self-contained HTML file comparing the package's boundaries with "
                           "the new ones on this traffic and latency: tables, plots, the "
                           "kernel checks and the environment. The artefact for a pull request.")
        : whyNot.isEmpty() ? tr("Needs traffic and a latency curve in the session")
                           : whyNot);
}

void ExportDialog::setReportPath(const QString& path)
{
    report_->setChecked(!path.isEmpty() && reportInputs_.has_value());
    if (!path.isEmpty())
        reportPath_->setText(path);
}

void ExportDialog::setForce(bool force)
{
    force_->setChecked(force);
}

QString ExportDialog::summary() const
{
    return summary_->text();
}

QString ExportDialog::errorText() const
{
    return error_->isHidden() ? QString() : error_->text();
}

void ExportDialog::start()
{
    error_->hide();
    summary_->clear();
    ExportRequest request;
    request.package = source_.toStdString();
    request.boundaries = boundaries_;
    request.out = out_->text().toStdString();
    request.force = force_->isChecked();
    if (recipe_->isChecked())
        request.neuronRecipeDir = recipeDir_->text().toStdString();
    std::optional<BoundaryReportRequest> report;
    std::string reportPath;
    if (report_->isChecked() && reportInputs_) {
        report = *reportInputs_;
        report->tuned = boundaries_;
        report->package = request.out; // the report validates the kernel that ships
        reportPath = reportPath_->text().toStdString();
        // Refuse before the long export: an existing report without "replace" or a report
        // that would overwrite an input.
        try {
            checkOutputPath(reportPath, OutputCheck{request.force,
                                                    {request.package, report->distribution,
                                                     report->latency, request.out}});
        } catch (const std::exception& e) {
            error_->setText(tr("Report: %1").arg(messageFor(e)));
            error_->show();
            Q_EMIT exportFinished(false);
            return;
        }
    }
    exportButton_->setEnabled(false);
    job_->start(tr("Exporting"), [request, report, reportPath](JobContext& context) {
        const Job job = context.job();
        // The report validates the new kernel again: about a fifth of the time.
        const double exportShare = report ? 0.8 : 1.0;
        auto outcome = std::make_shared<ExportOutcome>();
        outcome->result = exportPackage(request, job.sub(0, exportShare));
        if (outcome->result.written && report) {
            job.sub(exportShare, 1).report(0, "Writing the HTML report");
            try {
                const BoundaryReportRun run =
                    makeBoundaryReport(*report, torchReportRuntime(), job.sub(exportShare, 1));
                writeFileAtomically(reportPath, renderHtmlReport(run.report), request.force);
                outcome->report = reportPath;
            } catch (const Error& e) {
                outcome->reportError = messageFor(e).toStdString();
            }
        }
        return QVariant::fromValue(outcome);
    });
}

} // namespace bucketlab::ui
