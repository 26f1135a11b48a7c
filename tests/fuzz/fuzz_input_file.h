// For fuzz targets whose code under test reads a file by path: the input goes into an
// in-memory file (memfd) opened again through /proc/self/fd, so no disk is touched. `slot`
// picks one of a few such files, for code that reads two (a text file and its vocabulary).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace bucketlab::fuzz {

// The path of a file holding exactly `bytes`.
inline std::string inputFile(const void* bytes, size_t size, int slot = 0)
{
    static int fds[4] = {-1, -1, -1, -1};
    if (slot < 0 || slot >= 4)
        std::abort();
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("fuzz-input", MFD_CLOEXEC);
        if (fds[slot] < 0) {
            std::perror("memfd_create");
            std::abort();
        }
    }
    const int fd = fds[slot];
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, bytes, size, 0) != ssize_t(size))) {
        std::perror("memfd write");
        std::abort();
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

inline std::string inputFile(const std::string& bytes, int slot = 0)
{
    return inputFile(bytes.data(), bytes.size(), slot);
}

} // namespace bucketlab::fuzz
