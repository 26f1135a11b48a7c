// The validation view: runs the core's exhaustive validator on the session's kernel off the
// UI thread (Run, progress, Cancel) and shows its verdict per length range as a coloured
// strip and a table; selecting a defective range shows the first failing call — the input
// the kernel got and what it returned.
#pragma once

#include <QWidget>

#include <cstdint>
#include <vector>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QSplitter;
class QTableView;
class QTextBrowser;
class QTimer;

namespace bucketlab {
struct KernelCheckResult;
}

namespace bucketlab::ui {

class BackgroundJob;
class JobProgress;
class Session;
class ValidationStrip;
class ValidationTableModel;

class ValidationView : public QWidget {
    Q_OBJECT
    Q_PROPERTY(bool busy READ isBusy)
public:
    explicit ValidationView(Session* session, QWidget* parent = nullptr);

    void run();
    void cancel();
    void setMaxLength(int length);
    // How a kernel source file is called (packages and generated kernels carry their own):
    // its function (empty: detected), the contract ("pad" or "slice"), the padding side
    // ("right" or "left") and the constant arguments after its inputs (TorchScript
    // expressions, NxD's bucket_kernel_constant_args). Used by the next run.
    void setKernelCall(const QString& function, const QString& contract, const QString& side,
                       const QString& constantArgs);
    // True when the kernel-call controls apply (the subject is a kernel source file).
    bool kernelCallShown() const;
    // Shows the range's verdict and, for a defect, its first failing call.
    void selectRange(int row);

    bool isBusy() const;
    ValidationTableModel* model() const { return model_; }
    ValidationStrip* strip() const { return strip_; }
    BackgroundJob* job() const { return job_; }
    QString detailsText() const;
    QString summaryText() const;
    // What is validated and why (the line above the strip).
    QString subjectText() const;

Q_SIGNALS:
    void validationFinished(bool completed);

protected:
    void showEvent(QShowEvent* event) override;

private:
    struct Subject;
    Subject subject() const;
    // Follows the session: a new kernel file runs at once; a change of the active set runs
    // once the edits settle, or when the view is next shown.
    void refreshSubject(bool kernelFileChanged);
    void setRunning(bool running);
    QWidget* makeKernelCallBar();
    // The constructor's steps: the kernel, lengths, Run and Cancel row; the table of ranges
    // beside the details; the buttons and selections; the job's signals; the session's.
    QHBoxLayout* buildRunBar();
    QSplitter* buildResults();
    void connectControls();
    void connectJob();
    // A finished run: the table, the strip, the summary, and the first defect selected.
    void showResult(const KernelCheckResult& result);
    // An edit or a switch of the active set re-validates once the edits settle.
    void followSession();

    Session* session_;
    QLabel* kernel_ = nullptr;
    QSpinBox* maxLength_ = nullptr;
    QWidget* kernelCall_ = nullptr; // function, contract, padding side, constant arguments
    QLineEdit* function_ = nullptr;
    QComboBox* contract_ = nullptr;
    QComboBox* side_ = nullptr;
    QLineEdit* constants_ = nullptr;
    QPushButton* run_ = nullptr;
    JobProgress* jobs_ = nullptr;
    QLabel* summary_ = nullptr;
    ValidationStrip* strip_ = nullptr;
    QTableView* table_ = nullptr;
    ValidationTableModel* model_ = nullptr;
    QTextBrowser* details_ = nullptr;
    BackgroundJob* job_ = nullptr;
    int64_t ranMaxLength_ = 0;
    std::vector<int64_t> ranExpected_;
    QString subjectKey_;
    QTimer* rerun_ = nullptr;
    bool pendingRun_ = false;
};

} // namespace bucketlab::ui
