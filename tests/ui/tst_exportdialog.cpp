// The export dialog on a real package: export the active boundaries with the recipe, see the
// summary, be refused (visibly) when the output exists, and cancel a running export.
#include "core/tuning/tuning_report.h"
#include "guitest.h"
#include "testutil.h"
#include "ui/models/backgroundjob.h"
#include "ui/views/exportdialog.h"

#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace bucketlab::test;
using bucketlab::ui::BackgroundJob;
using bucketlab::ui::ExportDialog;

namespace {
// A small shape-generic model, scripted by plain PyTorch, padding-invariant thanks to the mask.
const char* kModel = R"PY(
import sys, torch
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.head = torch.nn.Linear(8, 2)
    def forward(self, input_ids, attention_mask):
        x = self.emb(input_ids) * attention_mask.unsqueeze(-1).float()
        return self.head(x.sum(1))
torch.manual_seed(0)
torch.jit.save(torch.jit.script(M().eval()), sys.argv[1])
)PY";
} // namespace

class TestExportDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void exportsVerifiedPackageAndRecipe();
    void existingOutputIsRefusedInTheDialog();
    void exportCanBeCancelled();
    void writesTheHtmlReport();
    void reportNeedsItsInputs();
    void aShrinkingServedRangeIsShown();

private:
    QTemporaryDir dir_;
    QString package_;
};

void TestExportDialog::aShrinkingServedRangeIsShown()
{
    // The source package serves up to 64; boundaries ending at 40 refuse 41..64.
    using bucketlab::LengthHistogram;
    using bucketlab::servedRangeChange;
    const LengthHistogram traffic = LengthHistogram::fromCounts({{10, 5}, {30, 3}, {50, 2}});
    ExportDialog kept(package_, {8, 24, 64});
    kept.setServedRange(servedRangeChange(traffic, {16, 64}, {8, 24, 64}));
    auto* keptLabel = kept.findChild<QLabel*>("exportServedRange");
    QVERIFY(keptLabel);
    QVERIFY2(keptLabel->text().contains("as the current set does"), qPrintable(keptLabel->text()));
    QVERIFY(keptLabel->styleSheet().isEmpty());

    ExportDialog cut(package_, {8, 24, 40});
    cut.setServedRange(servedRangeChange(traffic, {16, 64}, {8, 24, 40}));
    auto* cutLabel = cut.findChild<QLabel*>("exportServedRange");
    QVERIFY2(cutLabel->text().contains("lengths 50..50") &&
                 cutLabel->text().contains("would be refused"),
             qPrintable(cutLabel->text()));
    QVERIFY(cutLabel->styleSheet().contains("color"));
}

void TestExportDialog::initTestCase()
{
    QVERIFY(dir_.isValid());
    const auto py = runPython(kModel, {dir_.filePath("m.pt")});
    QVERIFY2(py.exitCode == 0, py.err.constData());
    package_ = dir_.filePath("pkg.pt");
    const auto r = runCli({"build", dir_.filePath("m.pt"), "--inputs",
                           "input_ids:int64:0:40,attention_mask:int64:0", "--boundaries", "16,64",
                           "--out", package_});
    QVERIFY2(r.exitCode == 0, r.err.constData());
}

