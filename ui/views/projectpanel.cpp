#include "ui/views/projectpanel.h"

#include "core/util/format.h"
#include "ui/models/packagetablemodels.h"
#include "ui/models/palette.h"
#include "ui/models/session.h"

#include <QEvent>
#include <QFileInfo>
#include <QHeaderView>
#include <QLocale>
#include <QResizeEvent>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QVBoxLayout>

#include <algorithm>

namespace bucketlab::ui {

namespace {
constexpr int kSetIndexRole = Qt::UserRole + 1;

QString boundariesText(const std::vector<int64_t>& b)
{
    return QString::fromStdString(formatLengths(b, ", "));
}

void setSetItemText(QTreeWidgetItem* item, const Session& session, int index,
                    const QPalette& palette)
{
    const BoundarySet& set = session.boundarySets()[size_t(index)];
    const QString title = session.setTitle(index);
    const QString details = boundariesText(set.boundaries);
    if (item->text(0) != title)
        item->setText(0, title);
    // The set's colour, as the Buckets view draws its handles (ui/palette.h).
    const QColor color = boundarySetColor(set, palette);
    if (item->data(0, Qt::DecorationRole).value<QColor>() != color)
        item->setData(0, Qt::DecorationRole, color);
    if (item->text(1) != details) {
        item->setText(1, details);
        item->setToolTip(1, details);
    }
}
} // namespace

ProjectPanel::ProjectPanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session), tree_(new QTreeWidget(this))
{
    setObjectName("projectPanel");
    setMinimumWidth(250);
    tree_->setObjectName("projectTree");
    tree_->setColumnCount(2);
    tree_->setHeaderLabels({tr("Item"), tr("Details")});
    // Both columns share the dock's width: sized to its contents, the Item column pushed
    // Details out of sight in a narrow dock. The user can still drag the divider.
    tree_->header()->setSectionResizeMode(0, QHeaderView::Interactive);
    tree_->header()->setStretchLastSection(true);
    tree_->setRootIsDecorated(true);
    tree_->setTextElideMode(Qt::ElideRight);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(tree_);
    connect(tree_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        const QVariant index = item->data(0, kSetIndexRole);
        if (index.isValid())
            session_->setActiveIndex(index.toInt());
    });
    // The active set's row follows its boundaries as they change (a drag relabels it on
    // every step, so only that row is touched).
    connect(session_, &Session::activeBoundariesChanged, this, &ProjectPanel::refreshActiveSet);
    for (auto signal : {&Session::modelChanged, &Session::trafficChanged, &Session::latencyChanged,
                        &Session::profilesChanged, &Session::boundarySetsChanged})
        connect(session_, signal, this, &ProjectPanel::rebuild);
    rebuild();
}

void ProjectPanel::rebuild()
{
    tree_->clear();
    const QLocale locale;
    auto* model = new QTreeWidgetItem(tree_, {tr("Model")});
    if (const auto& m = session_->model()) {
        auto* item = new QTreeWidgetItem(
            model,
            {QFileInfo(QString::fromStdString(m->path)).fileName(),
             m->package ? tr("package, %n bucket(s)", nullptr, int(m->package->boundaries.size()))
                        : tr("TorchScript model")});
        item->setToolTip(0, QString::fromStdString(m->path));
    } else {
        new QTreeWidgetItem(model, {tr("(none)")});
    }
    auto* traffic = new QTreeWidgetItem(tree_, {tr("Traffic")});
    if (const auto& t = session_->trafficSource()) {
        const auto& h = session_->histogram();
        auto* item = new QTreeWidgetItem(
            traffic, {QString::fromStdString(t->name.empty() ? t->source : t->name),
                      tr("%1 requests, lengths %2–%3")
                          .arg(locale.toString(qlonglong(h.total())))
                          .arg(h.minLength())
                          .arg(h.maxLength())});
        item->setToolTip(0, QString::fromStdString(t->source));
    } else {
        new QTreeWidgetItem(traffic, {tr("(none)")});
    }
    auto* latency = new QTreeWidgetItem(tree_, {tr("Latency")});
    if (const auto& l = session_->latencySource()) {
        auto* item = new QTreeWidgetItem(
            latency, {QString::fromStdString(l->name.empty() ? l->source : l->name),
                      QString::fromStdString(session_->latency().describe())});
        item->setToolTip(0, QString::fromStdString(l->source));
    } else {
        new QTreeWidgetItem(latency, {tr("(none)")});
    }
    auto* profiles = new QTreeWidgetItem(tree_, {tr("Profiles")});
    for (const auto& p : session_->profiles())
        (new QTreeWidgetItem(profiles, {QFileInfo(p.path).fileName(),
                                        tr("%n point(s)", nullptr, int(p.profile.points.size()))}))
            ->setToolTip(0, p.path);
    if (session_->profiles().empty())
        new QTreeWidgetItem(profiles, {tr("(none)")});
    auto* sets = new QTreeWidgetItem(tree_, {tr("Boundary sets")});
    for (size_t i = 0; i < session_->boundarySets().size(); ++i) {
        auto* item = new QTreeWidgetItem(sets);
        setSetItemText(item, *session_, int(i), palette());
        item->setData(0, kSetIndexRole, int(i));
        item->setToolTip(0, tr("%1\nClick to show and edit this set in the Buckets view")
                                .arg(session_->setTitle(int(i))));
        if (int(i) == session_->activeIndex()) {
            QFont f = item->font(0);
            f.setBold(true);
            item->setFont(0, f);
            item->setFont(1, f);
        }
    }
    // The dock is narrow: Details are cut with "…" and said whole in their tooltips (the
    // sets' rows keep theirs up to date as they are edited).
    for (QTreeWidgetItemIterator it(tree_); *it; ++it)
        if (!(*it)->text(1).isEmpty())
            (*it)->setToolTip(1, (*it)->text(1));
    tree_->expandAll();
    fitColumns();
}

void ProjectPanel::refreshActiveSet()
{
    const int active = session_->activeIndex();
    const BoundarySet* set = session_->activeSet();
    if (!set)
        return;
    for (QTreeWidgetItemIterator it(tree_); *it; ++it) {
        const QVariant index = (*it)->data(0, kSetIndexRole);
        if (index.isValid() && index.toInt() == active) {
            setSetItemText(*it, *session_, active, palette());
            return;
        }
    }
}

void ProjectPanel::fitColumns()
{
    // Names as wide as they need, up to 60 % of the dock; Details get the rest (elided, whole
    // in their tooltips).
    const int room = tree_->viewport()->width();
    tree_->resizeColumnToContents(0);
    tree_->setColumnWidth(
        0, std::clamp(tree_->columnWidth(0), std::min(110, room), std::max(110, room * 3 / 5)));
}

void ProjectPanel::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    fitColumns();
}

void ProjectPanel::changeEvent(QEvent* event)
{
    // The sets' swatches have light and dark variants (ui/palette.h).
    if (event->type() == QEvent::PaletteChange && tree_)
        rebuild();
    QWidget::changeEvent(event);
}

} // namespace bucketlab::ui
