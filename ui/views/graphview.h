// The graph view: the lowered TorchScript graph of the session's kernel, its state
// preprocessor, or the whole model (inlined), laid out by Graphviz off the UI thread. Pan,
// zoom and fit; search by kind or name; collapse blocks and module scopes; a details panel
// for the selected node with its source line; the kernel's lint findings in a table and on
// the graph; export to SVG and PNG. A graph too large to lay out in time gets a message
// offering the collapsed view.
#pragma once

#include "core/graph/graph.h"
#include "core/graph/lint.h"
#include "ui/models/visiblegraph.h"

#include <QWidget>

#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTableView;
class QTextBrowser;
class QTimer;
class QToolButton;
class QVBoxLayout;

namespace bucketlab::ui {

class BackgroundJob;
class GraphCanvas;
class GraphNodeItem;
class GraphScene;
class JobProgress;
class LintTableModel;
class Session;
struct GraphLayout;

// A graph as loaded for the view: the model, the findings on it and the source text its
// lines refer to.
struct LoadedGraph {
    std::shared_ptr<const GraphModel> graph;
    std::vector<LintFinding> findings;
    std::string source; // the kernel source (empty for a whole model: nodes carry their line)
    std::string file;
    bool linted = false; // lints apply to kernels, not to whole models
};

class GraphView : public QWidget {
    Q_OBJECT
    Q_PROPERTY(bool busy READ isBusy)
public:
    enum class Subject { BucketKernel, StatePreprocessor, WholeModel };

    explicit GraphView(Session* session, QWidget* parent = nullptr);
    ~GraphView() override;

    void setSubject(Subject subject);
    Subject subject() const;
    // Shows a graph already loaded (the session's kernel goes through reload()).
    void showGraph(LoadedGraph loaded);
    void reload();

    void setCollapseBlocks(bool collapse);
    void setCollapseScopes(bool collapse);
    void toggleCollapsed(int modelNode);
    // Selects the box standing for `modelNode` and centres it; shows its details.
    void selectModelNode(int modelNode);
    // Marks every node whose kind or value names contain `text`; selects the next (or the
    // previous) one and scrolls it into view. Returns the number of matches.
    int search(const QString& text);
    int searchPrevious(const QString& text);
    QString exportImage(const QString& path);
    // How long a layout may take before the view offers the collapsed graph instead.
    void setLayoutTimeLimit(int milliseconds);
    void setMaxLayoutNodes(int nodes);

    bool isBusy() const;
    int visibleNodeCount() const;
    const LoadedGraph* loaded() const { return loaded_.get(); }
    GraphScene* scene() const { return scene_; }
    GraphCanvas* canvas() const { return canvas_; }
    LintTableModel* lintModel() const { return lintModel_; }
    BackgroundJob* loadJob() const { return loadJob_; }
    BackgroundJob* layoutJob() const { return layoutJob_; }
    QString message() const;
    QString detailsText() const;

Q_SIGNALS:
    // After a layout is drawn (ok) or did not happen (too large, failed, cancelled).
    void layoutFinished(bool ok);

protected:
    void changeEvent(QEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QHBoxLayout* buildToolbar();
    void buildMessageArea(QVBoxLayout* layout);
    QSplitter* buildPanels();
    void addShortcuts();
    void connectControls();
    void connectJobs();
    void followKernelFile();
    int searchStep(const QString& text, int step);
    void startLayout();
    void showLayout(std::shared_ptr<const GraphLayout> layout);
    void showMessage(const QString& text, bool offerCollapse);
    void hideMessage();
    void showDetails(const GraphNodeItem* item);
    void updateStatus();

    Session* session_;
    std::shared_ptr<const LoadedGraph> loaded_;
    std::shared_ptr<const VisibleGraph> visible_;
    std::shared_ptr<const GraphLayout> layout_; // of visible_, once drawn
    CollapseState collapse_;
    int layoutTimeLimitMs_ = 15000;
    int maxLayoutNodes_ = 6000;
    double layoutSeconds_ = 0;
    int searchCursor_ = -1;
    QString lastSearch_;

    QComboBox* subject_ = nullptr;
    QLineEdit* search_ = nullptr;
    QCheckBox* collapseBlocks_ = nullptr;
    QCheckBox* collapseScopes_ = nullptr;
    QToolButton* zoomIn_ = nullptr;
    QToolButton* zoomOut_ = nullptr;
    QToolButton* fit_ = nullptr;
    QToolButton* export_ = nullptr;
    JobProgress* jobs_ = nullptr;
    QLabel* status_ = nullptr;
    QWidget* messageBox_ = nullptr;
    QLabel* messageText_ = nullptr;
    QPushButton* messageCollapse_ = nullptr;
    GraphScene* scene_ = nullptr;
    GraphCanvas* canvas_ = nullptr;
    QTextBrowser* details_ = nullptr;
    QTableView* lintTable_ = nullptr;
    LintTableModel* lintModel_ = nullptr;
    BackgroundJob* loadJob_ = nullptr;
    BackgroundJob* layoutJob_ = nullptr;
    QTimer* layoutTimer_ = nullptr;
};

} // namespace bucketlab::ui
