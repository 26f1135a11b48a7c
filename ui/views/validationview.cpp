#include "ui/views/validationview.h"

#include "core/kernel/constant_args.h"
#include "core/kernel/kernel.h"
#include "core/kernel/kernel_check.h"
#include "core/kernel/kernel_source.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/models/validationtablemodel.h"
#include "ui/views/jobprogress.h"
#include "ui/views/tablecopy.h"
#include "ui/views/validationstrip.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QShowEvent>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include <memory>

Q_DECLARE_METATYPE(std::shared_ptr<const bucketlab::KernelCheckResult>)

namespace bucketlab::ui {

namespace {

QString esc(const std::string& text)
{
    return QString::fromStdString(text).toHtmlEscaped();
}

QString callHtml(const KernelCall& call)
{
    QString html =
        QObject::tr("<p><b>Call</b> length %1, batch %2</p>").arg(call.length).arg(call.batch);
    html += QObject::tr("<p><b>Input</b></p><pre>");
    for (const auto& t : call.inputs)
        html += esc(t.text) + "\n";
    html += "</pre>";
    if (!call.error.empty()) {
        html += QObject::tr("<p><b>The kernel raised</b></p><pre>%1</pre>").arg(esc(call.error));
        return html;
    }
    html += QObject::tr("<p><b>The kernel's output</b> (%1 tensor(s), bucket index %2)</p><pre>")
                .arg(call.outputs.size())
                .arg(call.index.empty() ? QObject::tr("none") : esc(call.index));
    for (const auto& t : call.outputs)
        html += esc(t.text) + "\n";
    if (call.outputs.empty())
        html += QObject::tr("(empty list)");
    html += "</pre>";
    return html;
}

QString boundsText(const std::vector<int64_t>& b)
{
    return QString::fromStdString(formatLengths(b, ", "));
}

} // namespace

// What the view validates, and why. For the open package it is the kernel that serves the
// active boundary set: the package's own when the set is the package's buckets, otherwise
// the kernel BucketLab generates for the set with the package's inputs (what Export writes).
// A kernel file opened by itself is validated as written.
struct ValidationView::Subject {
    QString file;                          // a kernel file or archive; empty: generated
    std::optional<KernelLayout> generated; // the kernel generated for the active set
    int64_t batchDim = 0;
    std::vector<int64_t> expected; // the buckets it has to serve, when known
    QString header;                // rich text: what and why
    QString key;                   // changes when a different kernel is to be validated
    int64_t checkUpTo = 0;         // past the largest declared bucket; 0: as the user set it
    bool source = false;           // a kernel source file: called as the kernel-call controls say
};

ValidationView::Subject ValidationView::subject() const
{
    Subject out;
    const QString path = session_->kernelFile();
    if (path.isEmpty())
        return out;
    const QString name = QFileInfo(path).fileName().toHtmlEscaped();
    const BoundarySet* active = session_->activeSet();
    const QString setTitle =
        active ? session_->setTitle(session_->activeIndex()).toHtmlEscaped() : QString();
    const auto& model = session_->model();
    if (model && model->package && QString::fromStdString(model->path) == path) {
        const PackageMeta& meta = *model->package;
        if (active && !active->boundaries.empty() && active->boundaries != meta.boundaries) {
            out.generated = KernelLayout{active->boundaries, meta.bucketDim, meta.inputs};
            out.batchDim = meta.batchDim;
            out.expected = active->boundaries.values();
            out.header = tr("Kernel for the active set <b>%1</b> (buckets %2), as Export writes "
                            "it with %3's inputs. %3's own kernel serves %4, not this set.")
                             .arg(setTitle, boundsText(out.expected), name,
                                  boundsText(meta.boundaries.values()));
            out.key = QStringLiteral("generated:%1:%2").arg(path, boundsText(out.expected));
            out.checkUpTo = out.expected.back() * 2;
            return out;
        }
        out.file = path;
        out.expected = meta.boundaries.values();
        out.header =
            active ? tr("Kernel of <b>%1</b>, buckets %2: those of the active set "
                        "<b>%3</b>")
                         .arg(name, boundsText(out.expected), setTitle)
                   : tr("Kernel of <b>%1</b>, buckets %2").arg(name, boundsText(out.expected));
        out.key = QStringLiteral("file:") + path;
        if (!out.expected.empty())
            out.checkUpTo = out.expected.back() * 2;
        return out;
    }
    out.file = path;
    out.source = !isArchiveFile(path.toStdString());
    out.header =
        active ? tr("Kernel of <b>%1</b> as written: its buckets are inferred from what it "
                    "does (the active set <b>%2</b> is %3)")
                     .arg(name, setTitle, boundsText(active->boundaries.values()))
               : tr("Kernel of <b>%1</b> as written: its buckets are inferred from what it does")
                     .arg(name);
    if (active)
        out.expected = active->boundaries.values();
    out.key = QStringLiteral("file:") + path;
    return out;
}

ValidationView::ValidationView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), job_(new BackgroundJob(this))
{
    setObjectName("validationView");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);

    layout->addLayout(buildRunBar());
    layout->addWidget(makeKernelCallBar());

    summary_ = new QLabel(this);
    summary_->setObjectName("validationSummary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summary_);

    strip_ = new ValidationStrip(this);
    layout->addWidget(strip_);

    layout->addWidget(buildResults(), 1);

    connectControls();
    connectJob();
    followSession();
    refreshSubject(true);
}

