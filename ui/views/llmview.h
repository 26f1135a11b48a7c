// The LLM view: serving buckets for NxD Inference from (prompt, output) request traffic. The
// prompt lengths and the decode positions are drawn as histograms with the CTE and TKG
// bucket boundaries as handles the user drags (snapped to integers, never crossing; the
// largest of each list is pinned at max_context_length / seq_len, where NxD needs it), with
// NxD's default lists dashed behind them. The totals (mean request latency, TTFT, buckets
// per phase) follow the mouse; each drag is one undo step. Optimize runs the joint tuner off
// the UI thread (progress, Cancel) and shows the joint Pareto front, whose points can be
// picked, with a compile budget. Export writes the NxD and vLLM configs after their rule
// checks; rule violations of the lists are shown in the view.
#pragma once

#include "ui/models/llmsession.h"

#include <QWidget>

#include <optional>
#include <vector>

class QCPBars;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCustomPlot;
class QDoubleSpinBox;
class QGridLayout;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QMouseEvent;
class QPushButton;
class QSpinBox;
class QSplitter;

namespace bucketlab::ui {

class JobProgress;

class LlmView : public QWidget {
    Q_OBJECT
public:
    explicit LlmView(LlmSession* session, QWidget* parent = nullptr);

    LlmSession* session() const { return session_; }
    QCustomPlot* plot(LlmPhase phase) const;
    QCustomPlot* paretoPlot() const { return pareto_; }
    // Widget coordinates (of this view) of handle `index` of a phase's list.
    QPoint handlePosition(LlmPhase phase, int index) const;
    // The plot's widget coordinates for a length, at the middle of the plot height.
    QPoint plotPointForLength(LlmPhase phase, int64_t length) const;
    QPoint paretoPointPosition(int index) const;

    // Opens a trace (the Open trace… button and File > Open LLM trace… end here).
    void openTraffic(const QString& fileOrSpec);
    // The Azure LLM inference trace of a coding service (CC-BY-4.0, resources/llm/SOURCE.md),
    // built into the application: copied to the cache folder and opened from there.
    void openDemoTrace();
    // Writes the configs (Export… ends here); the outcome is shown in the view. Returns
    // an empty string or the error.
    QString exportTo(const QString& nxdPath, const QString& vllmPath);
    QString statusText() const;
    QString rulesText() const;
    QString totalsText() const;

public Q_SLOTS:
    void optimize();
    void showOpenDialog();
    void showExportDialog();

protected:
    void changeEvent(QEvent* event) override;

private:
    struct PhasePlot {
        explicit PhasePlot(LlmPhase p) : phase(p) {}
        LlmPhase phase;
        QCustomPlot* plot = nullptr;
        QCPBars* bars = nullptr;
        QCPGraph* listsKey = nullptr;    // no data: the lists' entry in the legend
        QCPGraph* defaultsKey = nullptr; // no data: NxD's defaults' entry
        std::vector<QCPItemStraightLine*> handles;
        std::vector<QCPItemText*> labels;
        std::vector<QCPItemStraightLine*> defaults;
    };
    PhasePlot& phasePlot(LlmPhase phase) { return phase == LlmPhase::Cte ? cte_ : tkg_; }
    const PhasePlot& phasePlot(LlmPhase phase) const
    {
        return phase == LlmPhase::Cte ? cte_ : tkg_;
    }
    QHBoxLayout* buildTraceButtons();
    void buildInputFields();
    QGridLayout* layoutInputs(QHBoxLayout* traceButtons);
    void buildSummaryLabels();
    void buildParetoPlot();
    QHBoxLayout* buildActions();
    QSplitter* buildPlotSplitter();
    void connectSession();
    void setUpPhasePlot(PhasePlot& p, const QString& name, const QString& xLabel);
    void applyInputs();
    void rebuildHistograms();
    void refreshHandles();
    void refreshHandles(PhasePlot& p);
    void refreshTotals();
    void refreshPareto();
    void applyColours();
    void setStatus(const QString& text, bool error);
    int handleAt(const PhasePlot& p, const QPoint& pos) const;
    void onPress(PhasePlot& p, QMouseEvent* event);
    void onMove(PhasePlot& p, QMouseEvent* event);
    void onRelease(PhasePlot& p);
    void onDoubleClick(PhasePlot& p, QMouseEvent* event);

    LlmSession* session_;
    PhasePlot cte_{LlmPhase::Cte};
    PhasePlot tkg_{LlmPhase::Tkg};
    QCustomPlot* pareto_ = nullptr;
    QCPGraph* frontGraph_ = nullptr;
    QCPGraph* overBudgetGraph_ = nullptr;
    QCPGraph* currentGraph_ = nullptr;
    QCPGraph* nxdGraph_ = nullptr;
    QCPItemText* paretoHint_ = nullptr;     // shown until a front exists
    std::vector<QCPItemText*> splitLabels_; // "CTE+TKG" above each point of the front
    QLabel* trafficLabel_ = nullptr;
    QLineEdit* cteCurve_ = nullptr;
    QLineEdit* tkgCurve_ = nullptr;
    QSpinBox* maxContext_ = nullptr;
    QSpinBox* seqLen_ = nullptr;
    QSpinBox* buckets_ = nullptr;
    QLineEdit* compileCost_ = nullptr;
    QDoubleSpinBox* compileBudget_ = nullptr;
    QLabel* totals_ = nullptr;
    QLabel* rules_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* optimizeButton_ = nullptr;
    QPushButton* exportButton_ = nullptr;
    JobProgress* jobs_ = nullptr;

    std::optional<LlmPhase> dragPhase_;
    int dragIndex_ = -1;
    std::optional<LlmBucketLists> dragStart_;
};

} // namespace bucketlab::ui
