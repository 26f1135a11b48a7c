// Export the active boundary set: a new package (verified against the source before it is
// written), optionally the Neuron build recipe and the HTML report comparing the package's
// boundaries with the new ones on the session's traffic and latency. The export runs off the UI
// thread with progress and Cancel; failures and the summary of what was written show in the dialog.
#pragma once

#include "core/report/report_builder.h"

#include <QDialog>

#include <optional>

#include <cstdint>
#include <vector>

class QCheckBox;
class QDialogButtonBox;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;

namespace bucketlab::ui {

class BackgroundJob;
class JobProgress;
struct ExportOutcome;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const QString& sourcePackage, const Boundaries& boundaries,
                 QWidget* parent = nullptr);

    void setOutput(const QString& path);
    void setRecipeDir(const QString& dir); // empty: no recipe
    void setForce(bool force);
    // What the HTML report is made from (traffic, latency, current boundaries); without it,
    // or with `whyNot` set, the report option is disabled and says why.
    // What the new boundaries serve against the source package's: shown beside them, in red
    // when the served range shrinks.
    void setServedRange(const ServedRangeChange& range);
    void setReportInputs(const std::optional<BoundaryReportRequest>& inputs,
                         const QString& whyNot = {});
    void setReportPath(const QString& path); // empty: no report
    // Starts the export (what the Export button does).
    void start();
    BackgroundJob* job() const { return job_; }
    QString summary() const;
    QString errorText() const;

Q_SIGNALS:
    void exportFinished(bool written);

private:
    // The constructor's steps: the source, boundaries and output options; the note, progress,
    // error and summary; the Export, Cancel and Close buttons; the export job's signals.
    QFormLayout* buildForm(const Boundaries& boundaries);
    QLabel* buildStatusArea();
    QHBoxLayout* buildButtons();
    void connectJob();
    // A finished export: what was written (or why not) in the summary and the error line.
    void showOutcome(const ExportOutcome& outcome);

    QString source_;
    Boundaries boundaries_;
    QLineEdit* out_ = nullptr;
    QCheckBox* recipe_ = nullptr;
    QLineEdit* recipeDir_ = nullptr;
    QCheckBox* force_ = nullptr;
    QCheckBox* report_ = nullptr;
    QLineEdit* reportPath_ = nullptr;
    std::optional<BoundaryReportRequest> reportInputs_;
    JobProgress* jobs_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* servedRange_ = nullptr;
    QLabel* error_ = nullptr;
    QPushButton* exportButton_ = nullptr;
    BackgroundJob* job_ = nullptr;
};

} // namespace bucketlab::ui
