#include "ui/models/recentfiles.h"

#include <QFileInfo>
#include <QSettings>

namespace bucketlab::ui {

RecentFiles::RecentFiles(QObject* parent) : QObject(parent)
{
    files_ = QSettings().value("recentFiles").toStringList();
}

void RecentFiles::add(const QString& path)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    files_.removeAll(abs);
    files_.prepend(abs);
    while (files_.size() > kMax)
        files_.removeLast();
    save();
}

void RecentFiles::clear()
{
    files_.clear();
    save();
}

void RecentFiles::save()
{
    QSettings().setValue("recentFiles", files_);
    Q_EMIT changed();
}

} // namespace bucketlab::ui
