// The BucketLab main window: menus, recent files, drag and drop, an error banner that keeps
// failures visible in the window, and the views over the opened model or package.
#pragma once

#include "ui/modelloadjob.h"

#include <QMainWindow>

class QLabel;
class QMenu;
class QProgressBar;
class QToolButton;

namespace bucketlab::ui {

class PackageView;
class RecentFiles;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    void openFile(const QString& path);
    void openDemo();
    bool isBusy() const { return loader_->isRunning(); }
    QString currentFile() const { return currentFile_; }
    QString errorText() const;
    PackageView* packageView() const { return packageView_; }

Q_SIGNALS:
    // Emitted when a load finishes, successfully or not (screenshots and tests wait for it).
    void loadFinished(bool ok);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void rebuildRecentMenu();
    void showError(const QString& message);
    void hideError();
    void onLoaded(const LoadedModel& model);

    ModelLoadJob* loader_ = nullptr;
    RecentFiles* recent_ = nullptr;
    PackageView* packageView_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QWidget* errorBanner_ = nullptr;
    QLabel* errorLabel_ = nullptr;
    QProgressBar* busy_ = nullptr;
    QString currentFile_;
};

} // namespace bucketlab::ui
