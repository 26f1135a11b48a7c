// The Graph view driven as a user drives it: the seed's kernel (tests/data, verbatim from the
// guide) is compiled, laid out by Graphviz off the UI thread and drawn with its lint findings
// highlighted; clicking a finding selects its node; search, collapse, export, a layout too
// large or too slow, and Cancel — with the UI thread never stalling.
#include "core/demo/demo.h"
#include "graph_fixtures.h"
#include "guitest.h"
#include "stallwatchdog.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/linttablemodel.h"
#include "ui/models/session.h"
#include "ui/views/graphcanvas.h"
#include "ui/views/graphnodeitem.h"
#include "ui/views/graphscene.h"
#include "ui/views/graphview.h"
#include "ui/views/mainwindow.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QGraphicsSimpleTextItem>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSet>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTabBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QTreeView>

using namespace bucketlab;
using namespace bucketlab::ui;

namespace {

QString seedKernel()
{
    return QStringLiteral(BUCKETLAB_TEST_DATA "/seed_bucket_kernel.py");
}

int findingRow(const LintTableModel* model, const std::string& rule,
               const std::string& mentioning = {})
{
    for (int row = 0; row < model->rowCount(); ++row)
        if (model->finding(row).rule == rule &&
            model->finding(row).message.find(mentioning) != std::string::npos)
            return row;
    return -1;
}

} // namespace

class TestGraphView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void seedKernelFindingsAreListedAndHighlighted();
    void clickingAFindingSelectsItsNode();
    void searchFindsANodeByKindOrName();
    void collapsingBlocksReducesTheVisibleNodes();
    void exportWritesValidSvgAndPng();
    void aLargeLayoutCanBeCancelledWithoutStallingTheUi();
    void aLargeLayoutDoesNotStallTheUi();
    void tooManyNodesOfferTheCollapsedView();
    void aSlowLayoutOffersTheCollapsedView();
    void openingAKernelFileShowsItsGraph();
    void theSelectorShowsPreprocessorAndWholeModel_data();
    void theSelectorShowsPreprocessorAndWholeModel();
    void firstLookAndFitStayReadable_data();
    void firstLookAndFitStayReadable();
    void searchScrollsToEachMatchForwardAndBack();
    void viewKeysWorkAsSoonAsTheViewIsShown();
    void theFindingColumnElidesWithItsTextAsTooltip();

private:
    bool loadSeed();
    Session* session_ = nullptr;
    GraphView* view_ = nullptr;
    QAbstractItemModelTester* tester_ = nullptr;
};

void TestGraphView::init()
{
    session_ = new Session;
    view_ = new GraphView(session_);
    // Attached before any finding is loaded, so every reset is checked.
    tester_ = new QAbstractItemModelTester(view_->lintModel(),
                                           QAbstractItemModelTester::FailureReportingMode::QtTest);
    view_->resize(1200, 760);
    view_->show();
    QVERIFY(QTest::qWaitForWindowExposed(view_));
}

void TestGraphView::cleanup()
{
    delete tester_;
    delete view_;
    delete session_;
}

bool TestGraphView::loadSeed()
{
    QSignalSpy done(view_, &GraphView::layoutFinished);
    session_->setKernelFile(seedKernel());
    if (!signalSeen(done, 60000))
        return false;
    return done.first().first().toBool();
}

