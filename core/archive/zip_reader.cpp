#include "core/archive/zip_reader.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bucketlab {

// Where the bytes come from: a file read with pread (nothing is mapped or read ahead), or a
// buffer (fuzzing, tests).
class ZipReader::Source {
public:
    ~Source()
    {
        if (fd >= 0)
            ::close(fd);
    }
    // Exactly `n` bytes at `offset`; false on a short read.
    bool readAt(uint64_t offset, void* out, uint64_t n) const
    {
        if (fd < 0) {
            if (n > bytes.size() || offset > bytes.size() - n)
                return false;
            std::memcpy(out, bytes.data() + offset, size_t(n));
            return true;
        }
        auto* p = static_cast<char*>(out);
        while (n > 0) {
            const ssize_t got =
                ::pread(fd, p, size_t(std::min<uint64_t>(n, 1 << 30)), off_t(offset));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return false;
            p += got;
            offset += uint64_t(got);
            n -= uint64_t(got);
        }
        return true;
    }

    int fd = -1;
    std::string bytes;
    uint64_t size = 0;
};

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint64_t kEndSize = 22, kZip64EndSize = 56, kLocatorSize = 20;
constexpr uint64_t kCentralSize = 46, kLocalSize = 30;
constexpr uint64_t kMaxComment = 0xffff;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
// Fuzzing builds compute the CRC but go on, so mutated records reach the readers behind.
constexpr bool kRefuseCrcMismatch = false;
#else
constexpr bool kRefuseCrcMismatch = true;
#endif

uint16_t le16(const char* p)
{
    return uint16_t(uint8_t(p[0]) | uint8_t(p[1]) << 8);
}
uint32_t le32(const char* p)
{
    return uint32_t(le16(p)) | uint32_t(le16(p + 2)) << 16;
}
uint64_t le64(const char* p)
{
    return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32;
}

std::string hex32(uint32_t v)
{
    char s[11];
    std::snprintf(s, sizeof s, "0x%08x", v);
    return s;
}

// offset + size <= limit, without overflow.
bool fits(uint64_t offset, uint64_t size, uint64_t limit)
{
    return size <= limit && offset <= limit - size;
}

// The reader's errors: "PATH: what", and "PATH: what (record NAME)".
struct ZipFailure {
    const std::string& path;
    [[noreturn]] void operator()(const std::string& what) const { throw Error(path + ": " + what); }
    [[noreturn]] void operator()(const std::string& what, const ZipEntry& entry) const
    {
        throw Error(path + ": " + what + " (record " + displayText(entry.name) + ")");
    }
};

// Where the central directory is, from the end record (and the ZIP64 one, when there is).
struct DirectoryLocation {
    uint64_t endOffset = 0; // of the end-of-central-directory record in the file
    uint64_t disk = 0, directoryDisk = 0, diskEntries = 0, entries = 0;
    uint64_t directorySize = 0, directoryOffset = 0;
    uint64_t directoryEnd = 0; // the directory must end by here
};

// The end-of-central-directory record in the file's last bytes (`tail`, which ends at
// fileBytes): the last 22 bytes, unless a comment follows it.
DirectoryLocation endRecord(const std::string& tail, uint64_t fileBytes, const ZipFailure& fail)
{
    const uint64_t tailSize = tail.size();
    uint64_t end = tailSize - kEndSize + 1;
    bool found = false;
    while (end-- > 0) {
        const char* p = tail.data() + end;
        if (le32(p) == kEndOfDirectory && end + kEndSize + le16(p + 20) <= tailSize) {
            found = true;
            break;
        }
    }
    if (!found)
        fail("truncated or corrupt archive: no zip end-of-central-directory record (an "
             "incomplete file, or not a zip)");
    const char* e = tail.data() + end;
    DirectoryLocation d;
    d.endOffset = fileBytes - tailSize + end;
    d.disk = le16(e + 4);
    d.directoryDisk = le16(e + 6);
    d.diskEntries = le16(e + 8);
    d.entries = le16(e + 10);
    d.directorySize = le32(e + 12);
    d.directoryOffset = le32(e + 16);
    d.directoryEnd = d.endOffset;
    return d;
}

// The ZIP64 end record `z` (at `at`) over the 16/32-bit fields.
void applyZip64End(const char* z, uint64_t at, DirectoryLocation& d)
{
    d.disk = le32(z + 16);
    d.directoryDisk = le32(z + 20);
    d.diskEntries = le64(z + 24);
    d.entries = le64(z + 32);
    d.directorySize = le64(z + 40);
    d.directoryOffset = le64(z + 48);
    d.directoryEnd = at;
}

