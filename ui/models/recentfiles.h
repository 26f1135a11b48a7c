// The recently opened files, most recent first, kept in QSettings.
#pragma once

#include <QObject>
#include <QStringList>

namespace bucketlab::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    explicit RecentFiles(QObject* parent = nullptr);
    QStringList files() const { return files_; }
    void add(const QString& path);
    void clear();

Q_SIGNALS:
    void changed();

private:
    void save();
    QStringList files_;
    static constexpr int kMax = 10;
};

} // namespace bucketlab::ui