void TestGraphView::seedKernelFindingsAreListedAndHighlighted()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    QVERIFY(view_->loaded());
    QCOMPARE(view_->loaded()->graph->name, std::string("sequence_length_bucket_kernel"));
    QVERIFY(view_->visibleNodeCount() > 20);
    // The guide's pitfall: `num_inputs -= 1` is lowered onto bucket_dim's constant.
    const int row = findingRow(view_->lintModel(), "literal-reuse", "`bucket_dim`");
    QVERIFY(row >= 0);
    const LintFinding& reuse = view_->lintModel()->finding(row);
    QCOMPARE(
        view_->lintModel()->data(view_->lintModel()->index(row, LintTableModel::Rule)).toString(),
        QString("literal-reuse"));
    QVERIFY(!reuse.nodes.empty());
    GraphNodeItem* item = view_->scene()->itemForModelNode(reuse.nodes.front());
    QVERIFY(item);
    QVERIFY(item->lintSeverity().has_value());
    QVERIFY2(reuse.message.find("num_inputs -= 1") != std::string::npos, reuse.message.c_str());
    // Every node the finding names is highlighted, the shared constant among them.
    bool constant = false;
    for (int node : reuse.nodes) {
        QVERIFY(view_->scene()->itemForModelNode(node)->lintSeverity().has_value());
        constant = constant || view_->scene()->itemForModelNode(node)->title() == "prim::Constant";
    }
    QVERIFY(constant);
    // Nodes no finding names stay plain.
    std::set<int> flagged;
    for (const auto& f : view_->loaded()->findings)
        flagged.insert(f.nodes.begin(), f.nodes.end());
    int plain = 0;
    for (GraphNodeItem* n : view_->scene()->nodeItems())
        if (n->modelNode() >= 0 && !flagged.count(n->modelNode())) {
            QVERIFY(!n->lintSeverity().has_value());
            ++plain;
        }
    QVERIFY(plain > 0);
}

void TestGraphView::clickingAFindingSelectsItsNode()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    const int row = findingRow(view_->lintModel(), "literal-reuse", "`bucket_dim`");
    QVERIFY(row >= 0);
    auto* table = view_->findChild<QTableView*>("lintTable");
    QVERIFY(table);
    const QModelIndex index = view_->lintModel()->index(row, LintTableModel::Message);
    table->scrollTo(index);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(index).center());
    const int node = view_->lintModel()->finding(row).nodes.front();
    GraphNodeItem* item = view_->scene()->itemForModelNode(node);
    QVERIFY(item->isSelected());
    QCOMPARE(view_->scene()->selectedItems().size(), 1);
    // Centred: the node is within the visible part of the canvas.
    const QRect viewport = view_->canvas()->viewport()->rect();
    const QPoint at = view_->canvas()->mapFromScene(item->sceneBoundingRect().center());
    QVERIFY2(viewport.contains(at), qPrintable(QString("%1,%2").arg(at.x()).arg(at.y())));
    // The details panel names the constant, its value and the source line it came from.
    const QString details = view_->detailsText();
    QVERIFY2(details.contains(item->title()), qPrintable(details));
    QVERIFY2(details.contains("seed_bucket_kernel.py:"), qPrintable(details));
    QVERIFY2(details.contains("literal-reuse"), qPrintable(details));
}

void TestGraphView::searchFindsANodeByKindOrName()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    auto* search = view_->findChild<QLineEdit*>("graphSearch");
    QVERIFY(search);
    // Ctrl+F (QKeySequence::Find) puts the cursor in the search field.
    view_->canvas()->setFocus();
    QTest::keySequence(view_->canvas(), QKeySequence::Find);
    QTRY_VERIFY(search->hasFocus());
    QTest::keyClicks(search, "aten::cat");
    QTest::keyClick(search, Qt::Key_Return);
    auto selected = view_->scene()->selectedItems();
    QCOMPARE(selected.size(), 1);
    auto* item = qgraphicsitem_cast<GraphNodeItem*>(selected.first());
    QVERIFY(item);
    QCOMPARE(item->title(), QString("aten::cat"));
    QVERIFY(item->isSearchMatch());
    // By a value's name: the padding tensor the seed calls `zeros`.
    search->clear();
    QTest::keyClicks(search, "zeros");
    QTest::keyClick(search, Qt::Key_Return);
    selected = view_->scene()->selectedItems();
    QCOMPARE(selected.size(), 1);
    QCOMPARE(qgraphicsitem_cast<GraphNodeItem*>(selected.first())->title(), QString("aten::zeros"));
    QCOMPARE(view_->search("no-such-node"), 0);
}

