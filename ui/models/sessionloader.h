// Opens files into the session off the UI thread, one request after another: models and
// packages, traffic (CSV/TSV/JSONL, or text with a WordPiece vocabulary), latency profiles
// (JSON/CSV), projects, and the embedded demo. The kind of a file is told by its extension
// and, for .json and .csv, by its content; a file of no known kind is refused with a message
// that says what was expected.
#pragma once

#include "core/project/project.h"
#include "core/util/job.h"

#include <QObject>
#include <QQueue>
#include <QString>

#include <functional>

namespace bucketlab::ui {

class BackgroundJob;
class Session;

class SessionLoader : public QObject {
    Q_OBJECT
public:
    explicit SessionLoader(Session* session, QObject* parent = nullptr);

    // Any supported file, by its kind.
    void openFile(const QString& path);
    void openDemo(const QString& dir);
    // A project that names files outside its folder is not read further unless
    // `outsideAllowed`: projectReachesOutside() lists them and the caller asks the user.
    void openProject(const QString& path, bool outsideAllowed = false);
    // Traffic with explicit reader options (column, vocab, ...).
    void openTraffic(const DistributionSource& source);
    void openLatency(const LatencySource& source);

    bool isBusy() const;
    BackgroundJob* job() const { return job_; }

    // The WordPiece vocabulary used for dropped .txt files (remembered in QSettings).
    static QString textVocabulary();
    static void setTextVocabulary(const QString& path);

Q_SIGNALS:
    void started(const QString& what);
    // One per request. `message` is an error when !ok, else what was opened.
    void finished(bool ok, const QString& message);
    // Something the user should know that did not stop the load (missing project files).
    void warning(const QString& message);
    // The project at `path` names `files` ("what: path") outside its folder; nothing of it
    // was loaded. Open it again with outsideAllowed to read them.
    void projectReachesOutside(const QString& path, const QStringList& files);
    void idle();

private:
    struct Request {
        QString what;
        std::function<QVariant(const Job&)> work;
    };
    void enqueue(Request request);
    void startNext();
    void apply(const QVariant& result);

    Session* session_;
    BackgroundJob* job_;
    QQueue<Request> queue_;
};

} // namespace bucketlab::ui
