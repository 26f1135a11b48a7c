// The Latency view: measured profile points with the 95 % CI of the median as error bars,
// p90 and p99 beside them, the fitted non-decreasing curve the tuner uses, the active
// buckets marked, and a second profile for side-by-side comparison (e.g. CPU here against
// a Neuron host, or before and after a change). Profiling runs from here (ProfilePanel),
// its points drawn as they converge.
#pragma once

#include <QWidget>

#include <cstdint>
#include <set>
#include <vector>

class QCheckBox;
class QColor;
class QComboBox;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QSplitter;
class QTableView;

namespace bucketlab {
struct Profile;
struct ProfilePoint;
} // namespace bucketlab

namespace bucketlab::ui {

class ProfilePanel;
class ProfileTableModel;
class Session;

class LatencyView : public QWidget {
    Q_OBJECT
public:
    explicit LatencyView(Session* session, QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    ProfileTableModel* tableModel() const { return table_; }
    QComboBox* profileChooser() const { return first_; }
    QComboBox* compareChooser() const { return second_; }
    // Adds a placeholder graph for points arriving live (profiling in progress).
    QWidget* toolArea() const { return tools_; }
    // Profiling the session's model from here; its points are drawn live.
    ProfilePanel* profilePanel() const { return profiler_; }
    // Lengths on a base-2 log axis (as the Buckets view's "Log length axis"): short lengths,
    // where fixed per-call costs dominate, get as much room as long ones.
    QCheckBox* logAxisBox() const { return logAxis_; }
    void setLogAxis(bool log);

protected:
    void changeEvent(QEvent* event) override;

private:
    // The constructor's steps: the choosers and tools row; the plot above the curve label and
    // the table; the choosers', the session's and the profiler's signals.
    QHBoxLayout* buildToolbar();
    QSplitter* buildPlotAndTable();
    void connectSignals();
    void rebuildChoosers(bool followTuner);
    void redraw();
    // redraw's steps: the session's analytic curve (when nothing is measured); run B's curve
    // and points (File > Compare With…), dashed in run B's colour; the active set's
    // boundaries as lines in its colour (returns them); the ranges (a log axis starts below
    // the shortest measured length).
    void drawAnalyticCurve();
    void drawSecondRunCurve();
    std::set<int64_t> drawBucketLines();
    void fitAxes();
    // `name` appears once in the legend, on the profile's medians; the p90, p99 and curve
    // entries name their role only, and only for the first profile drawn (`describeRoles`):
    // a second profile's lines have the same styles in its own colour.
    void drawProfile(const Profile& profile, int colorIndex, const QString& name,
                     bool describeRoles);
    // drawProfile's steps: the points a refinement measured (`points`: the profile's, sorted
    // by length), ringed; the non-decreasing curve built from the profile up to past the
    // longest length `x` (nothing when the profile gives no curve).
    void drawRefinedPoints(const Profile& profile, const std::vector<ProfilePoint>& points,
                           const QColor& color, const QString& name, bool describeRoles);
    void drawProfileCurve(const Profile& profile, const QVector<double>& x, const QColor& color,
                          const QString& name, bool describeRoles);

    Session* session_;
    QComboBox* first_ = nullptr;
    QComboBox* second_ = nullptr;
    QLabel* curveLabel_ = nullptr;
    QCheckBox* logAxis_ = nullptr;
    QCustomPlot* plot_ = nullptr;
    ProfileTableModel* table_ = nullptr;
    QTableView* tableView_ = nullptr;
    QWidget* tools_ = nullptr;
    ProfilePanel* profiler_ = nullptr;
};

} // namespace bucketlab::ui
