#include "core/util/text.h"

#include <cstdint>
#include <cstdio>

namespace bucketlab {

std::string asciiLower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

bool endsWithIgnoringCase(std::string_view s, std::string_view lowerSuffix)
{
    return s.size() >= lowerSuffix.size() &&
           asciiLower(s.substr(s.size() - lowerSuffix.size())) == lowerSuffix;
}

std::string joinNames(const std::vector<std::string>& names)
{
    constexpr size_t kMaxNames = 12;
    constexpr size_t kMaxNameChars = 40;
    std::string out;
    for (size_t i = 0; i < names.size() && i < kMaxNames; ++i)
        out += (i == 0 ? "" : ", ") + displayText(names[i], kMaxNameChars);
    if (names.size() > kMaxNames)
        out += ", ... (" + std::to_string(names.size() - kMaxNames) + " more)";
    return out;
}

std::optional<size_t> findName(const std::vector<std::string>& names, std::string_view name)
{
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name)
            return i;
    const std::string wanted = asciiLower(name);
    for (size_t i = 0; i < names.size(); ++i)
        if (asciiLower(names[i]) == wanted)
            return i;
    return std::nullopt;
}

std::vector<std::string> splitCsvLine(std::string_view line, char sep)
{
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                cells.back() += '"', ++i;
            else if (c == '"')
                quoted = false;
            else
                cells.back() += c;
        } else if (c == '"')
            quoted = true;
        else if (c == sep)
            cells.emplace_back();
        else
            cells.back() += c;
    }
    for (auto& cell : cells)
        cell = trimmedBlanks(cell);
    return cells;
}
namespace {

// Length of the well-formed UTF-8 sequence at s[i], or 0 when the byte there starts none.
size_t utf8SequenceAt(std::string_view s, size_t i)
{
    const auto byte = [&](size_t k) {
        return uint8_t(s[k]);
    };
    const uint8_t b = byte(i);
    if (b < 0x80)
        return 1;
    size_t n = 0;
    uint8_t lo = 0x80, hi = 0xBF; // the allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF)
        n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0)
            lo = 0xA0; // no overlong forms
        if (b == 0xED)
            hi = 0x9F; // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0)
            lo = 0x90; // no overlong forms
        if (b == 0xF4)
            hi = 0x8F; // nothing above U+10FFFF
    } else
        return 0;
    if (s.size() - i < n)
        return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi)
        return 0;
    for (size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
            return 0;
    return n;
}

void appendHex(std::string& out, uint8_t b)
{
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", b);
    out += hex;
}

} // namespace

bool isValidUtf8(std::string_view s)
{
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8SequenceAt(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

std::string utf8Escaped(std::string_view s)
{
    if (isValidUtf8(s))
        return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8SequenceAt(s, i);
        if (n == 0) {
            appendHex(out, uint8_t(s[i]));
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string displayText(std::string_view s, size_t maxChars)
{
    // maxChars counts what is shown: an escape such as \x00 counts as the four characters it
    // takes, so a value of control bytes is cut as short as a plain one.
    std::string out;
    size_t chars = 0;
    for (size_t i = 0; i < s.size();) {
        const uint8_t b = uint8_t(s[i]);
        const size_t n = utf8SequenceAt(s, i);
        std::string piece;
        if (b == '\n')
            piece = "\\n";
        else if (b == '\r')
            piece = "\\r";
        else if (b == '\t')
            piece = "\\t";
        else if (n == 0 || b < 0x20 || b == 0x7f)
            appendHex(piece, b);
        else if (n == 2 && b == 0xC2 && uint8_t(s[i + 1]) < 0xA0) {
            appendHex(piece, b); // C1 controls (CSI, OSC): U+0080..U+009F
            appendHex(piece, uint8_t(s[i + 1]));
        }
        const size_t width = piece.empty() ? 1 : piece.size();
        if (chars + width > maxChars) {
            out += "...";
            break;
        }
        out += piece.empty() ? std::string(s.substr(i, n)) : piece;
        i += n == 0 ? 1 : n;
        chars += width;
    }
    return out;
}

std::string quote(std::string_view value, size_t maxChars)
{
    const std::string shown = displayText(value, maxChars);
    std::string out = "'" + shown + "'";
    if (shown.size() >= 3 && shown.compare(shown.size() - 3, 3, "...") == 0 &&
        value.size() > maxChars)
        out += " (" + std::to_string(value.size()) + " bytes)";
    return out;
}

} // namespace bucketlab
