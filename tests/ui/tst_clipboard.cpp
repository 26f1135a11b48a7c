// Boundaries and tables in and out as text, as a user moves them: boundaries typed into the
// Buckets view's field or pasted with Edit > Paste Boundaries (Ctrl+Shift+V) replace the
// active set in one undo step, and text that is no boundary list is refused with a message
// naming what is wrong; Ctrl+C on any table copies its selected rows (or all) as TSV with a
// header line.
#include "core/latency/latency_curve.h"
#include "core/traffic/length_histogram.h"
#include "guitest.h"
#include "ui/models/buckettablemodel.h"
#include "ui/models/session.h"
#include "ui/views/bucketsview.h"
#include "ui/views/mainwindow.h"
#include "ui/views/packageview.h"
#include "ui/views/tablecopy.h"

#include <QAction>
#include <QClipboard>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QUndoStack>

using namespace bucketlab;
using namespace bucketlab::ui;

class TestClipboard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void typedBoundariesReplaceTheActiveSetInOneUndoStep();
    void listsAsPeopleCopyThem_data();
    void listsAsPeopleCopyThem();
    void textThatIsNoBoundaryListIsRefusedAndNamed_data();
    void textThatIsNoBoundaryListIsRefusedAndNamed();
    void typingIsNotOverwrittenByADragAndEscapeDiscardsIt();
    void pasteBoundariesFromTheEditMenu();
    void everyTableCopiesItsRowsAsTsv();

private:
    void type(const QString& text);
    QLineEdit* field() const { return view_->findChild<QLineEdit*>("boundariesEdit"); }
    QLabel* errorLabel() const { return view_->findChild<QLabel*>("boundariesError"); }
    Session* session_ = nullptr;
    BucketsView* view_ = nullptr;
};

void TestClipboard::init()
{
    session_ = new Session;
    view_ = new BucketsView(session_);
    view_->resize(1100, 700);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
    session_->setTraffic(LengthHistogram::fromCounts({{20, 10}, {100, 30}, {400, 5}}),
                         {"test traffic", "inline", {}});
    session_->setLatency(LatencyCurve::fromSpec("linear:0.5,0.01"),
                         {"test curve", "linear:0.5,0.01"});
    session_->setActiveIndex(session_->putBoundarySet(
        {"current", "current", Boundaries::from({128, 512}, Field::CurrentBoundaries)}));
    session_->undoStack()->clear();
}

void TestClipboard::cleanup()
{
    delete view_;
    delete session_;
}

void TestClipboard::type(const QString& text)
{
    QLineEdit* edit = field();
    QVERIFY(edit);
    edit->setFocus();
    QTest::keyClick(edit, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
    QTest::keyClick(edit, Qt::Key_Return);
}

void TestClipboard::typedBoundariesReplaceTheActiveSetInOneUndoStep()
{
    QCOMPARE(field()->text(), QStringLiteral("128, 512"));
    type("64,128,256,512");
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{64, 128, 256, 512}));
    QCOMPARE(session_->undoStack()->count(), 1);
    QVERIFY(errorLabel()->isHidden());
    QCOMPARE(view_->bucketModel()->rowCount(), 4);
    session_->undoStack()->undo();
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{128, 512}));
    QCOMPARE(field()->text(), QStringLiteral("128, 512"));
    // The same list again is no edit at all.
    type("128, 512");
    QCOMPARE(session_->undoStack()->index(), 0);
}

void TestClipboard::listsAsPeopleCopyThem_data()
{
    QTest::addColumn<QString>("text");
    QTest::addRow("commas") << "64,128,256";
    QTest::addRow("commas and blanks") << " 64, 128 ,256 ";
    QTest::addRow("a spreadsheet column") << "64\n128\n256\n";
    QTest::addRow("a spreadsheet row") << "64\t128\t256";
    QTest::addRow("Python or JSON") << "[64, 128, 256]";
    QTest::addRow("spaces") << "64 128 256";
}

void TestClipboard::listsAsPeopleCopyThem()
{
    QFETCH(QString, text);
    QCOMPARE(view_->setBoundariesFromText(text, "Paste boundaries"), QString());
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{64, 128, 256}));
    QCOMPARE(session_->undoStack()->count(), 1);
}

void TestClipboard::textThatIsNoBoundaryListIsRefusedAndNamed_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("named"); // what the message must quote
    QTest::addRow("not a number") << "64,12x,512"
                                  << "12x";
    QTest::addRow("out of order") << "256,128"
                                  << "128";
    QTest::addRow("repeated") << "64,64,128"
                              << "64";
    QTest::addRow("zero") << "0,64"
                          << "0";
    QTest::addRow("trailing comma") << "64,128,"
                                    << "comma";
    QTest::addRow("nothing") << ""
                             << "empty";
}

void TestClipboard::textThatIsNoBoundaryListIsRefusedAndNamed()
{
    QFETCH(QString, text);
    QFETCH(QString, named);
    type(text);
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{128, 512}));
    QCOMPARE(session_->undoStack()->count(), 0);
    QVERIFY(errorLabel()->isVisible());
    const QString message = errorLabel()->text();
    QVERIFY2(message.contains("boundaries"), qPrintable(message));
    QVERIFY2(message.contains(named, Qt::CaseInsensitive), qPrintable(message));
    QVERIFY2(!message.contains("--"), qPrintable(message)); // no CLI flags in the GUI
    // The text stays for fixing; fixing it clears the message.
    QCOMPARE(field()->text(), text);
    type("64,512");
    QVERIFY(errorLabel()->isHidden());
    QCOMPARE(session_->activeBoundaries().values(), (std::vector<int64_t>{64, 512}));
}

