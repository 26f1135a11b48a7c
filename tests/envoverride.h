// Sets (or, with a null value, unsets) an environment variable for the rest of a test and
// restores it when the test leaves, pass or fail.
#pragma once

#include <QByteArray>
#include <QtGlobal>

struct EnvOverride {
    QByteArray name, old;
    bool had;
    EnvOverride(const char* n, const QByteArray& value)
        : name(n), old(qgetenv(n)), had(qEnvironmentVariableIsSet(n))
    {
        if (value.isNull())
            qunsetenv(n);
        else
            qputenv(n, value);
    }
    ~EnvOverride()
    {
        if (had)
            qputenv(name.constData(), old);
        else
            qunsetenv(name.constData());
    }
};
