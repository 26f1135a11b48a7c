// A bounded reader for zip archives, the container of TorchScript models and BucketLab
// packages (torch.jit.save writes a zip, with ZIP64 records). Plain C++ and zlib: opening an
// archive reads its central directory only (a few kilobytes, however large the weights), and
// a record is read only when asked for, whole, with its CRC-32 checked.
//
// Hostile files are expected. The reader never reads outside the file, refuses anything
// above its limits before allocating for it, inflates a deflated record with a cap (the
// record's declared size), and refuses record names that could leave the archive (absolute,
// `..`) as well as duplicate names. Every error is a bucketlab::Error of one line,
// "FILE: what is wrong (record NAME)", with names quoted safely (core/util/text.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bucketlab {

// What the reader accepts. The defaults are far above what torch.jit.save writes for any
// model (a few hundred records, pickles and code of a few megabytes; weights are never read
// into memory) and low enough that a hostile archive costs little memory.
struct ZipLimits {
    static constexpr uint64_t kMiB = uint64_t(1) << 20;
    uint64_t maxRecordBytes = 64 * kMiB;    // one record read into memory (uncompressed)
    uint64_t maxEntries = 200000;           // records in the central directory
    uint64_t maxDirectoryBytes = 64 * kMiB; // the central directory itself
    uint32_t maxNameBytes = 4096;           // one record name
};

struct ZipEntry {
    std::string name;            // as stored (bytes; TorchScript names are ASCII)
    uint64_t size = 0;           // uncompressed
    uint64_t compressedSize = 0; // bytes in the file
    uint64_t localHeaderOffset = 0;
    uint32_t crc32 = 0;
    uint16_t method = 0; // 0 stored, 8 deflated
    uint16_t flags = 0;
};

class ZipReader {
public:
    // Opens `path` and reads its index. Throws Error when the file is missing or unreadable,
    // not a zip, truncated, or outside the limits.
    explicit ZipReader(const std::string& path, ZipLimits limits = {});
    // The same over bytes in memory; `name` stands for the file in errors.
    static ZipReader fromBytes(std::string bytes, const std::string& name, ZipLimits limits = {});

    ZipReader(ZipReader&&) noexcept;
    ZipReader& operator=(ZipReader&&) noexcept;
    ~ZipReader();

    const std::string& path() const { return path_; }
    uint64_t fileBytes() const { return fileBytes_; }
    const ZipLimits& limits() const { return limits_; }
    // Records in central-directory order.
    const std::vector<ZipEntry>& entries() const { return entries_; }
    // The record named exactly `name`, or null.
    const ZipEntry* find(const std::string& name) const;

    // The record's bytes, CRC-checked. Throws Error for a record above the record limit, an
    // unsupported compression method, data outside the file, a deflate stream that is
    // corrupt or inflates to another size than declared, or a CRC mismatch.
    std::string read(const ZipEntry& entry) const;
    // The same by name; throws Error when there is no such record.
    std::string read(const std::string& name) const;

private:
    class Source;
    ZipReader(std::unique_ptr<Source> source, const std::string& path, ZipLimits limits);
    void readIndex();
    [[noreturn]] void fail(const std::string& what) const;
    [[noreturn]] void fail(const std::string& what, const ZipEntry& entry) const;
    void readAt(uint64_t offset, void* out, uint64_t size, const ZipEntry* entry) const;
    std::string inflateRecord(const ZipEntry& entry, uint64_t offset) const;

    std::unique_ptr<Source> source_;
    std::string path_;
    ZipLimits limits_;
    uint64_t fileBytes_ = 0;
    uint64_t directoryOffset_ = 0; // record data ends before the central directory
    std::vector<ZipEntry> entries_;
    std::vector<size_t> byName_; // indices into entries_, sorted by name
};

// True for names a lookup may use: relative, no empty (but a directory's trailing slash),
// "." or ".." component, no backslash or NUL. TorchScript writes only such names.
bool isSafeRecordName(const std::string& name);

} // namespace bucketlab
