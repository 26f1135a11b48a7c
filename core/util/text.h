// Small text helpers shared by the core's readers and messages.
#pragma once

#include <string>
#include <string_view>

namespace bucketlab {

// Without leading and trailing spaces and tabs: the blanks of a CSV cell or a spec item,
// where line ends were already split off.
inline std::string_view trimBlanks(std::string_view s)
{
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos)
        return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The same, as a string of its own.
inline std::string trimmedBlanks(std::string_view s)
{
    return std::string(trimBlanks(s));
}

// Without leading and trailing whitespace, line ends included: lines of source code and of
// /proc files.
inline std::string trimWhitespace(std::string_view s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

// A value taken from the input, fit for a one-line message: in single quotes, control
// characters and bytes that are not UTF-8 escaped (\n, \x1b), and at most `max` characters
// of it (a longer value is cut, saying how long it was).
std::string quote(std::string_view value, size_t max = 80);

} // namespace bucketlab