void TestClipboard::typingIsNotOverwrittenByADragAndEscapeDiscardsIt()
{
    QLineEdit* edit = field();
    edit->setFocus();
    QTest::keyClick(edit, Qt::Key_End);
    QTest::keyClicks(edit, ", 900");
    // An edit elsewhere (a drag, Undo) while typing leaves the typing alone...
    session_->setActiveBoundaries(std::vector<int64_t>{100, 512});
    QCOMPARE(edit->text(), QStringLiteral("128, 512, 900"));
    // ...and Escape brings back the active set's boundaries.
    QTest::keyClick(edit, Qt::Key_Escape);
    QCOMPARE(edit->text(), QStringLiteral("100, 512"));
}

void TestClipboard::pasteBoundariesFromTheEditMenu()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    view_->hide(); // the window the keys go to is this one
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 60000));
    auto* paste = w.findChild<QAction*>("actionPasteBoundaries");
    QVERIFY(paste);
    QCOMPARE(paste->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    Session* session = w.session();
    const auto before = session->activeBoundaries().values();
    const int steps = session->undoStack()->count();

    w.views()->setCurrentWidget(w.packageView()); // the paste brings the Buckets view up
    QGuiApplication::clipboard()->setText("32, 64, 96, 512");
    QTest::keySequence(&w, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    QCOMPARE(session->activeBoundaries().values(), (std::vector<int64_t>{32, 64, 96, 512}));
    QCOMPARE(w.views()->currentWidget(), static_cast<QWidget*>(w.bucketsView()));
    QCOMPARE(session->undoStack()->count(), steps + 1);
    session->undoStack()->undo();
    QCOMPARE(session->activeBoundaries().values(), before);

    // Not boundaries: a visible message, nothing changed.
    QGuiApplication::clipboard()->setText("the demo's boundaries");
    paste->trigger();
    QCOMPARE(session->activeBoundaries().values(), before);
    QVERIFY(w.findChild<QWidget*>("errorBanner")->isVisible());
    QVERIFY2(w.errorText().contains("Paste Boundaries"), qPrintable(w.errorText()));
    QVERIFY2(w.errorText().contains("the"), qPrintable(w.errorText()));
}

void TestClipboard::everyTableCopiesItsRowsAsTsv()
{
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    view_->hide(); // the window the keys go to is this one
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QSignalSpy loaded(&w, &MainWindow::loadFinished);
    w.openDemo();
    QVERIFY(signalSeen(loaded, 60000));
    QSignalSpy optimized(w.bucketsView(), &BucketsView::optimizeFinished);
    w.bucketsView()->setOptimizeSettings(3, 0);
    w.bucketsView()->optimize();
    QVERIFY(signalSeen(optimized, 60000));

    // Every table view in the window has the one copy action.
    const auto tables = w.findChildren<QTableView*>();
    QVERIFY(tables.size() >= 6);
    for (QTableView* table : tables) {
        bool hasCopy = false;
        for (QAction* a : table->actions())
            hasCopy = hasCopy || a->shortcut() == QKeySequence(QKeySequence::Copy);
        QVERIFY2(hasCopy, qPrintable(table->objectName()));
    }

    // The per-bucket table: one selected row, then all, through Ctrl+C as a user presses it.
    w.views()->setCurrentWidget(w.bucketsView());
    auto* table = w.findChild<QTableView*>("bucketStatsTable");
    QVERIFY(table);
    QAbstractItemModel* model = table->model();
    QCOMPARE(model->rowCount(), 3);
    // Optimize brought the comparison tab up: back to "Per bucket", as a user clicks it.
    w.findChild<QTabWidget*>("tableTabs")->setCurrentWidget(table);
    QVERIFY(table->isVisible());
    table->setFocus();
    QTRY_VERIFY(table->hasFocus());
    // (Not selectRow(): it follows the keyboard modifiers the previous test's keys left.)
    table->selectionModel()->select(model->index(1, 0), QItemSelectionModel::ClearAndSelect |
                                                            QItemSelectionModel::Rows);
    QGuiApplication::clipboard()->clear();
    QTest::keySequence(table, QKeySequence::Copy);
    QStringList lines = QGuiApplication::clipboard()->text().split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QStringList header, row;
    for (int c = 0; c < model->columnCount(); ++c) {
        header << model->headerData(c, Qt::Horizontal).toString();
        row << model->index(1, c).data().toString();
    }
    QCOMPARE(lines[0], header.join('\t'));
    QCOMPARE(lines[1], row.join('\t'));
    QVERIFY(QGuiApplication::clipboard()->mimeData()->hasFormat("text/tab-separated-values"));

    table->clearSelection();
    QTest::keySequence(table, QKeySequence::Copy);
    lines = QGuiApplication::clipboard()->text().split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + model->rowCount());

    // A hidden column is left out, a moved one follows the view's order.
    table->setColumnHidden(BucketTableModel::Requests, true);
    table->horizontalHeader()->moveSection(BucketTableModel::Latency, 0);
    const QString tsv = tableViewAsTsv(*table);
    const QStringList first = tsv.section('\n', 0, 0).split('\t');
    QCOMPARE(first.first(),
             model->headerData(BucketTableModel::Latency, Qt::Horizontal).toString());
    QVERIFY(
        !first.contains(model->headerData(BucketTableModel::Requests, Qt::Horizontal).toString()));
}

BUCKETLAB_GUI_TEST_MAIN(TestClipboard)
#include "tst_clipboard.moc"
