// The profiles the desktop has measured and saved, remembered across restarts (QSettings).
// When the session's model is set, the remembered profiles of a model by that file name are
// read back off the UI thread and added to the session, so the Latency view's choosers
// ("Profile", "Compare with") list them again after a restart.
#pragma once

#include <QObject>
#include <QStringList>

namespace bucketlab::ui {

class BackgroundJob;
class Session;

class SavedProfiles : public QObject {
    Q_OBJECT
public:
    explicit SavedProfiles(Session* session, QObject* parent = nullptr);

    // Remembers a profile file just written (most recent first): one list in the settings,
    // so any writer (the Profile panel, Measure and refine) can add to it.
    static void remember(const QString& path);
    // Where the desktop writes the profiles it measures: an application data folder.
    static QString defaultDirectory();
    static QStringList paths();
    BackgroundJob* job() const { return job_; }

    static constexpr int kMax = 20;

Q_SIGNALS:
    // After the remembered profiles of the session's model were added (count may be 0).
    void restored(int count);

private:
    void restore();

    Session* session_;
    BackgroundJob* job_;
};

} // namespace bucketlab::ui
