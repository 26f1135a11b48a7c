// What every plot in BucketLab shares: colours that follow the system palette (light or
// dark), a colour-blind-safe series palette, export to PNG/PDF/SVG, and a context menu
// offering that export.
#pragma once

#include <QColor>
#include <QString>

class QCustomPlot;
class QWidget;

namespace bucketlab::ui {

// Okabe-Ito qualitative palette, cycled by index; readable on light and dark backgrounds.
QColor seriesColor(int index);

// Applies the application palette to the plot's background, axes, grid and text, so plots
// follow light and dark themes. Call again on QEvent::PaletteChange.
void applyPlotTheme(QCustomPlot* plot);

// Writes the plot to `path`; the format follows the suffix (.png, .pdf, .svg). Returns an
// empty string on success, otherwise a message naming the file.
QString exportPlot(QCustomPlot* plot, const QString& path, int width = 0, int height = 0);

// Asks for a file (PNG/PDF/SVG) and exports the plot; errors are shown in a message box.
void showPlotExportDialog(QCustomPlot* plot);

// Adds "Export plot…" to the plot's context menu (file dialog, PNG/PDF/SVG).
void installPlotExportMenu(QCustomPlot* plot);

} // namespace bucketlab::ui
