#include "core/util/text.h"

#include <cstdio>

namespace bucketlab {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8Length(std::string_view s, size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size())
        return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
            return 0;
    return n;
}

} // namespace

std::string quote(std::string_view value, size_t max)
{
    std::string out = "'";
    size_t shown = 0, i = 0;
    for (; i < value.size() && shown < max; ++shown) {
        const auto c = static_cast<unsigned char>(value[i]);
        const size_t n = utf8Length(value, i);
        if (n > 1) {
            out.append(value.substr(i, n));
            i += n;
            continue;
        }
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\\')
            out += "\\\\";
        else if (c < 0x20 || c == 0x7f || n == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else
            out += char(c);
        ++i;
    }
    out += "'";
    if (i < value.size())
        out += "... (" + std::to_string(value.size()) + " bytes)";
    return out;
}

} // namespace bucketlab
