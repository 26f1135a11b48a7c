// The Buckets view, the heart of the desktop: the traffic as a histogram (tokens, with the
// padding each bucket adds shaded, or requests), the latency curve on a second axis, and
// the boundaries as handles the user drags (snapped to integers, never crossing), adds
// (double-click, context menu, Insert) and removes (context menu, Delete). The per-bucket
// table and the totals update while dragging. Optimize runs the exact tuner off the UI
// thread and shows the optimum, the baselines and the Pareto front. Measure and refine runs
// the refinement (core/tuning/refine.h: tune, measure the boundaries on the session's model or
// package, tune again until they settle) off the UI thread, lists each round and the final
// predicted against measured mean latency, and adds the refined set as one undo step.
#pragma once

#include "core/spec/boundaries.h"
#include "ui/models/session.h"

#include <QPointer>

#include <QWidget>

#include <functional>
#include <optional>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCustomPlot;
class QDoubleSpinBox;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QMouseEvent;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTabWidget;

namespace bucketlab {
struct RefineResult;
}

namespace bucketlab::ui {

class BackgroundJob;
class BucketTableModel;
class JobProgress;
class ComparisonTableModel;
class BucketsView : public QWidget {
    Q_OBJECT
public:
    enum class Mode { Tokens, Requests };

