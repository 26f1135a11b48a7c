#include "core/util/line_reader.h"

#include "core/util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bucketlab {

namespace {
constexpr size_t kChunk = size_t(1) << 20;
}

LineReader LineReader::openFile(const std::string& path)
{
    LineReader r;
    r.name_ = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(path + ": " +
                    (errno == ENOENT ? std::string("no such file")
                                     : "cannot open (" + std::string(std::strerror(errno)) + ")"));
    if (S_ISDIR(st.st_mode))
        throw Error(path + ": is a directory, expected a file");
    r.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (r.fd_ < 0)
        throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    r.size_ = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
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

bool LineReader::fill()
{
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == buffer_.size())
        buffer_.resize(buffer_.size() * 2); // a line longer than the buffer
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
