#include "core/util/line_reader.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bucketlab {

namespace {
constexpr size_t kChunk = size_t(1) << 20;
// No text input BucketLab reads has lines anywhere near this long; a stream without line ends
// (/dev/zero, a binary file) stops here instead of taking the machine's memory.
constexpr size_t kMaxLine = size_t(16) << 20;
constexpr int kFifoWaitMs = 10000;
} // namespace

int openInputFile(const std::string& path, uint64_t& size)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(path + ": " +
                    (errno == ENOENT ? std::string("no such file")
                                     : "cannot open (" + std::string(std::strerror(errno)) + ")"));
    if (S_ISDIR(st.st_mode))
        throw Error(path + ": is a directory, expected a file");
    // Non-blocking open, then a bounded wait for a FIFO's writer: a FIFO nobody writes to
    // is an error, not a command that waits forever.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    if (S_ISFIFO(st.st_mode)) {
        pollfd p{fd, POLLIN, 0};
        int n;
        do
            n = ::poll(&p, 1, kFifoWaitMs);
        while (n < 0 && errno == EINTR);
        if (n == 0) {
            ::close(fd);
            throw Error(path + ": a FIFO that nothing wrote to within " +
                        std::to_string(kFifoWaitMs / 1000) + " s");
        }
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    size = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
    return fd;
}

LineReader LineReader::openFile(const std::string& path)
{
    LineReader r;
    r.name_ = path;
    r.fd_ = openInputFile(path, r.size_);
    r.buffer_.resize(kChunk);
    return r;
}

LineReader LineReader::fromMemory(std::string_view text, std::string name)
{
    LineReader r;
    r.name_ = std::move(name);
    r.memory_ = text;
    r.memoryMode_ = true;
    r.size_ = text.size();
    return r;
}

LineReader::LineReader(LineReader&& o) noexcept
    : name_(std::move(o.name_)), fd_(o.fd_), buffer_(std::move(o.buffer_)), begin_(o.begin_),
      end_(o.end_), memory_(o.memory_), memoryMode_(o.memoryMode_), eof_(o.eof_), first_(o.first_),
      lineNumber_(o.lineNumber_), consumed_(o.consumed_), size_(o.size_)
{
    o.fd_ = -1;
}

LineReader::~LineReader()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::string_view LineReader::firstNonBlankLine()
{
    std::string_view line;
    while (next(line))
        if (!trimBlanks(line).empty())
            return line;
    throw Error(name_ + ": empty file");
}

bool LineReader::fill()
{
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == buffer_.size()) {
        if (buffer_.size() >= kMaxLine)
            throw Error(name_ + ":" + std::to_string(lineNumber_ + 1) +
                        ": a line longer than 16 MiB; expected a text file with one record "
                        "per line");
        buffer_.resize(buffer_.size() * 2); // a line longer than the buffer
    }
    for (;;) {
        const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error(name_ + ": read failed (" + std::strerror(errno) + ")");
        if (n == 0) {
            eof_ = true;
            return false;
        }
        end_ += size_t(n);
        return true;
    }
}

bool LineReader::nextBlock(std::string_view& block)
{
    if (memoryMode_) {
        if (memory_.empty())
            return false;
        size_t len = memory_.size();
        if (len > kChunk) {
            const size_t nl = memory_.rfind('\n', kChunk);
            len = nl == std::string_view::npos ? memory_.find('\n') : nl;
            len = len == std::string_view::npos ? memory_.size() : len + 1;
        }
        block = memory_.substr(0, len);
        memory_.remove_prefix(len);
        consumed_ += len;
        first_ = false;
        return true;
    }
    for (;;) {
        const char* start = buffer_.data() + begin_;
        const void* last = begin_ < end_ ? ::memrchr(start, '\n', end_ - begin_) : nullptr;
        if (last) {
            const size_t len = size_t(static_cast<const char*>(last) - start) + 1;
            block = std::string_view(start, len);
            begin_ += len;
            consumed_ += len;
            first_ = false;
            return true;
        }
        if (eof_ || !fill()) {
            if (begin_ == end_)
                return false;
            block = std::string_view(buffer_.data() + begin_, end_ - begin_);
            consumed_ += end_ - begin_;
            begin_ = end_;
            first_ = false;
            return true;
        }
    }
}

bool LineReader::next(std::string_view& line)
{
    if (memoryMode_) {
        if (memory_.empty())
            return false;
        const void* nl = std::memchr(memory_.data(), '\n', memory_.size());
        const size_t len =
            nl ? size_t(static_cast<const char*>(nl) - memory_.data()) : memory_.size();
        line = memory_.substr(0, len);
        const size_t used = nl ? len + 1 : len;
        memory_.remove_prefix(used);
        consumed_ += used;
    } else {
        for (;;) {
            const char* start = buffer_.data() + begin_;
            const void* nl = std::memchr(start, '\n', end_ - begin_);
            if (nl) {
                const size_t len = size_t(static_cast<const char*>(nl) - start);
                line = std::string_view(start, len);
                begin_ += len + 1;
                consumed_ += len + 1;
                break;
            }
            if (eof_ || !fill()) {
                if (begin_ == end_)
                    return false;
                line = std::string_view(buffer_.data() + begin_, end_ - begin_);
                consumed_ += end_ - begin_;
                begin_ = end_;
                break;
            }
        }
    }
    ++lineNumber_;
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (first_) {
        first_ = false;
        if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF")
            line.remove_prefix(3);
    }
    return true;
}

} // namespace bucketlab
