#include "core/spec/boundaries.h"

#include "core/util/text.h"

#include <algorithm>
#include <charconv>
#include <functional>

namespace bucketlab {
namespace {

// A whole number in 1..max; `what` names the list or field in the message.
int64_t positiveValue(std::string_view item, const std::string& what, int64_t max)
{
    const std::string_view t = trimBlanks(item);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec == std::errc::invalid_argument || end != t.data() + t.size())
        throw Error(what + ": " + quote(item) + " is not a whole number");
    if (ec == std::errc::result_out_of_range || v > max)
        throw Error(what + ": " + quote(t) + " is above the largest accepted (" +
                    std::to_string(max) + ")");
    if (v < 1)
        throw Error(what + ": " + quote(t) + " is not positive");
    return v;
}

int64_t lengthValue(std::string_view item, const std::string& what)
{
    return positiveValue(item, what, kMaxLength);
}

// The items of a comma-separated list, each checked by `value`.
template <class Value>
std::vector<int64_t> listValues(std::string_view text, const std::string& what, Value value)
{
    if (trimBlanks(text).empty())
        throw Error(what + " is empty: give a list such as 128,512");
    std::vector<int64_t> values;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string_view item = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (trimBlanks(item).empty())
            throw Error(
                what + " " + quote(text) +
                (comma == std::string_view::npos ? ": ends with a comma" : ": has an empty item"));
        values.push_back(value(item));
        if (comma == std::string_view::npos)
            return values;
        start = comma + 1;
    }
}

} // namespace

Boundaries Boundaries::checked(std::vector<int64_t> values, const std::string& what)
{
    if (values.empty())
        throw Error(what + ": no boundaries given (need at least one bucket length)");
    for (size_t i = 0; i < values.size(); ++i) {
        const int64_t b = values[i];
        if (b <= 0)
            throw Error(what + ": boundary " + std::to_string(b) + " is not a positive length");
        if (b > kMaxLength)
            throw Error(what + ": boundary " + std::to_string(b) +
                        " is above the longest length BucketLab accepts (" +
                        std::to_string(kMaxLength) + ")");
        if (i > 0 && b == values[i - 1])
            throw Error(what + ": boundary " + std::to_string(b) + " appears twice");
        if (i > 0 && b < values[i - 1])
            throw Error(what + ": boundaries must ascend, but " + std::to_string(b) + " follows " +
                        std::to_string(values[i - 1]));
    }
    Boundaries out;
    out.values_ = std::move(values);
    return out;
}

Boundaries::Boundaries(std::initializer_list<int64_t> values)
    : Boundaries(checked(std::vector<int64_t>(values), "boundaries"))
{
}

Boundaries Boundaries::parse(std::string_view text, Field about)
{
    const std::string what = subject(about);
    auto values =
        listValues(text, what, [&](std::string_view item) { return lengthValue(item, what); });
    return checked(std::move(values), what);
}

Boundaries Boundaries::from(std::vector<int64_t> values, Field about)
{
    return checked(std::move(values), subject(about));
}

Boundaries Boundaries::from(std::vector<int64_t> values, const std::string& where)
{
    return checked(std::move(values), where);
}

std::optional<Boundaries> Boundaries::tryFrom(std::vector<int64_t> values)
{
    if (values.empty() || values.front() < 1 || values.back() > kMaxLength ||
        std::adjacent_find(values.begin(), values.end(), std::greater_equal<int64_t>()) !=
            values.end())
        return std::nullopt;
    Boundaries out;
    out.values_ = std::move(values);
    return out;
}

std::optional<size_t> Boundaries::bucketFor(int64_t length) const
{
    if (length < 1)
        return std::nullopt;
    const auto it = std::lower_bound(values_.begin(), values_.end(), length);
    if (it == values_.end())
        return std::nullopt;
    return size_t(it - values_.begin());
}

bool Boundaries::contains(int64_t boundary) const
{
    return std::binary_search(values_.begin(), values_.end(), boundary);
}

std::string Boundaries::str() const
{
    std::string out;
    for (auto b : values_) {
        if (!out.empty())
            out += ",";
        out += std::to_string(b);
    }
    return out;
}

int64_t parseLength(std::string_view text, Field about)
{
    return lengthValue(text, subject(about));
}

std::vector<int64_t> parsePositiveList(std::string_view text, Field about, int64_t max)
{
    const std::string what = subject(about);
    auto values = listValues(text, what,
                             [&](std::string_view item) { return positiveValue(item, what, max); });
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
}

} // namespace bucketlab