namespace {

// What the canvas shows, in scene coordinates.
QRectF shownRect(GraphCanvas* canvas)
{
    return canvas->mapToScene(canvas->viewport()->rect()).boundingRect();
}

// The view as a user judges it: text readable, and the graph either whole, or fit to the
// width, or — when even the readable zoom is wider than the view — starting at its left
// edge; always from its top (the inputs), never a crop with edges off both sides.
void verifyReadableLook(GraphCanvas* canvas, const char* when)
{
    const QRectF graph = canvas->scene()->sceneRect();
    const QRectF shown = shownRect(canvas);
    const double z = canvas->zoom();
    QVERIFY2(
        z >= canvas->readableZoom() - 1e-9 && z <= 1.0 + 1e-9,
        qPrintable(
            QString("%1: zoom %2, readable from %3").arg(when).arg(z).arg(canvas->readableZoom())));
    const bool wholeWidth = shown.left() <= graph.left() + 1 && shown.right() >= graph.right() - 1;
    const bool fitsWidth = graph.width() * z <= canvas->viewport()->width() + 1;
    // Too wide even at the readable zoom: the view starts at the graph's inputs, whole.
    QRectF inputs;
    for (const auto* item : canvas->scene()->items())
        if (const auto* node = qgraphicsitem_cast<const GraphNodeItem*>(item))
            if (node->role() == VisibleNode::Role::GraphInput)
                inputs |= node->sceneBoundingRect();
    QVERIFY2(!inputs.isEmpty(), when);
    const bool inputsShown =
        shown.left() <= inputs.left() + 1 && shown.right() >= inputs.right() - 1;
    QVERIFY2(wholeWidth || (!fitsWidth && inputsShown),
             qPrintable(QString("%1: shows x %2..%3 of a graph %4..%5 at zoom %6, inputs at "
                                "x %7..%8")
                            .arg(when)
                            .arg(shown.left())
                            .arg(shown.right())
                            .arg(graph.left())
                            .arg(graph.right())
                            .arg(z)
                            .arg(inputs.left())
                            .arg(inputs.right())));
    QVERIFY2(wholeWidth || (shown.left() >= graph.left() - 1 && shown.right() <= graph.right() + 1),
             when); // scrolled within the graph, not past its edges
    if (!fitsWidth)
        QCOMPARE(z, canvas->readableZoom()); // as wide as reading allows, no wider
    QVERIFY2(shown.top() <= graph.top() + 1, when);
}

} // namespace

void TestGraphView::firstLookAndFitStayReadable_data()
{
    QTest::addColumn<QString>("file"); // "demo": the demo package's bucket kernel
    QTest::addColumn<int>("width");
    QTest::addRow("seed kernel, 1200 px") << seedKernel() << 1200;
    QTest::addRow("seed kernel, 800 px") << seedKernel() << 800;
    QTest::addRow("demo package, 1200 px") << "demo" << 1200;
    QTest::addRow("demo package, 1600 px") << "demo" << 1600;
}

void TestGraphView::firstLookAndFitStayReadable()
{
    QFETCH(QString, file);
    QFETCH(int, width);
    QTemporaryDir dir;
    if (file == "demo")
        file = QString::fromStdString(prepareDemo(dir.filePath("demo").toStdString()).package);
    view_->resize(width, 760);
    QSignalSpy done(view_, &GraphView::layoutFinished);
    session_->setKernelFile(file);
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().first().toBool(), qPrintable(view_->message()));
    GraphCanvas* canvas = view_->canvas();
    verifyReadableLook(canvas, "first look");

    // Zoomed far out and panned away, Fit brings back the same readable look.
    for (int i = 0; i < 12; ++i)
        QTest::mouseClick(view_->findChild<QToolButton*>("graphZoomOut"), Qt::LeftButton);
    QVERIFY(canvas->zoom() < canvas->readableZoom());
    canvas->centerOn(canvas->scene()->sceneRect().bottomRight());
    QTest::mouseClick(view_->findChild<QToolButton*>("graphFit"), Qt::LeftButton);
    verifyReadableLook(canvas, "after Fit");
}

