#include "ui/plotsupport.h"

#include "ui/plot.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QPalette>
#include <QSvgGenerator>

namespace bucketlab::ui {

void applyPlotTheme(QCustomPlot* plot, const QPalette& pal)
{
    const QColor bg = pal.color(QPalette::Base);
    const QColor fg = pal.color(QPalette::Text);
    QColor grid = fg;
    grid.setAlpha(45);
    plot->setBackground(bg);
    for (QCPAxis* axis : plot->axisRect()->axes()) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
        axis->grid()->setZeroLinePen(Qt::NoPen);
    }
    if (plot->legend) {
        plot->legend->setBrush(QBrush(bg));
        plot->legend->setTextColor(fg);
        plot->legend->setBorderPen(QPen(grid));
    }
}

QString exportPlot(QCustomPlot* plot, const QString& path, int width, int height)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == "png")
        ok = plot->savePng(path, width, height, 2.0);
    else if (suffix == "pdf")
        ok = plot->savePdf(path, width, height);
    else if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setFileName(path);
        const int w = width > 0 ? width : plot->width();
        const int h = height > 0 ? height : plot->height();
        svg.setSize(QSize(w, h));
        svg.setViewBox(QRect(0, 0, w, h));
        svg.setTitle(plot->objectName());
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    } else {
        return QObject::tr("%1: unknown plot format '%2' (use .png, .pdf or .svg)")
            .arg(path, suffix);
    }
    return ok ? QString() : QObject::tr("%1: could not write the plot").arg(path);
}

void showPlotExportDialog(QCustomPlot* plot)
{
    const QString path = QFileDialog::getSaveFileName(
        plot, QObject::tr("Export plot"), plot->objectName() + ".png",
        QObject::tr("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)"));
    if (path.isEmpty())
        return;
    const QString error = exportPlot(plot, path);
    if (!error.isEmpty())
        QMessageBox::warning(plot, QObject::tr("Export plot"), error);
}

void installPlotExportMenu(QCustomPlot* plot)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint& pos) {
        QMenu menu(plot);
        menu.addAction(QObject::tr("Export plot…"), plot, [plot] { showPlotExportDialog(plot); });
        menu.exec(plot->mapToGlobal(pos));
    });
}

} // namespace bucketlab::ui
