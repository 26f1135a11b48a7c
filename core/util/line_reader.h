// Reads a text file (or a memory buffer) line by line in constant memory: 1 MiB chunks,
// lines handed out as views into the buffer. The distribution readers use it so a 10^8-line
// traffic file streams through without being loaded, and so the benchmarks time the same
// code on a memory buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

// Opens `path` for reading as LineReader does (missing file, directory and a FIFO nobody
// writes to within 10 s are Errors naming the path) and returns the descriptor, which the
// caller closes; `size` is the file's size, 0 for streams.
int openInputFile(const std::string& path, uint64_t& size);

class LineReader {
public:
    // Throws Error when the file is missing, a directory, or unreadable. FIFOs and other
    // streams work (their size is unknown: sizeHint() is 0); a FIFO that nothing writes to
    // within 10 s is an Error. A line longer than 16 MiB is an Error naming the file and line.
    static LineReader openFile(const std::string& path);
    static LineReader fromMemory(std::string_view text, std::string name);

    LineReader(LineReader&& other) noexcept;
    LineReader& operator=(LineReader&&) = delete;
    LineReader(const LineReader&) = delete;
    ~LineReader();

    // The next line without its "\n" or "\r\n" (a UTF-8 byte-order mark before the first
    // line is dropped). The view stays valid until the next call. False at the end.
    bool next(std::string_view& line);
    // The first line that is not blank (a header, say); Error "NAME: empty file" when there
    // is none.
    std::string_view firstNonBlankLine();
    // A run of whole lines, at most about 1 MiB, ending with its "\n" (the file's last line
    // may lack one), for parsers that scan bytes themselves; they count its lines. Do not
    // mix with next() except to read a header first. False at the end.
    bool nextBlock(std::string_view& block);
    int64_t lineNumber() const { return lineNumber_; }
    const std::string& name() const { return name_; }
    uint64_t bytesConsumed() const { return consumed_; }
    uint64_t sizeHint() const { return size_; }

private:
    LineReader() = default;
    bool fill();

    std::string name_;
    int fd_ = -1;
    std::vector<char> buffer_;
    size_t begin_ = 0, end_ = 0; // unread bytes in buffer_ (file mode)
    std::string_view memory_;    // memory mode
    bool memoryMode_ = false;
    bool eof_ = false;
    bool first_ = true;
    int64_t lineNumber_ = 0;
    uint64_t consumed_ = 0;
    uint64_t size_ = 0;
};

} // namespace bucketlab
