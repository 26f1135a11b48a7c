#include "ui/models/savedprofiles.h"

#include "core/latency/profile_format.h"
#include "ui/models/backgroundjob.h"
#include "ui/models/session.h"

#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

#include <memory>
#include <vector>

using ProfileList = std::vector<bucketlab::ui::LoadedProfile>;
Q_DECLARE_METATYPE(std::shared_ptr<const ProfileList>)

namespace bucketlab::ui {

namespace {

constexpr const char* kKey = "profiles/saved";

} // namespace

SavedProfiles::SavedProfiles(Session* session, QObject* parent)
    : QObject(parent), session_(session), job_(new BackgroundJob(this))
{
    connect(session_, &Session::modelChanged, this, &SavedProfiles::restore);
    connect(job_, &BackgroundJob::finished, this, [this](const QVariant& value) {
        const auto found = value.value<std::shared_ptr<const ProfileList>>();
        int added = 0;
        for (const auto& p : *found) {
            // The model may have changed while the files were read: only its own profiles.
            const auto& model = session_->model();
            if (!model || QString::fromStdString(p.profile.modelFile) !=
                              QFileInfo(QString::fromStdString(model->path)).fileName())
                continue;
            bool known = false;
            for (const auto& q : session_->profiles())
                known = known || QFileInfo(q.path) == QFileInfo(p.path);
            if (!known) {
                session_->addProfile(p);
                ++added;
            }
        }
        Q_EMIT restored(added);
    });
    // A profile that no longer reads is simply not offered again; nothing to tell the user.
    connect(job_, &BackgroundJob::failed, this, [this] { Q_EMIT restored(0); });
    restore();
}

void SavedProfiles::remember(const QString& path)
{
    QStringList list = paths();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    list.removeAll(absolute);
    list.prepend(absolute);
    while (list.size() > kMax)
        list.removeLast();
    QSettings().setValue(kKey, list);
}

QString SavedProfiles::defaultDirectory()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath("profiles");
}

QStringList SavedProfiles::paths()
{
    return QSettings().value(kKey).toStringList();
}

void SavedProfiles::restore()
{
    const auto& model = session_->model();
    if (!model)
        return;
    const std::string modelName =
        QFileInfo(QString::fromStdString(model->path)).fileName().toStdString();
    QStringList wanted;
    for (const QString& path : paths()) {
        bool known = false;
        for (const auto& p : session_->profiles())
            known = known || QFileInfo(p.path) == QFileInfo(path);
        if (!known)
            wanted << path;
    }
    if (wanted.isEmpty())
        return;
    job_->start(tr("Reading saved profiles"), [wanted, modelName](JobContext& context) {
        auto found = std::make_shared<ProfileList>();
        for (const QString& path : wanted) {
            if (context.cancelled())
                break;
            if (!QFileInfo::exists(path))
                continue;
            try {
                Profile profile = readProfile(path.toStdString());
                if (profile.modelFile == modelName)
                    found->push_back({path, std::move(profile)});
            } catch (const std::exception&) {
                // Rewritten or damaged since: skip it, the others still come back.
            }
        }
        return QVariant::fromValue(std::shared_ptr<const ProfileList>(std::move(found)));
    });
}

} // namespace bucketlab::ui
