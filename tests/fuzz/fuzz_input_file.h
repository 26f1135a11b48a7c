// For fuzz targets whose code under test reads a file by path: the input goes into one
// in-memory file (memfd) opened again through /proc/self/fd, so no disk is touched.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace bucketlab::fuzz {

// The path of a file holding exactly `bytes`.
inline std::string inputFile(const void* bytes, size_t size)
{
    static const int fd = [] {
        const int f = memfd_create("fuzz-input", MFD_CLOEXEC);
        if (f < 0) {
            std::perror("memfd_create");
            std::abort();
        }
        return f;
    }();
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, bytes, size, 0) != ssize_t(size))) {
        std::perror("memfd write");
        std::abort();
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace bucketlab::fuzz