// One disk, within the limits, inside the file and long enough for its records.
void checkDirectory(const DirectoryLocation& d, const ZipLimits& limits, const ZipFailure& fail)
{
    if (d.disk != 0 || d.directoryDisk != 0 || d.diskEntries != d.entries)
        fail("the archive spans several disks (a multi-part zip), which is not supported");
    if (d.entries > limits.maxEntries)
        fail("the archive lists " + std::to_string(d.entries) +
             " records, more than the limit of " + std::to_string(limits.maxEntries));
    if (d.directorySize > limits.maxDirectoryBytes)
        fail("the archive's central directory takes " + std::to_string(d.directorySize) +
             " bytes, more than the limit of " + std::to_string(limits.maxDirectoryBytes));
    if (!fits(d.directoryOffset, d.directorySize, d.directoryEnd))
        fail("truncated or corrupt archive: the central directory lies outside the file");
    if (d.entries * kCentralSize > d.directorySize)
        fail("truncated or corrupt archive: the central directory is too short for its " +
             std::to_string(d.entries) + " records");
}

// The ZIP64 extra field holds, in this order, the 64-bit value of each field that is
// saturated in the central record.
void applyZip64Extra(const char* extra, uint64_t extraBytes, ZipEntry& entry, uint64_t& entryDisk,
                     const ZipFailure& fail)
{
    for (uint64_t x = 0; x + 4 <= extraBytes;) {
        const uint16_t id = le16(extra + x), len = le16(extra + x + 2);
        if (x + 4 + len > extraBytes)
            fail("truncated or corrupt archive: a damaged extra field", entry);
        if (id == 0x0001) {
            const char* z = extra + x + 4;
            uint64_t left = len;
            auto take64 = [&](uint64_t& field) {
                if (left < 8)
                    fail("truncated or corrupt archive: a short ZIP64 extra field", entry);
                field = le64(z);
                z += 8;
                left -= 8;
            };
            if (entry.size == 0xffffffff)
                take64(entry.size);
            if (entry.compressedSize == 0xffffffff)
                take64(entry.compressedSize);
            if (entry.localHeaderOffset == 0xffffffff)
                take64(entry.localHeaderOffset);
            if (entryDisk == 0xffff) {
                if (left < 4)
                    fail("truncated or corrupt archive: a short ZIP64 extra field", entry);
                entryDisk = le32(z);
            }
        }
        x += 4 + len;
    }
}

// Central directory record `i` at `pos`; moves pos past it.
ZipEntry centralEntry(const std::string& directory, uint64_t& pos, uint64_t i,
                      const ZipLimits& limits, const ZipFailure& fail)
{
    const uint64_t directorySize = directory.size();
    if (!fits(pos, kCentralSize, directorySize) || le32(directory.data() + pos) != kCentralHeader)
        fail("truncated or corrupt archive: central directory entry " + std::to_string(i) +
             " is damaged");
    const char* c = directory.data() + pos;
    const uint64_t nameBytes = le16(c + 28), extraBytes = le16(c + 30), commentBytes = le16(c + 32);
    if (!fits(pos + kCentralSize, nameBytes + extraBytes + commentBytes, directorySize))
        fail("truncated or corrupt archive: central directory entry " + std::to_string(i) +
             " runs past the directory's end");
    ZipEntry entry;
    entry.flags = le16(c + 8);
    entry.method = le16(c + 10);
    entry.crc32 = le32(c + 16);
    entry.compressedSize = le32(c + 20);
    entry.size = le32(c + 24);
    uint64_t entryDisk = le16(c + 34);
    entry.localHeaderOffset = le32(c + 42);
    entry.name.assign(c + kCentralSize, nameBytes);
    if (nameBytes > limits.maxNameBytes)
        fail("a record name of " + std::to_string(nameBytes) + " bytes, more than the limit of " +
                 std::to_string(limits.maxNameBytes),
             entry);
    applyZip64Extra(c + kCentralSize + nameBytes, extraBytes, entry, entryDisk, fail);
    if (entryDisk != 0)
        fail("the archive spans several disks (a multi-part zip), which is not supported", entry);
    if (!isSafeRecordName(entry.name))
        fail("a record name that is absolute or leaves the archive (..), refused", entry);
    pos += kCentralSize + nameBytes + extraBytes + commentBytes;
    return entry;
}

} // namespace

bool isSafeRecordName(const std::string& name)
{
    if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos ||
        name.find('\0') != std::string::npos)
        return false;
    size_t start = 0;
    while (start < name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos)
            end = name.size();
        const std::string_view part(name.data() + start, end - start);
        if (part == "." || part == ".." || (part.empty() && end != name.size() - 1))
            return false;
        start = end + 1;
    }
    return true;
}

