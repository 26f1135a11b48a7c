// A one-line label that never widens its window: its minimum width is a few characters, and
// text that does not fit is drawn elided ("Saved /home/…/demo-20261201.json") with the whole
// text as its tooltip. text() is always the whole text; selection and copy work while the
// text fits.
#pragma once

#include <QLabel>

namespace bucketlab::ui {

class ElidedLabel : public QLabel {
    Q_OBJECT
public:
    explicit ElidedLabel(QWidget* parent = nullptr, Qt::TextElideMode mode = Qt::ElideRight);

    QSize minimumSizeHint() const override;
    // True when the text is drawn elided at the current width.
    bool isElided() const;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    Qt::TextElideMode mode_;
};

} // namespace bucketlab::ui
