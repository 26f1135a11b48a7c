// Small text helpers shared by the core's readers and messages.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// One CSV/TSV line split at `sep` with RFC 4180 quoting (a quoted cell may hold separators
// and "" for a quote), each cell trimmed of blanks; the line end already split off.
std::vector<std::string> splitCsvLine(std::string_view line, char sep);

// `s` with ASCII letters in lower case.
std::string asciiLower(std::string_view s);
// True when `s` ends with `lowerSuffix` (given in lower case), ignoring ASCII case: file
// extensions.
bool endsWithIgnoringCase(std::string_view s, std::string_view lowerSuffix);
// "a, b, c": names listed in a message. Names come from files (a CSV header, JSON keys), so
// each is shown as displayText() cut to 40 characters, and at most 12 of them
// ("..., ... (N more)"): no header can break the message's line or flood it.
std::string joinNames(const std::vector<std::string>& names);
// The index of `name` among `names` (a header's columns): an exact match first, else one
// ignoring ASCII case.
std::optional<size_t> findName(const std::vector<std::string>& names, std::string_view name);

// Without leading and trailing whitespace, line ends included: lines of source code and of
// /proc files.
inline std::string trimWhitespace(std::string_view s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos)
        return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), the text JSON writers accept.
bool isValidUtf8(std::string_view s);

// `s` with every byte that is not part of a well-formed UTF-8 sequence written as \xNN, so
// text read from a file (pickle strings, code records) always fits JSON and terminals. Valid
// text comes back unchanged.
std::string utf8Escaped(std::string_view s);

// A value quoted in a one-line message: control characters (line ends, ESC, NUL, DEL) and
// bytes that are not UTF-8 written as \n, \t, \xNN, and at most `maxChars` characters
// (longer values end in "..."), so no input can break the line, drive the terminal or
// flood it.
std::string displayText(std::string_view s, size_t maxChars = 80);

// displayText() in single quotes, and the value's length in bytes when it was cut:
// 'abc...' (10000000 bytes).
std::string quote(std::string_view value, size_t maxChars = 80);

} // namespace bucketlab