ZipReader::ZipReader(const std::string& path, ZipLimits limits)
    : source_(std::make_unique<Source>()), path_(path), limits_(limits)
{
    // O_NONBLOCK: opening a FIFO with no writer must not hang; it is refused below.
    source_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (source_->fd < 0) {
        if (errno == ENOENT)
            fail("no such file");
        fail(std::string("cannot open (") + std::strerror(errno) + ")");
    }
    struct stat st {};
    if (::fstat(source_->fd, &st) != 0)
        fail(std::string("cannot read (") + std::strerror(errno) + ")");
    if (S_ISDIR(st.st_mode))
        fail("is a directory, expected a zip archive");
    if (!S_ISREG(st.st_mode))
        fail("not a regular file (a device or pipe), expected a zip archive");
    source_->size = uint64_t(st.st_size);
    readIndex();
}

ZipReader::ZipReader(std::unique_ptr<Source> source, const std::string& path, ZipLimits limits)
    : source_(std::move(source)), path_(path), limits_(limits)
{
    readIndex();
}

ZipReader ZipReader::fromBytes(std::string bytes, const std::string& name, ZipLimits limits)
{
    auto source = std::make_unique<Source>();
    source->size = bytes.size();
    source->bytes = std::move(bytes);
    return ZipReader(std::move(source), name, limits);
}

ZipReader::ZipReader(ZipReader&&) noexcept = default;
ZipReader& ZipReader::operator=(ZipReader&&) noexcept = default;
ZipReader::~ZipReader() = default;

void ZipReader::fail(const std::string& what) const
{
    ZipFailure{path_}(what);
}

void ZipReader::fail(const std::string& what, const ZipEntry& entry) const
{
    ZipFailure{path_}(what, entry);
}

void ZipReader::readAt(uint64_t offset, void* out, uint64_t size, const ZipEntry* entry) const
{
    const char* what = "truncated or corrupt archive: data lies past the end of the file";
    if (!fits(offset, size, fileBytes_) || !source_->readAt(offset, out, size)) {
        if (entry)
            fail(what, *entry);
        fail(what);
    }
}

void ZipReader::readIndex()
{
    const ZipFailure failure{path_};
    fileBytes_ = source_->size;
    if (fileBytes_ < kEndSize)
        fail("truncated or corrupt archive: " + std::to_string(fileBytes_) +
             " bytes, too short for a zip file");

    const uint64_t tailSize = std::min(fileBytes_, kEndSize + kMaxComment);
    std::string tail(tailSize, '\0');
    readAt(fileBytes_ - tailSize, tail.data(), tailSize, nullptr);
    DirectoryLocation d = endRecord(tail, fileBytes_, failure);

    // ZIP64 (torch.jit.save always writes it): a locator right before the end record points
    // at a ZIP64 end record with 64-bit counts and offsets.
    char locator[kLocatorSize];
    if (d.endOffset >= kLocatorSize &&
        source_->readAt(d.endOffset - kLocatorSize, locator, kLocatorSize) &&
        le32(locator) == kZip64Locator) {
        const uint64_t at = le64(locator + 8);
        if (le32(locator + 4) != 0 || le32(locator + 16) > 1)
            fail("the archive spans several disks (a multi-part zip), which is not supported");
        if (!fits(at, kZip64EndSize, d.endOffset - kLocatorSize))
            fail("truncated or corrupt archive: the ZIP64 end record lies outside the file");
        char z[kZip64EndSize];
        readAt(at, z, kZip64EndSize, nullptr);
        if (le32(z) != kZip64EndOfDirectory)
            fail("truncated or corrupt archive: no ZIP64 end record where its locator points");
        applyZip64End(z, at, d);
    } else if (d.entries == 0xffff || d.directorySize == 0xffffffff ||
               d.directoryOffset == 0xffffffff) {
        fail("truncated or corrupt archive: ZIP64 sizes without a ZIP64 end record");
    }
    checkDirectory(d, limits_, failure);

    std::string directory(d.directorySize, '\0');
    readAt(d.directoryOffset, directory.data(), d.directorySize, nullptr);
    entries_.reserve(d.entries);
    uint64_t pos = 0;
    for (uint64_t i = 0; i < d.entries; ++i)
        entries_.push_back(centralEntry(directory, pos, i, limits_, failure));
    directoryOffset_ = d.directoryOffset;

    byName_.resize(entries_.size());
    for (size_t i = 0; i < byName_.size(); ++i)
        byName_[i] = i;
    std::sort(byName_.begin(), byName_.end(),
              [&](size_t a, size_t b) { return entries_[a].name < entries_[b].name; });
    for (size_t i = 1; i < byName_.size(); ++i)
        if (entries_[byName_[i]].name == entries_[byName_[i - 1]].name)
            fail("two records have the same name", entries_[byName_[i]]);
}

const ZipEntry* ZipReader::find(const std::string& name) const
{
    const auto it =
        std::lower_bound(byName_.begin(), byName_.end(), name,
                         [&](size_t i, const std::string& n) { return entries_[i].name < n; });
    if (it == byName_.end() || entries_[*it].name != name)
        return nullptr;
    return &entries_[*it];
}

