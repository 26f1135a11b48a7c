// The project panel: what the session holds (model or package, traffic, latency, profiles,
// boundary sets) as a tree. Clicking a boundary set makes it the active one.
#pragma once

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;

namespace bucketlab::ui {

class Session;

class ProjectPanel : public QWidget {
    Q_OBJECT
public:
    explicit ProjectPanel(Session* session, QWidget* parent = nullptr);
    QTreeWidget* tree() const { return tree_; }

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void fitColumns();
    void rebuild();
    void refreshActiveSet();
    Session* session_;
    QTreeWidget* tree_;
};

} // namespace bucketlab::ui
