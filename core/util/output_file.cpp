#include "core/util/output_file.h"

#include "core/util/error.h"
#include "core/util/line_reader.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bucketlab {
namespace {

std::string parentDir(const std::string& path)
{
    fs::path p = fs::absolute(fs::path(path)).parent_path();
    return p.empty() ? std::string(".") : p.string();
}

std::string errnoText()
{
    return std::strerror(errno);
}

void writeAll(int fd, const std::string& bytes, const std::string& path)
{
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error(path + ": write failed (" + errnoText() + ")");
        }
        done += size_t(n);
    }
    if (::fsync(fd) != 0)
        throw Error(path + ": cannot flush to disk (" + errnoText() + ")");
}

std::string uniqueSibling(const std::string& path)
{
    std::random_device rd;
    std::ostringstream s;
    const fs::path p(path);
    s << (p.parent_path().empty() ? std::string() : p.parent_path().string() + "/") << "."
      << p.filename().string() << ".bucketlab-" << std::hex << rd() << rd();
    return s.str();
}

} // namespace

bool sameFile(const std::string& a, const std::string& b)
{
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec))
        return fs::equivalent(a, b, ec);
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

void checkOutputPath(const std::string& path, const OutputCheck& check, Field field)
{
    const std::string what = subject(field);
    if (path.empty())
        throw Error(what + " is empty: give the file to write");
    for (const auto& in : check.inputs)
        if (!in.empty() && sameFile(path, in))
            throw Error(what + " " + path + " is also an input file; choose another output path");
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status))
        throw Error(what + " " + path + " is a directory; give a file name");
    if (fs::exists(status) && !check.force)
        throw Error(what + " " + path + " already exists (" + subject(Field::Replace) +
                    " replaces it)");
    const std::string dir = parentDir(path);
    if (!fs::is_directory(dir, ec))
        throw Error(what + " " + path + ": directory " + dir + " does not exist");
    // Try it rather than trusting access(2): root passes access() everywhere, and some file
    // systems (/proc, read-only mounts) refuse new files whatever the mode bits say.
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        const std::string probe = uniqueSibling((fs::path(dir) / "probe").string());
        fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            ::unlink(probe.c_str());
    }
    if (fd < 0)
        throw Error(what + " " + path + ": directory " + dir + " is not writable (" + errnoText() +
                    ")");
    ::close(fd);
}

void writeFileAtomically(const std::string& path, const std::string& bytes, bool replace)
{
    const std::string dir = parentDir(path);
    // An O_TMPFILE file has no name until linkat gives it one, so a crash or kill at any
    // point before that leaves nothing in the directory.
    int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
        try {
            writeAll(fd, bytes, path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        const std::string procPath = "/proc/self/fd/" + std::to_string(fd);
        const std::string linkName = replace ? uniqueSibling(path) : path;
        const int rc =
            ::linkat(AT_FDCWD, procPath.c_str(), AT_FDCWD, linkName.c_str(), AT_SYMLINK_FOLLOW);
        const int linkErr = errno;
        ::close(fd);
        if (rc != 0) {
            if (linkErr == EEXIST)
                throw Error(path + " already exists (" + subject(Field::Replace) + " replaces it)");
            if (linkErr != ENOENT && linkErr != EPERM && linkErr != EXDEV)
                throw Error(path + ": cannot create file (" + std::strerror(linkErr) + ")");
            // /proc unavailable: fall through to the named temporary file below.
        } else {
            if (replace && ::rename(linkName.c_str(), path.c_str()) != 0) {
                const std::string err = errnoText();
                ::unlink(linkName.c_str());
                throw Error(path + ": cannot replace file (" + err + ")");
            }
            return;
        }
    }
    // Fallback for file systems without O_TMPFILE: a hidden sibling renamed into place.
    const std::string tmp = uniqueSibling(path);
    fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path + ": cannot create file (" + errnoText() + ")");
    try {
        writeAll(fd, bytes, path);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (!replace && fs::exists(path)) {
        ::unlink(tmp.c_str());
        throw Error(path + " already exists (" + subject(Field::Replace) + " replaces it)");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string err = errnoText();
        ::unlink(tmp.c_str());
        throw Error(path + ": cannot create file (" + err + ")");
    }
}

StagedOutput::StagedOutput(std::string path, const std::string& bytes) : path_(std::move(path))
{
    const std::string dir = parentDir(path_);
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ >= 0) {
        readPath_ = "/proc/self/fd/" + std::to_string(fd_);
        if (::access(readPath_.c_str(), R_OK) != 0) { // /proc not mounted: cannot link it later
            ::close(fd_);
            fd_ = -1;
        }
    }
    if (fd_ < 0) {
        tmpName_ = uniqueSibling(path_);
        fd_ = ::open(tmpName_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw Error(path_ + ": cannot create file (" + errnoText() + ")");
        readPath_ = tmpName_;
    }
    try {
        writeAll(fd_, bytes, path_);
    } catch (...) {
        ::close(fd_);
        if (!tmpName_.empty())
            ::unlink(tmpName_.c_str());
        throw;
    }
}

StagedOutput::~StagedOutput()
{
    if (fd_ >= 0)
        ::close(fd_);
    if (!committed_ && !tmpName_.empty())
        ::unlink(tmpName_.c_str());
}

void StagedOutput::commit(bool replace)
{
    if (committed_)
        return;
    if (!tmpName_.empty()) {
        if (!replace && fs::exists(path_))
            throw Error(path_ + " already exists (" + subject(Field::Replace) + " replaces it)");
        if (::rename(tmpName_.c_str(), path_.c_str()) != 0)
            throw Error(path_ + ": cannot create file (" + errnoText() + ")");
        committed_ = true;
        return;
    }
    const std::string linkName = replace ? uniqueSibling(path_) : path_;
    if (::linkat(AT_FDCWD, readPath_.c_str(), AT_FDCWD, linkName.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        if (errno == EEXIST)
            throw Error(path_ + " already exists (" + subject(Field::Replace) + " replaces it)");
        throw Error(path_ + ": cannot create file (" + errnoText() + ")");
    }
    if (replace && ::rename(linkName.c_str(), path_.c_str()) != 0) {
        const std::string err = errnoText();
        ::unlink(linkName.c_str());
        throw Error(path_ + ": cannot replace file (" + err + ")");
    }
    committed_ = true;
}

std::string readFile(const std::string& path, uint64_t maxBytes, const char* what)
{
    uint64_t size = 0;
    const int fd = openInputFile(path, size); // a FIFO without a writer is an error
    const auto tooLarge = [&] {
        ::close(fd);
        return Error(path + ": more than " + std::to_string(maxBytes >> 20) + " MiB; " + what +
                     " is not that large");
    };
    if (size > maxBytes)
        throw tooLarge();
    std::string out;
    out.reserve(size_t(size));
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const std::string err = errnoText();
            ::close(fd);
            throw Error(path + ": cannot read (" + err + ")");
        }
        if (n == 0)
            break;
        if (out.size() + size_t(n) > maxBytes) // streams (/dev/zero) stop here
            throw tooLarge();
        out.append(buffer, size_t(n));
    }
    ::close(fd);
    return out;
}

} // namespace bucketlab