void TestGraphView::searchScrollsToEachMatchForwardAndBack()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    auto* search = view_->findChild<QLineEdit*>("graphSearch");
    auto* status = view_->findChild<QLabel*>("graphStatus");
    GraphCanvas* canvas = view_->canvas();
    // Far out of the way first: the bottom right corner, zoomed out past reading.
    for (int i = 0; i < 10; ++i)
        canvas->zoomBy(0.8);
    canvas->centerOn(canvas->scene()->sceneRect().bottomRight());
    QTest::keyClicks(search, "prim::Constant");
    std::vector<GraphNodeItem*> seen;
    auto current = [&]() -> GraphNodeItem* {
        const auto selected = view_->scene()->selectedItems();
        return selected.size() == 1 ? qgraphicsitem_cast<GraphNodeItem*>(selected.first())
                                    : nullptr;
    };
    int count = 0;
    for (int step = 1; step <= 3; ++step) {
        QTest::keyClick(search, Qt::Key_Return);
        GraphNodeItem* item = current();
        QVERIFY(item);
        QVERIFY(item->isSearchMatch());
        QVERIFY2(shownRect(canvas).contains(item->sceneBoundingRect()),
                 qPrintable(QString("match %1 is out of view").arg(step)));
        QVERIFY(canvas->zoom() >= canvas->readableZoom() - 1e-9);
        const QRegularExpression re("match (\\d+) of (\\d+)");
        const auto m = re.match(status->text());
        QVERIFY2(m.hasMatch(), qPrintable(status->text()));
        QCOMPARE(m.captured(1).toInt(), step);
        count = m.captured(2).toInt();
        seen.push_back(item);
    }
    QVERIFY(count >= 3);
    QVERIFY(seen[0] != seen[1] && seen[1] != seen[2]);
    // Shift+Enter goes back, F3 (Find Next) forward again.
    QTest::keyClick(search, Qt::Key_Return, Qt::ShiftModifier);
    QCOMPARE(current(), seen[1]);
    QVERIFY(status->text().contains(QString("match 2 of %1").arg(count)));
    QTest::keyClick(search, Qt::Key_Return, Qt::ShiftModifier);
    QTest::keyClick(search, Qt::Key_Return, Qt::ShiftModifier);
    QVERIFY2(status->text().contains(QString("match %1 of %1").arg(count)),
             qPrintable(status->text())); // wraps around to the last
    QVERIFY(shownRect(canvas).contains(current()->sceneBoundingRect()));
    QTest::keySequence(search, QKeySequence::FindNext);
    QVERIFY2(status->text().contains(QString("match 1 of %1").arg(count)),
             qPrintable(status->text()));
    QCOMPARE(current(), seen[0]);
}

void TestGraphView::viewKeysWorkAsSoonAsTheViewIsShown()
{
    MainWindow window;
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QSignalSpy done(window.graphView(), &GraphView::layoutFinished);
    window.openFile(seedKernel());
    QVERIFY(signalSeen(done, 60000));
    // The user was last in the Project tree, then picks the Graph tab with the mouse.
    auto* tree = window.findChild<QTreeView*>("projectTree");
    QVERIFY(tree);
    window.views()->setCurrentIndex(0);
    QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, QPoint(5, 5));
    QTRY_VERIFY(tree->hasFocus());
    QTabBar* tabs = window.views()->tabBar();
    const int graphTab = window.views()->indexOf(window.graphView());
    QTest::mouseClick(tabs, Qt::LeftButton, {}, tabs->tabRect(graphTab).center());
    QCOMPARE(window.views()->currentWidget(), static_cast<QWidget*>(window.graphView()));
    QWidget* focus = QApplication::focusWidget();
    QVERIFY(focus);
    QVERIFY2(!window.graphView()->isAncestorOf(focus), "focus moved into the view by itself");

    GraphCanvas* canvas = window.graphView()->canvas();
    const double fitted = canvas->zoom();
    QTest::keyClick(focus, Qt::Key_Equal, Qt::ControlModifier);
    QVERIFY2(canvas->zoom() > fitted * 1.1, "Ctrl+= did not zoom in");
    QTest::keyClick(focus, Qt::Key_Minus, Qt::ControlModifier);
    QTest::keyClick(focus, Qt::Key_Minus, Qt::ControlModifier);
    QVERIFY2(canvas->zoom() < fitted * 0.99, "Ctrl+- did not zoom out");
    QTest::keyClick(focus, Qt::Key_0, Qt::ControlModifier);
    QVERIFY2(qAbs(canvas->zoom() - fitted) < 1e-6, "Ctrl+0 did not fit");
    QTest::keySequence(focus, QKeySequence::Find);
    QTRY_VERIFY(window.graphView()->findChild<QLineEdit*>("graphSearch")->hasFocus());

    // Another view's keys are its own: on the Buckets view Ctrl+0 leaves the graph alone.
    window.views()->setCurrentIndex(0);
    canvas->zoomBy(1.25);
    const double zoomed = canvas->zoom();
    QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : &window, Qt::Key_0,
                    Qt::ControlModifier);
    QCOMPARE(canvas->zoom(), zoomed);
}