    explicit BucketsView(Session* session, QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    QCustomPlot* paretoPlot() const { return pareto_; }
    BucketTableModel* bucketModel() const { return bucketModel_; }
    ComparisonTableModel* comparisonModel() const { return comparisonModel_; }
    BackgroundJob* optimizeJob() const { return optimizeJob_; }
    BackgroundJob* refineJob() const { return refineJob_; }

    void setMode(Mode mode);
    void setLogScale(bool log);
    // Widget coordinates of boundary handle `index` (middle of the plot height).
    QPoint handlePosition(int index) const;
    // Starts the tuner with the panel's settings.
    void optimize();
    // Replaces the active set's boundaries with typed or pasted text ("64,128,256,512"; blanks,
    // tabs or new lines between numbers work too, as do brackets around them) as one undo
    // step named `what`. Returns an empty string, or what is wrong with the text (also
    // shown beside the boundaries field).
    QString setBoundariesFromText(const QString& text, const QString& what);
    // serveUpTo 0: the current set's largest bucket.
    void setOptimizeSettings(int buckets, int objectiveIndex, double p99BudgetMs = 0,
                             int64_t serveUpTo = 0);
    // Starts the refinement with the panel's settings on the session's model or package,
    // from the session's measured profile (an analytic curve describes no machine: refused
    // with a note). Each measuring run has the panel's budget.
    void measureAndRefine();
    void setRefineBudget(double seconds);
    // Tests: a simulated device clock for the refinement's measuring runs (the model still
    // runs every call; see ProfileRequest::simulatedCallMs). Empty: the real clock.
    using SimulatedClock = std::function<double(int64_t length, int64_t batch, int64_t call)>;
    void setRefineSimulatedClock(SimulatedClock clock) { refineClock_ = std::move(clock); }
    // The rounds and the verdict of the latest refinement, as shown.
    QString refineLog() const;
    // Where a finished refinement writes its refined profile (the starting profile with
    // every point it measured) before that profile becomes the session's latency curve, so
    // the project can refer to it. Default: SavedProfiles::defaultDirectory().
    void setRefinedProfileDirectory(const QString& dir) { refinedProfileDir_ = dir; }

Q_SIGNALS:
    void optimizeFinished(bool ok);
    // ok: a refined set was added (whatever its verdict).
    void refineFinished(bool ok);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    // The constructor's steps, in the order it takes them.
    QHBoxLayout* buildToolbar();
    QHBoxLayout* buildBoundariesRow();
    void buildPlot();
    // The totals, the per-bucket and comparison tabs and the notes, below the plot.
    QWidget* buildTables();
    // The Optimize panel beside the plot: settings, actions, the Pareto plot, the job's wiring.
    QWidget* buildOptimizePanel();
    void buildOptimizeSettings(QWidget* box, QFormLayout* form);
    void buildOptimizeActions(QWidget* box, QFormLayout* form);
    QCustomPlot* buildParetoPlot(QWidget* panel);
    void connectOptimize();
    void connectControls();
    void connectSession();
    void connectRefine();
    // A finished refinement: its rounds and verdict in the log; the refined profile saved and
    // made the session's curve, and the refined set added, as one undo step.
    void finishRefine(const RefineResult& r);
    // Writes a refinement's profile under a new name in the refined-profile folder; returns
    // its path. Throws Error when it cannot be written.
    QString writeRefinedProfile(const Profile& profile) const;
    // The tuning the panel asks for (Optimize, and the refinement's solves).
    TuningRequest panelTuningRequest() const;
    void rebuildTraffic();
    // Run B's traffic (File > Compare With…) over run A's, in run A's bins and scaled to run
    // A's requests so the shapes compare; hidden without a second traffic.
    void rebuildSecondTraffic();
    void fitLengthRange();
    void rebuildLatency();
    void refreshBoundaries();
    void refreshPadding();
    void refreshBaselines();
    void refreshPareto();
    // The comparison, baselines, Pareto front, progress text and Optimize button, from the
    // session's tuning result: current, stale (said so), or none yet.
    void refreshTuning();
    void refreshTotals();
    void refreshSetChooser();
    // The boundaries field shows the active set's boundaries unless the user is editing it.
    void refreshBoundariesEdit();
    void showBoundariesError(const QString& message);
    // Pens and brushes from ui/palette.h for the palette in use (again on a palette change).
    void applyDataColours();
    // The active set's colour: its handles, its legend entry and the table's swatches.
    QColor activeSetColor() const;
    // Handle labels near an edge of the axis rect sit beside their line, not across the edge.
    void keepHandleLabelsInside();
    void replot();

    int handleAt(const QPoint& pos) const;
    void onMousePress(QMouseEvent* event);
    void onMouseMove(QMouseEvent* event);
    void onMouseRelease(QMouseEvent* event);
    void onDoubleClick(QMouseEvent* event);
    void showPlotMenu(const QPoint& pos);
    void addBoundaryAt(int64_t length);
    void removeBoundary(int index);
    void nudgeSelected(int64_t delta);
    int64_t clampForIndex(int index, int64_t value) const;

    Session* session_;
    QCustomPlot* plot_ = nullptr;
    QCustomPlot* pareto_ = nullptr;
    QCPGraph* realGraph_ = nullptr;
    QCPGraph* paddedGraph_ = nullptr;
    QCPGraph* curveGraph_ = nullptr;
    QCPGraph* servedGraph_ = nullptr;
    QCPGraph* measuredGraph_ = nullptr;
    QCPGraph* activeSetGraph_ = nullptr; // no data: the active set's entry in the legend
    QCPGraph* secondTrafficGraph_ = nullptr;
    std::vector<QCPItemStraightLine*> handles_;
    std::vector<QCPItemText*> handleLabels_;
    std::vector<QCPItemStraightLine*> baselineLines_;
    std::vector<QCPItemText*> baselineLabels_;

    BucketTableModel* bucketModel_ = nullptr;
    ComparisonTableModel* comparisonModel_ = nullptr;
    QTableView* bucketTable_ = nullptr;
    QTableView* comparisonTable_ = nullptr;
    QWidget* comparisonPage_ = nullptr;
    QLabel* comparisonNote_ = nullptr;
    QCPItemText* paretoNote_ = nullptr;
    QTabWidget* tablesTabs_ = nullptr;
    QLabel* totals_ = nullptr;
    QLabel* notes_ = nullptr;
    QComboBox* setChooser_ = nullptr;
    QLineEdit* boundariesEdit_ = nullptr;
    QLabel* boundariesError_ = nullptr;
    QComboBox* modeChooser_ = nullptr;
    QCheckBox* logScale_ = nullptr;
    QCheckBox* showBaselines_ = nullptr;

    QSpinBox* buckets_ = nullptr;
    QSpinBox* serveUpTo_ = nullptr;
    QSpinBox* align_ = nullptr;
    QComboBox* objective_ = nullptr;
    QDoubleSpinBox* p99Budget_ = nullptr;
    QDoubleSpinBox* bucketCost_ = nullptr;
    QPushButton* optimizeButton_ = nullptr;
    JobProgress* jobs_ = nullptr;
    BackgroundJob* optimizeJob_ = nullptr;
    PricingInputs optimizeFor_; // what the running Optimize prices under
    QPushButton* refineButton_ = nullptr;
    QDoubleSpinBox* refineBudget_ = nullptr;
    QPlainTextEdit* refineLog_ = nullptr;
    BackgroundJob* refineJob_ = nullptr;
    PricingInputs refineFor_;
    SimulatedClock refineClock_;
    QString refinedProfileDir_;

    Mode mode_ = Mode::Tokens;
    // Histogram bins for drawing: [first, last] lengths, real tokens and requests.
    struct Bin {
        int64_t first = 0, last = 0;
        double requests = 0, tokens = 0;
    };
    std::vector<Bin> bins_;
    int dragIndex_ = -1;
    int selected_ = -1;
    std::optional<Boundaries> dragStart_;
    std::string fittedSet_; // the set the length range was last fitted to
};

} // namespace bucketlab::ui
