// Profiling from the desktop: measure the session's model or package over a grid of
// lengths on a background job, with a progress bar, Cancel, and the points drawn live in
// the Latency view as they converge. A finished run is saved as a bucketlab.profile/1 file
// (so a project can refer to it), added to the session's profiles, and can become the
// curve the tuner uses.
#pragma once

#include "core/latency/profile_format.h"

#include <QWidget>

#include <functional>
#include <map>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace bucketlab::ui {

class BackgroundJob;
class JobProgress;
class SavedProfiles;
class Session;

class ProfilePanel : public QWidget {
    Q_OBJECT
public:
    explicit ProfilePanel(Session* session, QWidget* parent = nullptr);

    BackgroundJob* job() const { return job_; }
    // The profiles saved by earlier runs, brought back into the session for its model.
    SavedProfiles* savedProfiles() const { return saved_; }
    // The points of the run in progress (or just ended), by length, as last reported.
    Profile liveProfile() const;
    bool isProfiling() const;
    // Where finished profiles are written (an application data folder by default).
    void setOutputDirectory(const QString& dir) { outputDir_ = dir; }
    // Times every call with a simulated device clock instead of this machine's (the model
    // still runs): ProfileRequest::simulatedCallMs. For tests and demonstrations of a device
    // that is not here; empty: the real clock.
    void setSimulatedClock(std::function<double(int64_t length, int64_t batch, int64_t call)> ms)
    {
        simulatedCallMs_ = std::move(ms);
    }

public Q_SLOTS:
    void start();
    void cancel();

Q_SIGNALS:
    void liveUpdated();
    // After every run: ok, cancelled or failed (with the message shown in the panel).
    void profilingStopped(bool ok);

private:
    // The constructor's steps: the settings, buttons, progress and status; their row; the
    // buttons' and the job's signals.
    void buildControls();
    void layoutControls();
    void connectJob();
    // A finished run: saves the profile, adds it to the session, makes it the latency curve
    // when asked, and says what happened.
    void finishProfile(const Profile& profile);
    void updateEnabled();
    void showMessage(const QString& text, bool error);

    Session* session_;
    BackgroundJob* job_;
    SavedProfiles* saved_;
    QSpinBox* grid_ = nullptr;
    QSpinBox* budget_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QLineEdit* inputs_ = nullptr;
    QCheckBox* useForTuning_ = nullptr;
    QPushButton* run_ = nullptr;
    JobProgress* jobs_ = nullptr;
    QLabel* status_ = nullptr;
    std::map<int64_t, ProfilePoint> live_;
    Profile liveHeader_;
    QString outputDir_;
    std::function<double(int64_t, int64_t, int64_t)> simulatedCallMs_;
};

} // namespace bucketlab::ui
