#include "ui/models/palette.h"

#include "core/project/project.h"

#include <QHash>
#include <QPalette>

#include <cmath>

namespace bucketlab::ui {

namespace {

struct Pair {
    QRgb light, dark;
};

QColor pick(const Pair& p, const QPalette& palette)
{
    return QColor::fromRgb(isDarkPalette(palette) ? p.dark : p.light);
}

// current and tuned are the report's --current and --tuned (core/report/html_report.cpp), so
// a screenshot of the desktop and the report agree. The baselines are Okabe-Ito's bluish
// green, reddish purple and sky blue, darkened on light backgrounds and lightened on dark ones
// for a contrast of 4.5 (WCAG, text: the sets' labels are written in these colours).
// Simulated protanopia, deuteranopia and tritanopia (Machado 2009, full severity) keep every
// pair of the five at a CIE76 distance of 9 or more (tests/ui/tst_plotcolours.cpp checks).
constexpr Pair kCurrent{0xc4520f, 0xf59a5b};
constexpr Pair kTuned{0x1f62d1, 0x77a9ff};
constexpr Pair kPowersOfTwo{0x007f5f, 0x2ec4a0};
constexpr Pair kEqualMass{0xb04a8a, 0xe58fc4};
constexpr Pair kUniform{0x2b7bb5, 0x8fd3ff};

// Data colours: neutrals (no hue a set uses) and the report's knee and check colours.
constexpr Pair kTraffic{0x98a6bb, 0x75839a}; // report --traffic
constexpr Pair kPadding{0x4a5160, 0x787c88};
constexpr Pair kLatency{0x1b2130, 0xe4e8ef}; // report --fg
constexpr Pair kKnee{0x7c3aed, 0xb794f6};    // report --knee
constexpr Pair kOk{0x11773a, 0x5fd38d};      // report --good
constexpr Pair kDefect{0xb42318, 0xff8a80};  // report --bad
constexpr Pair kRejected{0x9aa1ad, 0x6b7384};

constexpr Pair kSeries[] = {{0x0072b2, 0x56b4e9}, {0xe69f00, 0xf0b833}, {0x009e73, 0x2ec4a0},
                            {0xcc79a7, 0xe58fc4}, {0x56b4e9, 0x8fd3ff}, {0xd55e00, 0xf08a4b},
                            {0xb8a800, 0xf0e442}};

double relativeLuminance(const QColor& c)
{
    auto channel = [](double v) {
        return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

} // namespace

bool isDarkPalette(const QPalette& palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QColor boundarySetColor(const std::string& name, const std::string& kind, const QPalette& palette)
{
    if (kind == "current" || name == "current")
        return pick(kCurrent, palette);
    if (kind == "tuned" || name.rfind("tuned", 0) == 0)
        return pick(kTuned, palette);
    if (name == "powers_of_two")
        return pick(kPowersOfTwo, palette);
    if (name == "equal_mass")
        return pick(kEqualMass, palette);
    if (name == "uniform")
        return pick(kUniform, palette);
    // Any other set (the user's, a package's): one of the baseline hues, fixed by its name
    // (qHash with a fixed seed is the same in every run), never by where it sits in a list.
    static const Pair others[] = {kPowersOfTwo, kEqualMass, kUniform};
    return pick(others[qHash(QString::fromStdString(name), 0) % 3], palette);
}

QColor boundarySetColor(const BoundarySet& set, const QPalette& palette)
{
    return boundarySetColor(set.name, set.kind, palette);
}

Qt::PenStyle boundarySetDash(const std::string& name)
{
    if (name == "current")
        return Qt::DashLine; // as the report draws the current set
    if (name == "powers_of_two")
        return Qt::DotLine;
    if (name == "equal_mass")
        return Qt::DashDotLine;
    if (name == "uniform")
        return Qt::DashDotDotLine;
    return Qt::DashLine;
}

QColor dataColor(DataRole role, const QPalette& palette)
{
    switch (role) {
    case DataRole::Traffic: return pick(kTraffic, palette);
    case DataRole::Padding: return pick(kPadding, palette);
    case DataRole::LatencyCurve:
    case DataRole::LatencyPaid: return pick(kLatency, palette);
    case DataRole::Knee: return pick(kKnee, palette);
    case DataRole::Ok: return pick(kOk, palette);
    case DataRole::Defect: return pick(kDefect, palette);
    case DataRole::Rejected: return pick(kRejected, palette);
    }
    return pick(kLatency, palette);
}

QBrush paddingBrush(const QPalette& palette)
{
    QColor c = dataColor(DataRole::Padding, palette);
    c.setAlpha(190);
    return QBrush(c, Qt::BDiagPattern);
}

QColor profileColor(int index, const QPalette& palette)
{
    static constexpr Pair profiles[] = {kLatency, kKnee, {0x8a6d00, 0xe8c46a}}; // report --none
    return pick(profiles[((index % 3) + 3) % 3], palette);
}

QColor seriesColor(int index, const QPalette& palette)
{
    constexpr int n = int(sizeof(kSeries) / sizeof(kSeries[0]));
    return pick(kSeries[((index % n) + n) % n], palette);
}

QColor seriesColor(int index)
{
    constexpr int n = int(sizeof(kSeries) / sizeof(kSeries[0]));
    return QColor::fromRgb(kSeries[((index % n) + n) % n].light);
}

double contrastRatio(const QColor& a, const QColor& b)
{
    double la = relativeLuminance(a), lb = relativeLuminance(b);
    if (la < lb)
        std::swap(la, lb);
    return (la + 0.05) / (lb + 0.05);
}

} // namespace bucketlab::ui