void TestGraphView::theFindingColumnElidesWithItsTextAsTooltip()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    auto* table = view_->findChild<QTableView*>("lintTable");
    QVERIFY(table);
    QVERIFY(view_->lintModel()->rowCount() > 0);
    // Nothing is cut off at the right: the Finding column ends inside the table.
    const int column = LintTableModel::Message;
    QCOMPARE(table->horizontalScrollBar()->maximum(), 0);
    QVERIFY(table->columnViewportPosition(column) + table->columnWidth(column) <=
            table->viewport()->width());
    // The longest finding does not fit; its tooltip carries the whole text.
    int longest = 0;
    for (int row = 1; row < view_->lintModel()->rowCount(); ++row)
        if (view_->lintModel()->finding(row).message.size() >
            view_->lintModel()->finding(longest).message.size())
            longest = row;
    const QModelIndex cell = view_->lintModel()->index(longest, column);
    const QString text = cell.data().toString();
    QVERIFY2(table->fontMetrics().horizontalAdvance(text) > table->columnWidth(column),
             "the seed's longest finding fits: this test needs a narrower table");
    const QString tip = cell.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(text.toHtmlEscaped()), qPrintable(tip));
}

void TestGraphView::collapsingBlocksReducesTheVisibleNodes()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    const int expanded = view_->visibleNodeCount();
    const int cat = [this] {
        for (const auto& n : view_->loaded()->graph->nodes)
            if (n.kind == "aten::cat")
                return n.id;
        return -1;
    }();
    QVERIFY(cat >= 0);
    QCOMPARE(view_->scene()->itemForModelNode(cat)->modelNode(), cat);
    QSignalSpy done(view_, &GraphView::layoutFinished);
    QTest::mouseClick(view_->findChild<QCheckBox*>("collapseBlocks"), Qt::LeftButton);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(done.first().first().toBool());
    QVERIFY2(view_->visibleNodeCount() < expanded,
             qPrintable(QString("%1 -> %2").arg(expanded).arg(view_->visibleNodeCount())));
    // aten::cat sits inside the loop: its box is now the loop's.
    GraphNodeItem* box = view_->scene()->itemForModelNode(cat);
    QVERIFY(box->modelNode() != cat);
    QCOMPARE(box->title(), QString("prim::Loop"));
    // Expanding the outer loop alone (what double-clicking it does) shows its body, with the
    // blocks nested in it still collapsed.
    const int outer = box->modelNode();
    const int collapsed = view_->visibleNodeCount();
    done.clear();
    view_->toggleCollapsed(outer);
    QVERIFY(signalSeen(done, 30000));
    QVERIFY(view_->visibleNodeCount() > collapsed);
    QVERIFY(view_->visibleNodeCount() < expanded);
    QCOMPARE(view_->scene()->itemForModelNode(outer)->modelNode(), outer);
    QVERIFY(view_->scene()->itemForModelNode(cat)->modelNode() != outer);
}

