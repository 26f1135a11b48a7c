#include "ui/modelloadjob.h"

#include "core/demo.h"
#include "core/error.h"

#include <QFutureWatcher>
#include <QPointer>
#include <QtConcurrent>

namespace bucketlab::ui {

namespace {
struct Outcome {
    LoadedModel model;
    QString error;
};
} // namespace

ModelLoadJob::ModelLoadJob(QObject* parent) : QObject(parent) {}

template <typename Work> void ModelLoadJob::start(const QString& what, Work work)
{
    const quint64 generation = ++generation_;
    ++running_;
    Q_EMIT started(what);
    auto* watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, generation] {
        const Outcome outcome = watcher->result();
        watcher->deleteLater();
        --running_;
        if (generation != generation_)
            return; // superseded by a newer request
        if (outcome.error.isEmpty())
            Q_EMIT loaded(outcome.model);
        else
            Q_EMIT failed(outcome.error);
    });
    watcher->setFuture(QtConcurrent::run([work]() -> Outcome {
        Outcome o;
        try {
            o.model = work();
        } catch (const std::exception& e) {
            o.error = QString::fromStdString(firstLine(e.what()));
        }
        return o;
    }));
}

void ModelLoadJob::load(const QString& path)
{
    const std::string p = path.toStdString();
    start(tr("Opening %1").arg(path), [p] {
        LoadedModel m;
        m.info = inspectModel(p);
        return m;
    });
}

void ModelLoadJob::loadDemo(const QString& dir)
{
    const std::string d = dir.toStdString();
    start(tr("Building the demo in %1").arg(dir), [d] {
        const DemoFiles files = prepareDemo(d);
        LoadedModel m;
        m.info = inspectModel(files.package);
        m.distributionPath = QString::fromStdString(files.distribution);
        m.modelPath = QString::fromStdString(files.model);
        return m;
    });
}

} // namespace bucketlab::ui
