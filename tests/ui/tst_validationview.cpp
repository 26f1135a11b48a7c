// The Validation view on the seed's kernel (tests/data, verbatim from the guide): the verdict
// per length range in the strip and the table, the fall-through past the largest bucket for
// 513 and up, its first failing call on click, Cancel, and no UI stall while it runs.
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"
#include "ui/models/validationtablemodel.h"
#include "ui/views/validationstrip.h"
#include "ui/views/validationview.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

QString seedKernel()
{
    return QStringLiteral(BUCKETLAB_TEST_DATA "/seed_bucket_kernel.py");
}

} // namespace

class TestValidationView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void rangesCutAtBoundariesAndDefects_data();
    void rangesCutAtBoundariesAndDefects();
    void seedKernelShowsTheFallThroughAndItsFailingInput();
    void validationCanBeCancelledWithoutStallingTheUi();
    void nxdKernelCalledAsTheControlsSay();

private:
    Session* session_ = nullptr;
    ValidationView* view_ = nullptr;
    QAbstractItemModelTester* tester_ = nullptr;
};

void TestValidationView::init()
{
    session_ = new Session;
    view_ = new ValidationView(session_);
    tester_ = new QAbstractItemModelTester(view_->model(),
                                           QAbstractItemModelTester::FailureReportingMode::QtTest);
    view_->resize(1200, 700);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestValidationView::cleanup()
{
    delete tester_;
    delete view_;
    delete session_;
}

void TestValidationView::rangesCutAtBoundariesAndDefects_data()
{
    QTest::addColumn<QList<qint64>>("boundaries");
    QTest::addColumn<qint64>("defectFirst"); // 0: no defect
    QTest::addColumn<qint64>("defectLast");
    QTest::addColumn<QString>("expected"); // first-last:bucket:defects, ...
    QTest::addRow("clean kernel, two buckets") << QList<qint64>{128, 512} << qint64(0) << qint64(0)
                                               << "1-128:128:0,129-512:512:0,513-1024:0:0";
    QTest::addRow("seed kernel, fall-through 513+")
        << QList<qint64>{128, 512} << qint64(513) << qint64(1024)
        << "1-128:128:0,129-512:512:0,513-1024:0:1";
    QTest::addRow("defect inside a bucket")
        << QList<qint64>{128, 512} << qint64(100) << qint64(200)
        << "1-99:128:0,100-128:128:1,129-200:512:1,201-512:512:0,513-1024:0:0";
}

void TestValidationView::rangesCutAtBoundariesAndDefects()
{
    QFETCH(QList<qint64>, boundaries);
    QFETCH(qint64, defectFirst);
    QFETCH(qint64, defectLast);
    QFETCH(QString, expected);
    KernelCheckResult result;
    result.boundaries.assign(boundaries.begin(), boundaries.end());
    if (defectFirst > 0)
        result.defects.push_back({DefectKind::FallThrough, defectFirst, defectLast, 3, "x", {}});
    QStringList got;
    for (const auto& r : validationRanges(result, 1024))
        got << QString("%1-%2:%3:%4").arg(r.first).arg(r.last).arg(r.bucket).arg(r.defects.size());
    QCOMPARE(got.join(","), expected);
}

void TestValidationView::seedKernelShowsTheFallThroughAndItsFailingInput()
{
    view_->setMaxLength(1024);
    QSignalSpy finished(view_, &ValidationView::validationFinished);
    StallWatchdog watchdog([&] { return view_->isBusy(); });
    session_->setKernelFile(seedKernel()); // runs at once
    QVERIFY(signalSeen(finished, 120000));
    QVERIFY2(finished.first().first().toBool(), qPrintable(view_->summaryText()));
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
    QCOMPARE(view_->model()->result().boundaries, (std::vector<int64_t>{128, 512}));

    // The row starting at 513 holds the fall-through; rows below it serve buckets 128/512.
    int fallRow = -1;
    for (int row = 0; row < view_->model()->rowCount(); ++row)
        if (view_->model()->range(row).first == 513)
            fallRow = row;
    QVERIFY(fallRow >= 0);
    const auto verdict = view_->model()
                             ->data(view_->model()->index(fallRow, ValidationTableModel::Verdict))
                             .toString();
    QVERIFY2(verdict.contains("fall_through"), qPrintable(verdict));
    QCOMPARE(view_->model()->range(fallRow).last, int64_t(1024));
    QCOMPARE(view_->model()
                 ->data(view_->model()->index(fallRow, ValidationTableModel::Bucket))
                 .toString(),
             QString("past the largest bucket"));

    // Click the strip where length 700 is drawn: its range is selected, and the details show
    // the first failing call: length 513 and what the kernel returned.
    ValidationStrip* strip = view_->strip();
    const int x = int(strip->xOfLength(700));
    QTest::mouseClick(strip, Qt::LeftButton, {}, QPoint(x, strip->height() / 2 - 4));
    QCOMPARE(strip->selectedRange(), fallRow);
    auto* table = view_->findChild<QTableView*>("validationTable");
    QCOMPARE(table->currentIndex().row(), fallRow);
    const QString details = view_->detailsText();
    QVERIFY2(details.contains("fall_through"), qPrintable(details));
    QVERIFY2(details.contains("First failing call"), qPrintable(details));
    QVERIFY2(details.contains("length 513"), qPrintable(details));
    QVERIFY2(details.contains("The kernel's output"), qPrintable(details));
    QVERIFY2(details.contains("(empty list)"), qPrintable(details));
}

void TestValidationView::validationCanBeCancelledWithoutStallingTheUi()
{
    // Long enough to still be running when Cancel is clicked, and within the memory budget
    // a validation may take (a longer run is refused before it starts).
    view_->setMaxLength(250000);
    QSignalSpy finished(view_, &ValidationView::validationFinished);
    QSignalSpy cancelled(view_->job(), &BackgroundJob::cancelled);
    StallWatchdog watchdog([&] { return view_->isBusy(); });
    session_->setKernelFile(seedKernel());
    QTest::qWait(500);
    QVERIFY(view_->isBusy());
    auto* cancel = view_->findChild<QPushButton*>("validationCancel");
    QVERIFY(cancel && cancel->isVisible());
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(signalSeen(cancelled, 30000));
    QCOMPARE(finished.count(), 1);
    QVERIFY(!finished.first().first().toBool());
    QVERIFY(view_->summaryText().contains("cancelled"));
    QCOMPARE(view_->model()->rowCount(), 0);
    QVERIFY(!cancel->isVisible());
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

void TestValidationView::nxdKernelCalledAsTheControlsSay()
{
    // NxD's slicing kernel takes (buckets, padding side, pad token) after its inputs. Opened
    // as it is, the view says in its controls' terms what is missing; typed into the controls,
    // the kernel validates clean with buckets 128,512; a copy with `<` one token off drops the
    // 129th token, at 129.
    const QString nxd = QStringLiteral(BUCKETLAB_TEST_DATA "/nxd_context_encoding_kernel.py");
    QSignalSpy finished(view_, &ValidationView::validationFinished);
    session_->setKernelFile(nxd);
    QVERIFY(view_->kernelCallShown());
    QVERIFY(signalSeen(finished, 120000));
    QCOMPARE(finished.takeFirst().first().toBool(), false);
    QVERIFY2(view_->summaryText().contains("Constant arguments: "),
             qPrintable(view_->summaryText()));
    QVERIFY2(view_->summaryText().contains("takes 3 arguments after its inputs"),
             qPrintable(view_->summaryText()));

    auto* function = view_->findChild<QLineEdit*>("validationFunction");
    auto* contract = view_->findChild<QComboBox*>("validationContract");
    auto* constants = view_->findChild<QLineEdit*>("validationConstantArgs");
    QVERIFY(function && contract && constants);
    QTest::keyClicks(function, "context_encoder_bk");
    contract->setCurrentIndex(contract->findData("slice"));
    QTest::keyClicks(constants, "torch.tensor([128, 512]), 'right', 0");
    QTest::keyClick(constants, Qt::Key_Return); // runs
    QVERIFY(signalSeen(finished, 120000));
    QVERIFY2(finished.takeFirst().first().toBool(), qPrintable(view_->summaryText()));
    QVERIFY2(view_->model()->result().ok, qPrintable(view_->summaryText()));
    QCOMPARE(view_->model()->result().boundaries, (std::vector<int64_t>{128, 512}));
    QCOMPARE(view_->model()->result().contract, KernelContract::Slice);

    QTemporaryDir dir;
    QFile in(nxd);
    QVERIFY(in.open(QIODevice::ReadOnly));
    QString text = QString::fromUtf8(in.readAll());
    QVERIFY(text.contains("buckets < real_tokens"));
    text.replace("buckets < real_tokens", "buckets < real_tokens - 1");
    const QString off = dir.filePath("off_by_one.py");
    QFile out(off);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text.toUtf8());
    out.close();
    session_->setKernelFile(off); // the controls stay as typed
    QVERIFY(signalSeen(finished, 120000));
    QVERIFY(finished.takeFirst().first().toBool());
    const auto& result = view_->model()->result();
    QVERIFY(!result.ok);
    QCOMPARE(QString::fromStdString(defectKindName(result.defects.front().kind)),
             QString("tokens_dropped"));
    QCOMPARE(result.defects.front().firstLength, int64_t(129));
}

BUCKETLAB_GUI_TEST_MAIN(TestValidationView)
#include "tst_validationview.moc"