QHBoxLayout* ValidationView::buildRunBar()
{
    auto* bar = new QHBoxLayout;
    kernel_ = new QLabel(this);
    kernel_->setObjectName("validationKernel");
    kernel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // What is validated and why can take two lines; wrapped, it never widens the window.
    kernel_->setWordWrap(true);
    bar->addWidget(kernel_, 1);
    bar->addWidget(new QLabel(tr("Lengths up to"), this));
    maxLength_ = new QSpinBox(this);
    maxLength_->setObjectName("validationMaxLength");
    maxLength_->setRange(2, 1 << 20);
    maxLength_->setValue(2048);
    maxLength_->setToolTip(tr("The kernel is called at every length from 1 to this (past the "
                              "largest bucket too), with batch sizes 1, 2 and 5"));
    bar->addWidget(maxLength_);
    run_ = new QPushButton(tr("Run"), this);
    run_->setObjectName("validationRun");
    run_->setToolTip(tr("Call the kernel at every length and batch size and report its defects"));
    bar->addWidget(run_);
    jobs_ = new JobProgress("validation", JobProgress::Idle::Hidden, this);
    jobs_->setMessageShown(false); // the summary below says what is checked and the time left
    jobs_->bar()->setMinimumWidth(200);
    bar->addWidget(jobs_);
    return bar;
}

QSplitter* ValidationView::buildResults()
{
    auto* split = new QSplitter(Qt::Horizontal, this);
    model_ = new ValidationTableModel(this);
    table_ = new QTableView(split);
    table_->setObjectName("validationTable");
    table_->setModel(model_);
    installTableCopy(table_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setWordWrap(false);
    details_ = new QTextBrowser(split);
    details_->setObjectName("validationDetails");
    split->addWidget(table_);
    split->addWidget(details_);
    split->setSizes({640, 560});
    return split;
}

void ValidationView::connectControls()
{
    connect(run_, &QPushButton::clicked, this, &ValidationView::run);
    connect(strip_, &ValidationStrip::rangeClicked, this,
            [this](int index) { table_->selectRow(index); });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid())
                    selectRange(current.row());
            });
}

