// Core result types carried in QVariant between a background job and the UI thread.
#pragma once

#include "core/tuning/refine.h"
#include "core/tuning/tuning_report.h"

#include <QMetaType>

#include <memory>

Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::TuningReport>)
Q_DECLARE_METATYPE(std::shared_ptr<bucketlab::RefineResult>)
