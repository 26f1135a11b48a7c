// Loads (inspects) a model or package, or prepares the embedded demo, off the UI thread.
// A newer request makes older results stale: they are dropped by generation id.
#pragma once

#include "core/model_info.h"

#include <QObject>
#include <QString>

namespace bucketlab::ui {

struct LoadedModel {
    ModelInfo info;
    QString distributionPath; // the demo's traffic file, empty otherwise
    QString modelPath;        // the demo's base model, empty otherwise
};

class ModelLoadJob : public QObject {
    Q_OBJECT
public:
    explicit ModelLoadJob(QObject* parent = nullptr);

    void load(const QString& path);
    void loadDemo(const QString& dir);
    bool isRunning() const { return running_ > 0; }

Q_SIGNALS:
    void started(const QString& what);
    void loaded(const bucketlab::ui::LoadedModel& model);
    void failed(const QString& message);

private:
    template <typename Work> void start(const QString& what, Work work);
    quint64 generation_ = 0;
    int running_ = 0;
};

} // namespace bucketlab::ui