void ValidationView::connectJob()
{
    jobs_->track(job_);
    connect(job_, &BackgroundJob::progress, this,
            [this](double, const QString& message, double remaining) {
                summary_->setText(remaining >= 0
                                      ? tr("%1 — about %2 s left")
                                            .arg(message)
                                            .arg(remaining, 0, 'f', remaining < 10 ? 1 : 0)
                                      : message);
            });
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& value) {
        setRunning(false);
        showResult(*value.value<std::shared_ptr<const KernelCheckResult>>());
        Q_EMIT validationFinished(true);
    });
    connect(job_, &BackgroundJob::failed, this, [this](const QString& message) {
        setRunning(false);
        summary_->setText(tr("<span style='color:%1'>Validation failed: %2</span>")
                              .arg(ValidationStrip::defectColor().name(), message.toHtmlEscaped()));
        Q_EMIT validationFinished(false);
    });
    connect(job_, &BackgroundJob::cancelled, this, [this] {
        setRunning(false);
        if (pendingRun_ || rerun_->isActive())
            return; // cancelled for the active set's kernel, which says so already
        summary_->setText(tr("Validation cancelled."));
        Q_EMIT validationFinished(false);
    });
}

void ValidationView::showResult(const KernelCheckResult& result)
{
    model_->setResult(result, ranMaxLength_);
    strip_->setRanges(model_->ranges(), result.boundaries);
    table_->resizeColumnsToContents();
    const QString bounds = boundsText(result.boundaries);
    const QLocale locale;
    QString text = tr("<b>%1</b> %2: %3 · inferred buckets [%4] · %5 calls in %6 s")
                       .arg(esc(result.kernel),
                            result.role == KernelRole::BucketKernel ? tr("bucket kernel")
                                                                    : tr("state preprocessor"),
                            result.ok ? tr("<span style='color:%1'>no defects</span>")
                                            .arg(ValidationStrip::okColor().name())
                                      : tr("<span style='color:%1'>%2 defect class(es)</span>")
                                            .arg(ValidationStrip::defectColor().name())
                                            .arg(result.defects.size()),
                            bounds, locale.toString(qlonglong(result.calls)))
                       .arg(result.seconds, 0, 'f', 2);
    // A kernel that serves other buckets than the active set is not the set's kernel.
    if (!ranExpected_.empty() && result.role == KernelRole::BucketKernel &&
        result.boundaries != ranExpected_)
        text += "<br>" +
                tr("<span style='color:%1'>Its buckets [%2] are not the active "
                   "set's [%3].</span>")
                    .arg(ValidationStrip::defectColor().name(), bounds, boundsText(ranExpected_));
    for (const auto& note : result.notes)
        text += "<br>" + tr("note: %1").arg(esc(note));
    if (result.workerAbandoned)
        text += "<br>" + tr("A kernel call never returned; it keeps running in the "
                            "background until BucketLab exits.");
    summary_->setText(text);
    details_->setHtml(tr("<p>Select a range to see its verdict; a defect shows the first "
                         "call that failed.</p>"));
    // Show the first defect straight away: that is what the user came for.
    for (int row = 0; row < model_->rowCount(); ++row)
        if (!model_->range(row).ok()) {
            table_->selectRow(row);
            break;
        }
}

void ValidationView::followSession()
{
    // An edit or a switch of the active set re-validates once the edits settle (a drag
    // changes the set on every mouse move), and only while the view is shown.
    rerun_ = new QTimer(this);
    rerun_->setSingleShot(true);
    rerun_->setInterval(400);
    connect(rerun_, &QTimer::timeout, this, &ValidationView::run);
    connect(session_, &Session::kernelFileChanged, this, [this] { refreshSubject(true); });
    for (auto signal :
         {&Session::modelChanged, &Session::boundarySetsChanged, &Session::activeBoundariesChanged})
        connect(session_, signal, this, [this] { refreshSubject(false); });
}