void TestGraphView::exportWritesValidSvgAndPng()
{
    QVERIFY2(loadSeed(), qPrintable(view_->message()));
    QTemporaryDir dir;
    const QString svg = dir.filePath("kernel.svg");
    QCOMPARE(view_->exportImage(svg), QString());
    QSvgRenderer renderer(svg);
    QVERIFY(renderer.isValid());
    QVERIFY(renderer.viewBoxF().width() > 100);
    QFile file(svg);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("aten::cat"));
    const QString png = dir.filePath("kernel.png");
    QCOMPARE(view_->exportImage(png), QString());
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 200);
    // A bad suffix or folder: a message, and no file.
    QVERIFY(!view_->exportImage(dir.filePath("kernel.gif")).isEmpty());
    QVERIFY(!QFile::exists(dir.filePath("kernel.gif")));
    QVERIFY(!view_->exportImage(dir.filePath("missing/kernel.svg")).isEmpty());
}

void TestGraphView::aLargeLayoutCanBeCancelledWithoutStallingTheUi()
{
    // Only the user's Cancel may end this layout, however slow the machine: the time limit
    // would otherwise stop it first, with its own message.
    view_->setLayoutTimeLimit(600000);
    StallWatchdog watchdog([&] { return view_->isBusy(); });
    QSignalSpy cancelled(view_->layoutJob(), &BackgroundJob::cancelled);
    QSignalSpy done(view_, &GraphView::layoutFinished);
    LoadedGraph big;
    big.graph = std::make_shared<GraphModel>(testing::generatedModelGraph(3000));
    view_->showGraph(big);
    QVERIFY(view_->layoutJob()->isRunning());
    QTest::qWait(100);
    auto* cancel = view_->findChild<QPushButton*>("graphCancel");
    QVERIFY(cancel && cancel->isVisible());
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(signalSeen(cancelled, 60000));
    QCOMPARE(done.count(), 1);
    QVERIFY(!done.first().first().toBool());
    QCOMPARE(view_->visibleNodeCount(), 0); // nothing half-drawn
    QVERIFY(view_->message().contains("cancelled"));
    QVERIFY(!view_->isBusy());
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

void TestGraphView::aLargeLayoutDoesNotStallTheUi()
{
    QSignalSpy done(view_, &GraphView::layoutFinished);
    LoadedGraph big;
    big.graph = std::make_shared<GraphModel>(testing::generatedModelGraph(1000));
    StallWatchdog watchdog([&] { return view_->isBusy(); });
    view_->showGraph(big);
    QVERIFY(signalSeen(done, 60000));
    QVERIFY2(done.first().first().toBool(), qPrintable(view_->message()));
    QVERIFY(view_->visibleNodeCount() >= 1000);
    QTest::qWait(50); // the first paint of the drawn graph
    QVERIFY2(watchdog.busyTicks() >= 1, "the UI thread was held for the whole of the work");
}

void TestGraphView::tooManyNodesOfferTheCollapsedView()
{
    view_->setMaxLayoutNodes(300);
    QSignalSpy done(view_, &GraphView::layoutFinished);
    LoadedGraph big;
    big.graph = std::make_shared<GraphModel>(testing::generatedModelGraph(1200));
    view_->showGraph(big);
    QCOMPARE(done.count(), 1); // refused at once, not after a long wait
    QVERIFY(!done.first().first().toBool());
    QVERIFY2(view_->message().contains("more than the 300"), qPrintable(view_->message()));
    auto* collapse = view_->findChild<QPushButton*>("graphShowCollapsed");
    QVERIFY(collapse && collapse->isVisible());
    done.clear();
    QTest::mouseClick(collapse, Qt::LeftButton);
    QVERIFY(signalSeen(done, 60000));
    QVERIFY2(done.first().first().toBool(), qPrintable(view_->message()));
    // One box per encoder layer, plus the graph's input and return.
    QVERIFY(view_->visibleNodeCount() > 2);
    QVERIFY(view_->visibleNodeCount() <= 300);
    QVERIFY(view_->findChild<QCheckBox*>("collapseScopes")->isChecked());
    QVERIFY(view_->message().isEmpty());
}

void TestGraphView::aSlowLayoutOffersTheCollapsedView()
{
    view_->setLayoutTimeLimit(1); // nothing of 800 nodes lays out in 1 ms
    QSignalSpy cancelled(view_->layoutJob(), &BackgroundJob::cancelled);
    LoadedGraph big;
    big.graph = std::make_shared<GraphModel>(testing::generatedModelGraph(800));
    view_->showGraph(big);
    QTRY_VERIFY_WITH_TIMEOUT(!view_->message().isEmpty(), 5000);
    QVERIFY2(view_->message().contains("takes longer"), qPrintable(view_->message()));
    QVERIFY(view_->findChild<QPushButton*>("graphShowCollapsed")->isVisible());
    QVERIFY(signalSeen(cancelled, 60000));
    QCOMPARE(view_->visibleNodeCount(), 0);
}

void TestGraphView::openingAKernelFileShowsItsGraph()
{
    MainWindow window;
    window.resize(1280, 800);
    window.show();
    QSignalSpy done(window.graphView(), &GraphView::layoutFinished);
    window.openFile(seedKernel());
    QCOMPARE(window.views()->currentWidget(), static_cast<QWidget*>(window.graphView()));
    QVERIFY(signalSeen(done, 60000));
    QVERIFY2(done.first().first().toBool(), qPrintable(window.graphView()->message()));
    QCOMPARE(window.session()->kernelFile(), seedKernel());
    QVERIFY(findingRow(window.graphView()->lintModel(), "literal-reuse") >= 0);
    QVERIFY(window.errorText().isEmpty());
}

void TestGraphView::theSelectorShowsPreprocessorAndWholeModel_data()
{
    QTest::addColumn<QString>("file"); // "demo": the demo package, built here
    QTest::addColumn<int>("subject");
    QTest::addColumn<QString>("graphName");
    QTest::addColumn<bool>("linted");
    QTest::addRow("seed state preprocessor")
        << QStringLiteral(BUCKETLAB_TEST_DATA "/seed_state_preprocessor.py")
        << int(GraphView::Subject::StatePreprocessor) << "state_preprocessor" << true;
    QTest::addRow("demo package, bucket kernel")
        << "demo" << int(GraphView::Subject::BucketKernel) << "bucket_kernel" << true;
    QTest::addRow("demo package, whole model inlined")
        << "demo" << int(GraphView::Subject::WholeModel) << "forward" << false;
}

void TestGraphView::theSelectorShowsPreprocessorAndWholeModel()
{
    QFETCH(QString, file);
    QFETCH(int, subject);
    QFETCH(QString, graphName);
    QFETCH(bool, linted);
    QTemporaryDir dir;
    if (file == "demo")
        file = QString::fromStdString(prepareDemo(dir.filePath("demo").toStdString()).package);
    QSignalSpy done(view_, &GraphView::layoutFinished);
    session_->setKernelFile(file);
    QVERIFY(signalSeen(done, 120000));
    done.clear();
    view_->setSubject(GraphView::Subject(subject));
    QVERIFY(signalSeen(done, 120000));
    QVERIFY2(done.first().first().toBool(), qPrintable(view_->message()));
    QCOMPARE(QString::fromStdString(view_->loaded()->graph->name), graphName);
    QCOMPARE(view_->loaded()->linted, linted);
    QVERIFY(view_->scene()->itemForModelNode(0));
    QVERIFY(view_->visibleNodeCount() > 5);
    // Block labels ("then (prim::If)", ...) each sit on their own box: an empty block (an if
    // without else) draws none, instead of piling its label on another at the scene's corner.
    QSet<QPair<qreal, qreal>> labelPositions;
    for (QGraphicsItem* item : view_->scene()->items()) {
        auto* text = dynamic_cast<QGraphicsSimpleTextItem*>(item);
        if (!text || !text->text().endsWith(")") || !text->text().contains(" (prim::"))
            continue;
        const QPointF p = text->pos();
        QVERIFY2(!labelPositions.contains({p.x(), p.y()}),
                 qPrintable(QString("two block labels at %1,%2").arg(p.x()).arg(p.y())));
        labelPositions.insert({p.x(), p.y()});
    }
}

BUCKETLAB_GUI_TEST_MAIN(TestGraphView)
#include "tst_graphview.moc"