void TestExportDialog::exportsVerifiedPackageAndRecipe()
{
    ExportDialog dialog(package_, {8, 24, 48, 64});
    dialog.show();
    dialog.setOutput(dir_.filePath("tuned.pt"));
    dialog.setRecipeDir(dir_.filePath("recipe"));
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    QTest::mouseClick(dialog.findChild<QPushButton*>("exportButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().first().toBool(), qPrintable(dialog.errorText()));
    QVERIFY(QFile::exists(dir_.filePath("tuned.pt")));
    QVERIFY2(dialog.summary().contains("Verified against the source"),
             qPrintable(dialog.summary()));
    QVERIFY(dialog.summary().contains("8, 24, 48, 64"));
    for (const char* f : {"bucket_config.json", "bucket_kernel.py", "neuron_build.py"})
        QVERIFY2(QFile::exists(dir_.filePath("recipe/") + f), f);
    // The new package reports its boundaries through the CLI as well.
    const auto i = runCli({"inspect", dir_.filePath("tuned.pt")});
    QVERIFY(i.out.contains("8,24,48,64"));
}

void TestExportDialog::existingOutputIsRefusedInTheDialog()
{
    QVERIFY(writeAll(dir_.filePath("taken.pt"), "keep"));
    ExportDialog dialog(package_, {32, 64});
    dialog.show();
    dialog.setOutput(dir_.filePath("taken.pt"));
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    dialog.start();
    QVERIFY(signalSeen(done, 60000));
    QVERIFY(!done.first().first().toBool());
    QVERIFY2(dialog.errorText().contains("already exists"), qPrintable(dialog.errorText()));
    // It points at the dialog's own checkbox, not at a CLI flag or the core's word for it.
    const QString replace = dialog.findChild<QCheckBox*>("exportForce")->text();
    QVERIFY2(dialog.errorText().contains(replace), qPrintable(dialog.errorText()));
    QVERIFY2(!dialog.errorText().contains("--") && !dialog.errorText().contains("option"),
             qPrintable(dialog.errorText()));
    QVERIFY(dialog.findChild<QLabel*>("exportError")->isVisible());
    QCOMPARE(readAll(dir_.filePath("taken.pt")), QByteArray("keep"));
}

void TestExportDialog::exportCanBeCancelled()
{
    ExportDialog dialog(package_, {4, 8, 12, 16, 20, 24, 32, 40, 48, 56, 64});
    dialog.show();
    dialog.setOutput(dir_.filePath("cancelled.pt"));
    QSignalSpy cancelled(dialog.job(), &BackgroundJob::cancelled);
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    dialog.start();
    QTest::mouseClick(dialog.findChild<QPushButton*>("exportCancel"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 60000));
    // Cancelled while loading or verifying: nothing was written, and the dialog says so.
    QCOMPARE(cancelled.count(), 1);
    QVERIFY(!QFile::exists(dir_.filePath("cancelled.pt")));
    const QStringList left =
        QDir(dir_.path()).entryList({".*cancelled*", "*cancelled*"}, QDir::Files | QDir::Hidden);
    QVERIFY2(left.isEmpty(), qPrintable(left.join(",")));
}

bucketlab::BoundaryReportRequest reportInputs()
{
    bucketlab::BoundaryReportRequest r;
    r.distribution = "uniform:max=64,n=2000,seed=2";
    r.latency = "linear:0.5,0.01";
    r.current = {16, 64};
    r.maxLength = 64;
    return r;
}

void TestExportDialog::writesTheHtmlReport()
{
    ExportDialog dialog(package_, {8, 24, 48, 64});
    dialog.show();
    dialog.setOutput(dir_.filePath("reported.pt"));
    dialog.setReportInputs(reportInputs());
    QVERIFY(dialog.findChild<QCheckBox*>("exportReport")->isEnabled());
    const QString report = dir_.filePath("reported.html");
    dialog.setReportPath(report);
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    QTest::mouseClick(dialog.findChild<QPushButton*>("exportButton"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().first().toBool(), qPrintable(dialog.errorText()));
    QVERIFY2(dialog.errorText().isEmpty(), qPrintable(dialog.errorText()));
    QVERIFY2(dialog.summary().contains("Report: " + report), qPrintable(dialog.summary()));
    const QByteArray html = readAll(report);
    QVERIFY(html.startsWith("<!DOCTYPE html>"));
    QVERIFY(html.contains("<svg"));
    // The report compares the package's buckets with the exported ones and validated the
    // kernel of the package that was written.
    QVERIFY(html.contains("16, 64") || html.contains("16,64"));
    QVERIFY(html.contains("8, 24, 48, 64") || html.contains("8,24,48,64"));
    QVERIFY(html.contains("reported.pt"));
}

void TestExportDialog::reportNeedsItsInputs()
{
    ExportDialog dialog(package_, {32, 64});
    auto* box = dialog.findChild<QCheckBox*>("exportReport");
    QVERIFY(!box->isEnabled()); // no traffic or latency given
    dialog.setReportInputs(reportInputs(), "this traffic was tokenized from text");
    QVERIFY(!box->isEnabled());
    QVERIFY(box->toolTip().contains("tokenized"));

    // An existing report without "replace" is refused before the export starts.
    QVERIFY(writeAll(dir_.filePath("old.html"), "keep"));
    dialog.setReportInputs(reportInputs());
    dialog.setOutput(dir_.filePath("never.pt"));
    dialog.setReportPath(dir_.filePath("old.html"));
    QSignalSpy done(&dialog, &ExportDialog::exportFinished);
    dialog.start();
    QCOMPARE(done.count(), 1);
    QVERIFY(!done.first().first().toBool());
    QVERIFY2(dialog.errorText().contains("Report:") && dialog.errorText().contains("exists"),
             qPrintable(dialog.errorText()));
    QVERIFY2(dialog.errorText().contains(dialog.findChild<QCheckBox*>("exportForce")->text()) &&
                 !dialog.errorText().contains("--"),
             qPrintable(dialog.errorText()));
    QVERIFY(!QFile::exists(dir_.filePath("never.pt")));
    QCOMPARE(readAll(dir_.filePath("old.html")), QByteArray("keep"));
}

BUCKETLAB_GUI_TEST_MAIN(TestExportDialog)
#include "tst_exportdialog.moc"
