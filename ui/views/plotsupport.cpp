#include "ui/views/plotsupport.h"

#include "ui/views/plot.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QPageSize>
#include <QPalette>
#include <QPdfWriter>
#include <QPointer>
#include <QSaveFile>
#include <QSvgGenerator>

namespace bucketlab::ui {

void setLengthAxisLog(QCPAxis* axis, bool log)
{
    if (log) {
        QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
        ticker->setLogBase(2);
        ticker->setSubTickCount(1);
        axis->setScaleType(QCPAxis::stLogarithmic);
        axis->setTicker(ticker);
        axis->setNumberFormat("f");
        axis->setNumberPrecision(0);
    } else {
        axis->setScaleType(QCPAxis::stLinear);
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        axis->setNumberFormat("gbd");
        axis->setNumberPrecision(6);
    }
}

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
    if (suffix != "png" && suffix != "pdf" && suffix != "svg")
        return QObject::tr("%1: unknown plot format '%2' (use .png, .pdf or .svg)")
            .arg(path, suffix);
    const int w = width > 0 ? width : plot->width();
    const int h = height > 0 ? height : plot->height();
    // QSaveFile writes beside the target and renames over it on commit: a reader never sees
    // half a plot, and a failed export leaves the old file as it was.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return QObject::tr("%1: cannot write the plot (%2)").arg(path, file.errorString());
    bool ok = false;
    if (suffix == "png") {
        // Twice the pixels: sharp on high-density screens and in slides.
        ok = plot->toPixmap(w, h, 2.0).save(&file, "PNG");
    } else if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
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
        // One point per pixel, no margins: the page is the plot.
        QPdfWriter pdf(&file);
        pdf.setResolution(72);
        pdf.setPageSize(
            QPageSize(QSizeF(w, h), QPageSize::Point, QString(), QPageSize::ExactMatch));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setTitle(plot->objectName());
        pdf.setCreator(QStringLiteral("BucketLab"));
        QCPPainter painter;
        ok = painter.begin(&pdf);
        if (ok) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    }
    if (!ok) {
        file.cancelWriting();
        return QObject::tr("%1: could not render the plot").arg(path);
    }
    if (!file.commit())
        return QObject::tr("%1: cannot write the plot (%2)").arg(path, file.errorString());
    return {};
}

void showPlotExportDialog(QCustomPlot* plot)
{
    // Window-modal and asynchronous (open(), not exec()): no nested event loop.
    auto* dialog = new QFileDialog(plot->window(), QObject::tr("Export plot"));
    dialog->setObjectName("exportPlotDialog");
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setNameFilters({QObject::tr("PNG image (*.png)"), QObject::tr("PDF document (*.pdf)"),
                            QObject::tr("SVG drawing (*.svg)")});
    dialog->setDefaultSuffix("png");
    dialog->selectFile(plot->objectName() + ".png");
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QPointer<QCustomPlot> target(plot);
    QObject::connect(dialog, &QFileDialog::filterSelected, dialog, [dialog](const QString& f) {
        dialog->setDefaultSuffix(f.contains("pdf") ? "pdf" : f.contains("svg") ? "svg" : "png");
    });
    QObject::connect(dialog, &QFileDialog::fileSelected, dialog, [target](const QString& path) {
        if (!target)
            return;
        const QString error = exportPlot(target, path);
        if (error.isEmpty())
            return;
        auto* box = new QMessageBox(QMessageBox::Warning, QObject::tr("Export plot"), error,
                                    QMessageBox::Ok, target->window());
        box->setObjectName("exportPlotError");
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });
    dialog->open();
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
