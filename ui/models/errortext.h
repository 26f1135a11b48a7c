// Core errors as the desktop shows them. A core message marks the values it is about
// (core/util/error.h); the CLI names them by their options (--force), the desktop by the
// control that sets them ("Replace the outputs if they exist"), so no GUI message tells the
// user to pass a flag there is no place to type.
#pragma once

#include "core/util/error.h"

#include <QString>

#include <exception>

namespace bucketlab::ui {

// The desktop's name for a field: its control's label in quotes where one sets it, else the
// core's words ("the inputs").
QString controlName(Field field);

// The one-line message of `error` for a GUI, fields named by controlName().
QString messageFor(const std::exception& error);

} // namespace bucketlab::ui
