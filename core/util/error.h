// Errors the user can act on. The core throws bucketlab::Error for bad input, unreadable
// files and impossible requests; its message already says what and where (file:line) and,
// when there is one, what to do. Front ends print it as is (CLI: one line, exit code 2).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace bucketlab {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Raised when a long job notices its cancel flag.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

// "path:line: message" (line omitted when 0), the form every input error takes.
std::string located(const std::string& path, int64_t line, const std::string& message);

// Collapses a multi-line library message (LibTorch's include stack traces) to its first
// meaningful line, so it fits the one-line error contract.
std::string firstLine(const std::string& message);

} // namespace bucketlab
