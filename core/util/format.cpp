#include "core/util/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace bucketlab {

std::string formatNumber(double value, int decimals)
{
    if (!std::isfinite(value))
        return std::isnan(value) ? "n/a" : (value > 0 ? "∞" : "−∞");
    decimals = std::clamp(decimals, 0, 12);
    char buf[400]; // DBL_MAX in fixed notation with 12 decimals fits
    const auto r =
        std::to_chars(buf, buf + sizeof buf, std::fabs(value), std::chars_format::fixed, decimals);
    const std::string digits(buf, r.ptr);
    const size_t point = digits.find('.');
    const std::string integer = digits.substr(0, point);
    const std::string fraction = point == std::string::npos ? "" : digits.substr(point);
    std::string grouped;
    for (size_t i = 0; i < integer.size(); ++i) {
        if (i > 0 && (integer.size() - i) % 3 == 0)
            grouped += ',';
        grouped += integer[i];
    }
    const bool zero =
        std::all_of(digits.begin(), digits.end(), [](char c) { return c == '0' || c == '.'; });
    return (value < 0 && !zero ? "−" : "") + grouped + fraction;
}

std::string formatMsValue(double ms)
{
    const double a = std::fabs(ms);
    return formatNumber(ms, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

std::string formatMs(double ms)
{
    return formatMsValue(ms) + " ms";
}

std::string formatPercent(double percent, int decimals)
{
    return formatNumber(percent, decimals) + " %";
}

std::string formatBytes(int64_t bytes, int decimals)
{
    if (bytes < 1024)
        return formatCount(bytes) + " B";
    const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = double(bytes) / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    return formatNumber(v, decimals) + " " + units[u];
}

std::string formatCount(int64_t count)
{
    return formatNumber(double(count), 0);
}

std::string formatLengths(const std::vector<int64_t>& lengths, const char* separator)
{
    std::string out;
    for (auto l : lengths) {
        if (!out.empty())
            out += separator;
        out += std::to_string(l);
    }
    return out;
}

} // namespace bucketlab