QWidget* ValidationView::makeKernelCallBar()
{
    kernelCall_ = new QWidget(this);
    kernelCall_->setObjectName("validationKernelCall");
    auto* row = new QHBoxLayout(kernelCall_);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(tr("Function"), kernelCall_));
    function_ = new QLineEdit(kernelCall_);
    function_->setObjectName("validationFunction");
    function_->setPlaceholderText(tr("detected"));
    function_->setMinimumWidth(fontMetrics().horizontalAdvance("context_encoder_bucket_k"));
    function_->setToolTip(tr("The kernel function in the file (default: the bucket kernel "
                             "torch.jit.script wraps)"));
    row->addWidget(function_);
    row->addWidget(new QLabel(tr("Contract"), kernelCall_));
    contract_ = new QComboBox(kernelCall_);
    contract_->setObjectName("validationContract");
    contract_->addItem(tr("pad: inputs at their length"), "pad");
    contract_->addItem(tr("slice: padded to the largest bucket"), "slice");
    contract_->setToolTip(tr("How inputs reach the kernel: at their length, padded up to the "
                             "nearest bucket (the guide's), or padded to the largest bucket "
                             "with L real tokens and sliced to the smallest bucket ≥ L "
                             "(NxD's context encoding)"));
    row->addWidget(contract_);
    row->addWidget(new QLabel(tr("Padding"), kernelCall_));
    side_ = new QComboBox(kernelCall_);
    side_->setObjectName("validationPaddingSide");
    side_->addItem(tr("right"), "right");
    side_->addItem(tr("left"), "left");
    side_->setToolTip(tr("Where the padding goes: after the real tokens (right) or before "
                         "them (left, as decoder prompts are padded)"));
    row->addWidget(side_);
    row->addWidget(new QLabel(tr("Constant arguments"), kernelCall_));
    constants_ = new QLineEdit(kernelCall_);
    constants_->setObjectName("validationConstantArgs");
    constants_->setPlaceholderText(tr("none, e.g. torch.tensor([128, 512]), 'right', 0"));
    constants_->setToolTip(tr("What the kernel takes after its inputs, as TorchScript "
                              "expressions (NxD's bucket_kernel_constant_args); the kernel is "
                              "called as kernel(inputs, *arguments)"));
    row->addWidget(constants_, 1);
    connect(constants_, &QLineEdit::returnPressed, this, &ValidationView::run);
    connect(function_, &QLineEdit::returnPressed, this, &ValidationView::run);
    kernelCall_->hide();
    return kernelCall_;
}

void ValidationView::setKernelCall(const QString& function, const QString& contract,
                                   const QString& side, const QString& constantArgs)
{
    function_->setText(function);
    contract_->setCurrentIndex(std::max(0, contract_->findData(contract)));
    side_->setCurrentIndex(std::max(0, side_->findData(side)));
    constants_->setText(constantArgs);
}

bool ValidationView::kernelCallShown() const
{
    return !kernelCall_->isHidden();
}

void ValidationView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (pendingRun_)
        run(); // not a burst of edits: no need to wait for them to settle
}

QString ValidationView::subjectText() const
{
    return kernel_->text();
}

bool ValidationView::isBusy() const
{
    return job_->isRunning() || rerun_->isActive();
}

void ValidationView::setMaxLength(int length)
{
    maxLength_->setValue(length);
}

QString ValidationView::detailsText() const
{
    return details_->toPlainText();
}

QString ValidationView::summaryText() const
{
    return summary_->text();
}

void ValidationView::refreshSubject(bool kernelFileChanged)
{
    const Subject now = subject();
    const QString path = session_->kernelFile();
    kernel_->setText(path.isEmpty() ? tr("No kernel: open a package or a kernel (.py)")
                                    : now.header);
    kernel_->setToolTip(path);
    kernelCall_->setVisible(now.source);
    if (!kernelFileChanged && now.key == subjectKey_)
        return; // the same kernel: its verdict stands
    subjectKey_ = now.key;
    job_->cancel();
    rerun_->stop();
    pendingRun_ = false;
    model_->clear();
    strip_->setRanges({}, {});
    details_->clear();
    run_->setEnabled(!path.isEmpty());
    if (path.isEmpty()) {
        summary_->clear();
        return;
    }
    // Known buckets: check past the largest one.
    if (now.checkUpTo > 0)
        maxLength_->setValue(int(std::min<int64_t>(now.checkUpTo, 1 << 20)));
    // Validation is quick for any sane kernel; running it at once shows the verdict when the
    // file is opened. A kernel that hangs is cut off by the per-call timeout.
    if (kernelFileChanged) {
        run();
    } else if (isVisible()) {
        summary_->setText(tr("The active set changed: validating its kernel…"));
        rerun_->start();
    } else {
        pendingRun_ = true;
        summary_->setText(tr("The active set changed: its kernel is validated when this view "
                             "is shown."));
    }
}

