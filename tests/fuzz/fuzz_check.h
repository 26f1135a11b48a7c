// What every fuzz target checks on the errors a reader throws: bucketlab::Error is the normal
// outcome of a bad input, and its message keeps the contract (README "Errors"): one line, no
// control characters and nothing that is not UTF-8 (a file's bytes are escaped, never echoed),
// bounded in length (values are shown cut to ~80 characters), and naming the file when one
// was read. Any other exception (what the CLI would print as "internal error") is not caught,
// so libFuzzer reports it as a crash.
#pragma once

#include "core/util/error.h"
#include "core/util/text.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bucketlab::fuzz {

[[noreturn]] inline void broken(const std::string& promise, const std::string& detail = {})
{
    std::fprintf(stderr, "reader broke its promise: %s: %s\n", promise.c_str(),
                 displayText(detail, 2000).c_str());
    std::abort();
}

// The longest message any error may have: a file name, a location, a few quoted values of at
// most ~80 characters each and the advice.
inline constexpr size_t kMaxMessage = 1000;

// `source`: the file or field the message must start with ("" for no such promise).
inline void checkError(const Error& e, const std::string& source = {})
{
    const std::string what = e.what();
    if (what.empty())
        broken("errors say something");
    for (unsigned char c : what)
        if (c < 0x20 || c == 0x7f)
            broken("errors are one line without control characters", what);
    if (!isValidUtf8(what))
        broken("errors are UTF-8 (file bytes escaped)", what);
    if (what.size() > kMaxMessage + source.size())
        broken("errors are short (values cut)", what);
    if (!source.empty() && what.rfind(source, 0) != 0)
        broken("errors name the file (" + source + ")", what);
}

// The input split at its first byte: a selector for the target's modes and the rest.
struct Split {
    unsigned selector = 0;
    std::string rest;
};
inline Split splitSelector(const uint8_t* data, size_t size)
{
    if (size == 0)
        return {};
    return {data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

} // namespace bucketlab::fuzz
