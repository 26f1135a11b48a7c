// The BucketLab main window: the views over the session as tabs (Buckets, Package, ...),
// the project panel as a dock, menus with the standard shortcuts, recent files, drag and
// drop of any supported file, an error banner that keeps failures visible in the window,
// and a status bar with the active boundary set's mean latency and waste.
#pragma once

#include "core/report/report_builder.h"

#include <QMainWindow>

#include <optional>

class QAction;
class QDockWidget;
class QLabel;
class QMimeData;
class QMenu;
class QProgressBar;
class QCustomPlot;
class QTabWidget;

class QUndoGroup;

namespace bucketlab::ui {

class BackgroundJob;
class BucketsView;
class LatencyView;
class PackageView;
class GraphView;
class ValidationView;
class LlmSession;
class LlmView;
class ProjectPanel;
class RecentFiles;
class RunComparisonPanel;
class Session;
class SessionLoader;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    void openFile(const QString& path);
    // What a drop does: opens every local file in the mime data, in order. Returns false
    // when there was nothing to open.
    bool openMimeData(const QMimeData* mime);
    void openDemo();
    void openProject(const QString& path);
    // Writes the session as a project; returns an error message or an empty string.
    QString saveProject(const QString& path);
    // With unsaved edits, asks Save / Discard / Cancel (the box is "saveChangesBox").
    // True when the caller may go on: saved, discarded, or nothing to save.
    bool maybeSave();

    bool isBusy() const;
    QString errorText() const;
    Session* session() const { return session_; }
    SessionLoader* loader() const { return loader_; }
    BucketsView* bucketsView() const { return bucketsView_; }
    PackageView* packageView() const { return packageView_; }
    GraphView* graphView() const { return graphView_; }
    ValidationView* validationView() const { return validationView_; }
    LatencyView* latencyView() const { return latencyView_; }
    LlmView* llmView() const { return llmView_; }
    QTabWidget* views() const { return views_; }
    // File > Compare With…: run B beside the session (a dock, shown while one is open).
    RunComparisonPanel* runComparisonPanel() const { return comparisonPanel_; }
    // The plot File > Export Plot writes: the current view's main plot, or none.
    QCustomPlot* currentPlot() const;

    // File > Report…: writes the HTML report (core/report) for the session's traffic, latency
    // and boundary sets (current against the active set) to `path` on a background job,
    // whole or not at all; reportFinished says how it went, a failure shows in the banner.
    void writeReport(const QString& path);
    BackgroundJob* reportJob() const { return reportJob_; }
    // What the report reads again from where the session got it; nullopt with the reason in
    // `whyNot` when the session lacks traffic, latency or boundaries, or its traffic cannot
    // be read again as given (tokenized text).
    std::optional<BoundaryReportRequest> reportRequest(QString* whyNot) const;

    // Edit > Save Set As…: a copy of the active boundary set under `name` (one undo step); the
    // active set stays active. Returns an error (also shown) or an empty string.
    QString saveSetAs(const QString& name);

    // Shows a failure in the window (banner), never only in a log.
    void showError(const QString& message);

Q_SIGNALS:
    // Emitted when every queued load has finished; ok is false if the last one failed.
    void loadFinished(bool ok);
    // After writeReport: `message` is the written file, or why there is none.
    void reportFinished(bool ok, const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    // The actions the main tool bar repeats from the menus.
    struct ToolBarActions {
        QAction* open = nullptr;
        QAction* demo = nullptr;
        QAction* save = nullptr;
        QAction* undo = nullptr;
        QAction* redo = nullptr;
        QAction* optimize = nullptr;
    };
    // The constructor's steps, in the order it takes them.
    QWidget* buildErrorBanner(QWidget* central);
    QTabWidget* buildViews(QWidget* central);
    QDockWidget* buildProjectDock();
    void buildStatusBar();
    // The Run Comparison dock, shown while a second run is open.
    QDockWidget* buildComparisonDock();
    // View > one action per view (Ctrl+1…) and the Project panel's toggle (Alt+0).
    void addViewActions(QDockWidget* projectDock);
    void connectSession();
    void connectLoader();
    // The menus and the tool bar; createActions takes the steps below in menu order.
    void createActions();
    void addOpenActions(QMenu* file, ToolBarActions& actions);
    void addSaveActions(QMenu* file, ToolBarActions& actions);
    void addExportActions(QMenu* file);
    void addQuitAction(QMenu* file);
    void addEditActions(QMenu* edit, ToolBarActions& actions);
    void addHelpActions(QMenu* help);
    void createToolBar(const ToolBarActions& actions);
    // File > Export Tuned Package…: the export dialog for the open package (window-modal).
    void exportTunedPackage();
    void showShortcuts();
    void rebuildRecentMenu();
    void hideError();
    void updateStatus();
    void openTrafficDialog();
    void openReportDialog();
    void openCompareDialog();
    // Saves to the project file, asking for one if there is none (or `askPath`). False when
    // not saved (the user cancelled the file dialog, or the write failed: shown).
    bool saveInteractive(bool askPath);
    void updateTitle();
    // The project at `path` names files outside its folder: lists them and opens the project
    // only if the user agrees.
    void askAboutOutsideFiles(const QString& path, const QStringList& files);

    Session* session_ = nullptr;
    SessionLoader* loader_ = nullptr;
    RecentFiles* recent_ = nullptr;
    QTabWidget* views_ = nullptr;
    BucketsView* bucketsView_ = nullptr;
    LatencyView* latencyView_ = nullptr;
    PackageView* packageView_ = nullptr;
    GraphView* graphView_ = nullptr;
    ValidationView* validationView_ = nullptr;
    LlmSession* llmSession_ = nullptr;
    LlmView* llmView_ = nullptr;
    QUndoGroup* undoGroup_ = nullptr; // Edit > Undo: the session's stack, or the LLM view's
    ProjectPanel* projectPanel_ = nullptr;
    BackgroundJob* reportJob_ = nullptr;
    RunComparisonPanel* comparisonPanel_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QWidget* errorBanner_ = nullptr;
    QLabel* errorLabel_ = nullptr;
    QLabel* summary_ = nullptr;
    QProgressBar* busy_ = nullptr;
    QString projectPath_;
    QString previousProjectPath_; // restored when the user declines to open a project
    bool lastLoadOk_ = true;
};

} // namespace bucketlab::ui
