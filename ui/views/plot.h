// The one place QCustomPlot is included from. Its header uses Qt's keyword macros
// (`signals`, `slots`, `foreach`), which this project switches off with QT_NO_KEYWORDS
// because LibTorch uses `slots` as an identifier; they are defined here for that header
// only, and removed again.
#pragma once

#include <QtGlobal>

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef foreach