void ValidationView::run()
{
    rerun_->stop();
    pendingRun_ = false;
    const QString path = session_->kernelFile();
    if (path.isEmpty())
        return;
    const Subject subject = this->subject();
    subjectKey_ = subject.key;
    ranExpected_ = subject.expected;
    model_->clear();
    strip_->setRanges({}, {});
    details_->clear();
    ranMaxLength_ = maxLength_->value();
    KernelCheckOptions options;
    options.maxLength = ranMaxLength_;
    summary_->setText(tr("Validating…"));
    setRunning(true);
    if (subject.generated) {
        options.batchDim = subject.batchDim;
        const KernelLayout layout = *subject.generated;
        job_->start(
            tr("Validating the kernel for the active set"), [layout, options](JobContext& context) {
                return QVariant::fromValue(
                    std::shared_ptr<const KernelCheckResult>(std::make_shared<KernelCheckResult>(
                        checkGeneratedKernel(layout, options, context.job()))));
            });
        return;
    }
    const std::string p = subject.file.toStdString();
    std::string function;
    if (subject.source) {
        function = function_->text().trimmed().toStdString();
        options.contract = contract_->currentData().toString() == "slice" ? KernelContract::Slice
                                                                          : KernelContract::Pad;
        options.paddingSide =
            side_->currentData().toString() == "left" ? PaddingSide::Left : PaddingSide::Right;
        options.constantArgs = constants_->text().trimmed().toStdString();
    }
    const QString constantsLabel = tr("Constant arguments");
    const bool source = subject.source;
    job_->start(tr("Validating %1").arg(path), [p, function, options, source,
                                                constantsLabel](JobContext& context) {
        if (source) {
            // Said in the terms of the control: what the kernel takes and what was given.
            const Kernel kernel = loadKernel(p, {function});
            if (kernel.role() == KernelRole::BucketKernel)
                try {
                    checkConstantArgsFit(kernel, parseConstantArgs(options.constantArgs));
                } catch (const Error& e) {
                    throw Error(constantsLabel.toStdString() + ": " + e.what());
                }
        }
        return QVariant::fromValue(
            std::shared_ptr<const KernelCheckResult>(std::make_shared<KernelCheckResult>(
                checkKernelFile(p, function, options, context.job()))));
    });
}

void ValidationView::cancel()
{
    job_->cancel();
}

void ValidationView::selectRange(int row)
{
    if (row < 0 || row >= model_->rowCount())
        return;
    strip_->setSelectedRange(row);
    const ValidationRange& r = model_->range(row);
    const auto& result = model_->result();
    QString html = tr("<h3>Lengths %1–%2</h3>").arg(r.first).arg(r.last);
    if (r.ok()) {
        html += r.bucket > 0
                    ? tr("<p>Every call was padded to the bucket of %1 with values, dtypes and "
                         "inputs intact.</p>")
                          .arg(r.bucket)
                    : tr("<p>Past the largest bucket the kernel rejects the input with an "
                         "exception naming the length: the right behaviour.</p>");
        details_->setHtml(html);
        return;
    }
    for (size_t d : r.defects) {
        const KernelDefect& defect = result.defects[d];
        html += tr("<p><b style='color:%1'>%2</b> at lengths %3–%4 (%5 failing calls)<br>%6</p>")
                    .arg(ValidationStrip::defectColor().name(), esc(defectKindName(defect.kind)))
                    .arg(defect.firstLength)
                    .arg(defect.lastLength)
                    .arg(defect.calls)
                    .arg(esc(defect.message));
        html += tr("<p><i>First failing call:</i></p>") + callHtml(defect.example);
    }
    details_->setHtml(html);
}

void ValidationView::setRunning(bool running)
{
    run_->setEnabled(!running && !session_->kernelFile().isEmpty());
    maxLength_->setEnabled(!running);
}

} // namespace bucketlab::ui