std::string ZipReader::read(const std::string& name) const
{
    const ZipEntry* entry = find(name);
    if (!entry)
        fail("the archive has no record " + displayText(name));
    return read(*entry);
}

std::string ZipReader::read(const ZipEntry& entry) const
{
    if (entry.flags & 1)
        fail("the record is encrypted, which is not supported", entry);
    if (entry.size > limits_.maxRecordBytes)
        fail("the record holds " + std::to_string(entry.size) + " bytes, more than the limit of " +
                 std::to_string(limits_.maxRecordBytes) + " for a record read into memory",
             entry);
    if (entry.method != 0 && entry.method != 8)
        fail("compression method " + std::to_string(entry.method) +
                 " is not supported (only stored and deflated records)",
             entry);
    if (entry.method == 0 && entry.compressedSize != entry.size)
        fail("truncated or corrupt archive: a stored record whose sizes disagree", entry);

    // The local header repeats the name; its own extra field (torch's alignment padding)
    // decides where the data starts.
    char local[kLocalSize];
    if (!fits(entry.localHeaderOffset, kLocalSize, directoryOffset_))
        fail("truncated or corrupt archive: the record's header lies outside the file", entry);
    readAt(entry.localHeaderOffset, local, kLocalSize, &entry);
    if (le32(local) != kLocalHeader)
        fail("truncated or corrupt archive: no local header where the directory points", entry);
    const uint64_t nameBytes = le16(local + 26), extraBytes = le16(local + 28);
    const uint64_t data = entry.localHeaderOffset + kLocalSize + nameBytes + extraBytes;
    if (!fits(data, entry.compressedSize, directoryOffset_))
        fail("truncated or corrupt archive: the record's data runs past its end", entry);
    std::string localName(nameBytes, '\0');
    readAt(entry.localHeaderOffset + kLocalSize, localName.data(), nameBytes, &entry);
    if (localName != entry.name)
        fail("corrupt archive: the record's local header names another record", entry);

    std::string out;
    if (entry.method == 0) {
        out.resize(entry.size);
        readAt(data, out.data(), entry.size, &entry);
    } else {
        out = inflateRecord(entry, data);
    }
    uint32_t crc = 0;
    for (uint64_t done = 0; done < out.size();) {
        const uInt n = uInt(std::min<uint64_t>(out.size() - done, 1u << 30));
        crc = uint32_t(::crc32(crc, reinterpret_cast<const Bytef*>(out.data() + done), n));
        done += n;
    }
    if (kRefuseCrcMismatch && crc != entry.crc32)
        fail("corrupt data, CRC-32 mismatch: stored " + hex32(entry.crc32) + ", computed " +
                 hex32(crc),
             entry);
    return out;
}

std::string ZipReader::inflateRecord(const ZipEntry& entry, uint64_t offset) const
{
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        fail("cannot start zlib to inflate the record", entry);
    struct End {
        z_stream& z;
        ~End() { inflateEnd(&z); }
    } end{z};

    // The output is capped at the declared size (itself within the record limit): a record
    // that would inflate to more is refused when the first byte too many appears.
    std::string out(entry.size, '\0');
    char in[1 << 16];
    uint64_t left = entry.compressedSize, outPos = 0;
    char spare = 0;
    for (;;) {
        if (z.avail_in == 0 && left > 0) {
            const uint64_t n = std::min<uint64_t>(left, sizeof in);
            readAt(offset, in, n, &entry);
            offset += n;
            left -= n;
            z.next_in = reinterpret_cast<Bytef*>(in);
            z.avail_in = uInt(n);
        }
        const bool full = outPos == out.size();
        if (full) {
            z.next_out = reinterpret_cast<Bytef*>(&spare);
            z.avail_out = 1;
        } else {
            z.next_out = reinterpret_cast<Bytef*>(out.data() + outPos);
            z.avail_out = uInt(std::min<uint64_t>(out.size() - outPos, 1u << 30));
        }
        const uInt room = z.avail_out;
        const int rc = inflate(&z, Z_NO_FLUSH);
        const uint64_t produced = room - z.avail_out;
        if (full && produced > 0)
            fail("the record inflates to more than its declared " + std::to_string(entry.size) +
                     " bytes (a zip bomb or a corrupt record)",
                 entry);
        outPos += produced;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR)
            fail(std::string("corrupt deflate data (zlib: ") + (z.msg ? z.msg : "error") + ")",
                 entry);
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && left == 0)
            fail("truncated or corrupt archive: the deflate data ends early", entry);
    }
    if (outPos != out.size())
        fail("corrupt archive: the record inflates to " + std::to_string(outPos) +
                 " bytes, not its declared " + std::to_string(entry.size),
             entry);
    return out;
}

} // namespace bucketlab
