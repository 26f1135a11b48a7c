// SHA-256 of files, to record which base model a package was built from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bucketlab {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    std::string hexDigest(); // finishes the hash

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t bufLen_ = 0;
    uint64_t total_ = 0;
};

std::string sha256Hex(const std::string& bytes);
// Streams the file; throws Error when it cannot be read.
std::string sha256File(const std::string& path);

} // namespace bucketlab
