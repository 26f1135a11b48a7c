// Every colour the desktop draws data with, in one place. Where boundary sets are drawn a hue
// means a set: the same set keeps its colour in every view and across edits (current and
// tuned as in the HTML report), and the bucket handles of a set take the set's colour, so
// adding a boundary recolours nothing. Traffic, padding and latency are drawn in neutral
// colours no set uses. Every colour has a light and a dark variant, picked from the widget's
// QPalette, and the hues are Okabe-Ito's (or the report's close to them), which stay apart
// for the common colour-vision deficiencies; sets also differ by dash and carry labels, so
// colour is never the only cue.
#pragma once

#include <QBrush>
#include <QColor>
#include <QString>

#include <string>

class QPalette;

namespace bucketlab {
struct BoundarySet;
}

namespace bucketlab::ui {

// True when the palette's text background (QPalette::Base) is dark.
bool isDarkPalette(const QPalette& palette);

// The colour of a boundary set, by what it is, never by its position in a list: "current"
// (kind or name) and "tuned" (kind, or a name starting with "tuned") as in the report; the
// baselines powers_of_two, equal_mass and uniform a hue each; any other set one of those
// three, fixed by its name.
QColor boundarySetColor(const std::string& name, const std::string& kind, const QPalette& palette);
QColor boundarySetColor(const BoundarySet& set, const QPalette& palette);
// How a baseline set's lines are dashed (the active set's handles are solid).
Qt::PenStyle boundarySetDash(const std::string& name);

// What data (not a set) is drawn with. None of these is a set colour.
enum class DataRole {
    Traffic,      // real tokens or requests: the report's grey-blue
    Padding,      // the padding hatch
    LatencyCurve, // the latency curve (dotted)
    LatencyPaid,  // the latency each bucket pays (solid steps)
    Knee,         // the Pareto knee, as in the report
    Ok,           // a check that passed
    Defect,       // a check that failed
    Rejected,     // past the largest bucket, as it should be
};
QColor dataColor(DataRole role, const QPalette& palette);
// The padding hatch: a diagonal pattern in the padding colour.
QBrush paddingBrush(const QPalette& palette);

// Measured profiles in the Latency view, by their place there (the profile in use, the one
// compared with, the one being measured): the latency colour the Buckets view draws the curve
// in, then the report's knee violet and its ochre, so no profile looks like a boundary set.
QColor profileColor(int index, const QPalette& palette);

// Okabe-Ito qualitative colours for other series (graph node tints), cycled by index; lighter
// variants on a dark palette.
QColor seriesColor(int index, const QPalette& palette);
// The light-palette variant (graph node tints mix it with the base colour themselves).
QColor seriesColor(int index);

// WCAG 2 contrast ratio of two colours (1 to 21): 3 is the minimum for graphics.
double contrastRatio(const QColor& a, const QColor& b);

} // namespace bucketlab::ui
