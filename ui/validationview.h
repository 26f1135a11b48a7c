// The validation view: runs the core's exhaustive validator on the session's kernel off the
// UI thread (Run, progress, Cancel) and shows its verdict per length range as a coloured
// strip and a table; selecting a defective range shows the first failing call — the input
// the kernel got and what it returned.
#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QTextBrowser;

namespace bucketlab::ui {

class BackgroundJob;
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
    // Shows the range's verdict and, for a defect, its first failing call.
    void selectRange(int row);

    bool isBusy() const;
    ValidationTableModel* model() const { return model_; }
    ValidationStrip* strip() const { return strip_; }
    BackgroundJob* job() const { return job_; }
    QString detailsText() const;
    QString summaryText() const;

Q_SIGNALS:
    void validationFinished(bool completed);

private:
    void kernelChanged();
    void setRunning(bool running);

    Session* session_;
    QLabel* kernel_ = nullptr;
    QSpinBox* maxLength_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* summary_ = nullptr;
    ValidationStrip* strip_ = nullptr;
    QTableView* table_ = nullptr;
    ValidationTableModel* model_ = nullptr;
    QTextBrowser* details_ = nullptr;
    BackgroundJob* job_ = nullptr;
    int64_t ranMaxLength_ = 0;
};

} // namespace bucketlab::ui
