// Shared helpers for the test suites: temporary directories, running bucketlab-cli and
// Python (Debian's python3-torch) as separate processes, and reading files.
#pragma once

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QTest>

#include <string>

namespace bucketlab::test {

struct ProcessResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    bool finished = false;
};

inline ProcessResult runProcess(const QString& program, const QStringList& args,
                                int timeoutMs = 300000, const QString& workDir = {})
{
    QProcess p;
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForStarted(10000))
        return r;
    r.finished = p.waitForFinished(timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

inline ProcessResult runCli(const QStringList& args, int timeoutMs = 300000)
{
    return runProcess(QStringLiteral(BUCKETLAB_CLI), args, timeoutMs);
}

// Runs a Python script (text) with Debian's python3 and python3-torch. The script goes
// to a real file: torch.jit.script reads class sources through inspect, which needs one.
inline ProcessResult runPython(const QString& script, const QStringList& args = {},
                               int timeoutMs = 300000)
{
    QTemporaryFile file(QDir::tempPath() + "/bucketlab_test_XXXXXX.py");
    if (!file.open())
        return {};
    file.write(script.toUtf8());
    file.flush();
    return runProcess(QStringLiteral(BUCKETLAB_PYTHON), QStringList{file.fileName()} + args,
                      timeoutMs);
}

inline QString dataPath(const QString& name)
{
    return QStringLiteral(BUCKETLAB_TEST_DATA) + "/" + name;
}

inline QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

inline bool writeAll(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(bytes) == bytes.size();
}

inline std::string s(const QString& q)
{
    return q.toStdString();
}

} // namespace bucketlab::test
