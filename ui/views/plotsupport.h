// What every plot in BucketLab shares: axes and text that follow the system palette (light
// or dark; the data colours are ui/palette.h), export to PNG/PDF/SVG, and a context menu
// offering that export.
#pragma once

#include "ui/models/palette.h"

#include <QString>

class QCPAxis;
class QCustomPlot;
class QPalette;
class QWidget;

namespace bucketlab::ui {

// Applies `palette` (the view's: on QEvent::PaletteChange a parent hears of the change before
// its children's palettes follow) to the plot's background, axes, grid and text, so plots
// follow light and dark themes. Call again on QEvent::PaletteChange.
void applyPlotTheme(QCustomPlot* plot, const QPalette& palette);

// Writes the plot to `path` atomically (QSaveFile: all of it or, on failure, the old file
// untouched); the format follows the suffix (.png at twice the size, .pdf, .svg). Width and
// height 0: the plot's on-screen size. Returns an empty string on success, otherwise a
// message naming the file.
QString exportPlot(QCustomPlot* plot, const QString& path, int width = 0, int height = 0);

// Asks for a file (PNG/PDF/SVG) in a window-modal dialog ("exportPlotDialog", no nested event
// loop) and exports the plot; errors are shown in a message box ("exportPlotError").
void showPlotExportDialog(QCustomPlot* plot);

// A length axis on a log scale with base-2 ticks (powers of two: the lengths buckets are
// usually compiled for, and a label every octave where base 10 left none between 10 and
// 100), or back to a linear one.
void setLengthAxisLog(QCPAxis* axis, bool log);

// Adds "Export plot…" to the plot's context menu (file dialog, PNG/PDF/SVG).
void installPlotExportMenu(QCustomPlot* plot);

} // namespace bucketlab::ui
