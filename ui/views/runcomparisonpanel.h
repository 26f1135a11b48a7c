// The run comparison in the desktop (File ▸ Compare With…): run B read off the UI thread into
// the session, then every boundary set priced on both runs (ui/models/runcomparisonmodel.h,
// the core's compareRuns) in a table with B − A, the core's sentence above it. Priced again,
// off the UI thread, when the session's sets, traffic or curve change; a newer pricing makes
// an older one stale (BackgroundJob's generations).
#pragma once

#include <QWidget>

class QLabel;
class QTableView;
class QTimer;

namespace bucketlab::ui {

class BackgroundJob;
class RunComparisonModel;
class Session;

class RunComparisonPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunComparisonPanel(Session* session, QWidget* parent = nullptr);

    // Reads `path` (a project, profile or traffic file) as run B.
    void openSecondRun(const QString& path);
    void closeSecondRun();
    RunComparisonModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    QString summary() const;
    bool isBusy() const;

Q_SIGNALS:
    // Run B could not be read, or the sets could not be priced: a message for the banner.
    void failed(const QString& message);
    // The table shows the pricing for the session as it is now.
    void comparisonReady();

private:
    void schedulePricing();
    void price();

    Session* session_;
    RunComparisonModel* model_;
    BackgroundJob* readJob_;
    BackgroundJob* priceJob_;
    QTimer* debounce_;
    QLabel* title_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableView* table_ = nullptr;
};

} // namespace bucketlab::ui
