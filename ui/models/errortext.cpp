#include "ui/models/errortext.h"

#include <QCoreApplication>

namespace bucketlab::ui {

namespace {

QString quoted(const char* label)
{
    return QStringLiteral("“%1”").arg(QCoreApplication::translate("ErrorText", label));
}

} // namespace

QString controlName(Field field)
{
    switch (field) {
    case Field::BucketCount: return quoted("Buckets (K)");
    case Field::ServeUpTo: return quoted("Serve up to");
    case Field::Align: return quoted("Align to");
    case Field::Objective: return quoted("Objective");
    case Field::BucketCost: return quoted("Cost per bucket");
    case Field::Boundaries:
    case Field::TunedBoundaries: return quoted("New boundaries");
    case Field::Output: return quoted("Output");
    case Field::Replace: return quoted("Replace the outputs if they exist");
    case Field::NeuronRecipe: return quoted("Also write the Neuron build recipe to");
    case Field::GridPoints: return quoted("Grid");
    case Field::Budget: return quoted("Budget");
    case Field::Threads: return quoted("Threads");
    case Field::Inputs:
        return QCoreApplication::translate("ErrorText", "the profile's inputs field");
    case Field::CheckLength: return quoted("Lengths up to");
    default: return QString::fromStdString(fieldName(field));
    }
}

QString messageFor(const std::exception& error)
{
    if (const auto* e = dynamic_cast<const Error*>(&error))
        return QString::fromStdString(
            firstLine(e->render([](Field f) { return controlName(f).toStdString(); })));
    return QString::fromStdString(firstLine(error.what()));
}

} // namespace bucketlab::ui
