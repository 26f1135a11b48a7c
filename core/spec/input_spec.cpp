#include "core/spec/input_spec.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace bucketlab {
namespace {

const std::set<std::string>& pythonKeywords()
{
    static const std::set<std::string> words = {
        "False",  "None",     "True",   "and",    "as",    "assert",  "async",  "await",    "break",
        "class",  "continue", "def",    "del",    "elif",  "else",    "except", "finally",  "for",
        "from",   "global",   "if",     "import", "in",    "is",      "lambda", "nonlocal", "not",
        "or",     "pass",     "raise",  "return", "try",   "while",   "with",   "yield",    "self",
        "inputs", "torch",    "Tensor", "List",   "Tuple", "Optional"};
    return words;
}

bool isIdentifier(const std::string& s)
{
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

std::string trim(std::string_view s)
{
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

double parseValue(const std::string& text, DType dtype, const std::string& item, const char* what)
{
    if (dtype == DType::Bool) {
        if (text == "true" || text == "True" || text == "1")
            return 1.0;
        if (text == "false" || text == "False" || text == "0")
            return 0.0;
        throw Error(subject(Field::Inputs) + ": " + quote(item) + ": " + what + " value " +
                    quote(text) + " is not a bool (use true/false or 1/0)");
    }
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
        throw Error(subject(Field::Inputs) + ": " + quote(item) + ": " + what + " value " +
                    quote(text) + " is not a number");
    if (!isFloatingPoint(dtype) && v != std::floor(v))
        throw Error(subject(Field::Inputs) + ": " + quote(item) + ": " + what + " value " +
                    quote(text) + " is not an integer, but the dtype is " + dtypeName(dtype));
    return v;
}

// The values a dtype holds: integers within their range and no further than 2^53 (beyond it a
// double, in which values are kept, no longer holds every integer, so an int64 pad could not be
// written back as given); floating values within the largest finite value of the type.
struct ValueRange {
    double lowest;
    double highest;
};

ValueRange valueRange(DType dtype)
{
    constexpr double kExactInteger = 9007199254740992.0; // 2^53
    switch (dtype) {
    case DType::Int64: return {-kExactInteger, kExactInteger};
    case DType::Int32: return {-2147483648.0, 2147483647.0};
    case DType::Float16: return {-65504.0, 65504.0};
    case DType::BFloat16: return {-3.3895313892515355e38, 3.3895313892515355e38};
    case DType::Float32: return {-3.4028234663852886e38, 3.4028234663852886e38};
    case DType::Bool: return {0.0, 1.0};
    }
    return {0.0, 0.0};
}

// The shortest decimal form that reads back as the same double.
std::string formatScalar(double v)
{
    char buffer[40];
    for (int precision = 6; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
        if (std::strtod(buffer, nullptr) == v)
            break;
    }
    return buffer;
}

} // namespace

std::string paddingSideName(PaddingSide side)
{
    return side == PaddingSide::Left ? "left" : "right";
}

PaddingSide parsePaddingSide(std::string_view text)
{
    if (text == "right")
        return PaddingSide::Right;
    if (text == "left")
        return PaddingSide::Left;
    throw Error("padding side '" + displayText(text) + "' is neither right nor left");
}

std::vector<InputSpec> parseInputSpecs(std::string_view text)
{
    std::vector<InputSpec> out;
    if (trim(text).empty())
        throw Error(subject(Field::Inputs) +
                    " is empty: give name:dtype[:pad[:fill]] per input, e.g. "
                    "input_ids:int64:0,attention_mask:int64:0");
    std::string all(text);
    std::stringstream items(all);
    std::string item;
    while (std::getline(items, item, ',')) {
        item = trim(item);
        if (item.empty())
            throw Error(subject(Field::Inputs) + " " + quote(all) + ": empty item (stray comma?)");
        std::vector<std::string> parts;
        std::stringstream fields(item);
        std::string field;
        while (std::getline(fields, field, ':'))
            parts.push_back(trim(field));
        if (!item.empty() && item.back() == ':')
            parts.emplace_back();
        if (parts.size() < 2 || parts.size() > 4)
            throw Error(subject(Field::Inputs) + ": " + quote(item) +
                        " is not name:dtype[:pad[:fill]] (pad '-': not bucketed)");
        InputSpec spec;
        spec.name = parts[0];
        try {
            spec.dtype = parseDType(parts[1]);
        } catch (const Error& e) {
            throw Error(subject(Field::Inputs) + ": " + quote(item) + ": " + e.marked());
        }
        if (parts.size() >= 3 && parts[2] == "-") {
            spec.bucketed = false;
            spec.fillValue = 0.0; // e.g. seq_ids: 0 is the first sequence of any batch
        } else if (parts.size() >= 3)
            spec.padValue = parseValue(parts[2], spec.dtype, item, "pad");
        if (parts.size() >= 4)
            spec.fillValue = parseValue(parts[3], spec.dtype, item, "fill");
        out.push_back(spec);
    }
    checkInputSpecs(out);
    return out;
}

void checkInputSpecs(const std::vector<InputSpec>& inputs)
{
    if (inputs.empty())
        throw Error("no inputs given: a package needs at least one input (" +
                    subject(Field::Inputs) + ")");
    std::set<std::string> seen;
    for (const auto& in : inputs) {
        if (!isIdentifier(in.name))
            throw Error(subject(Field::Inputs) + ": input name " + quote(in.name) +
                        " is not a valid identifier (letters, digits, _; not starting with a "
                        "digit)");
        if (pythonKeywords().count(in.name))
            throw Error(subject(Field::Inputs) + ": input name " + quote(in.name) +
                        " is reserved in TorchScript; choose another name");
        if (!seen.insert(in.name).second)
            throw Error(subject(Field::Inputs) + ": input name " + quote(in.name) +
                        " appears twice");
        const ValueRange range = valueRange(in.dtype);
        for (double v : {in.padValue, in.fillValue}) {
            if (!std::isfinite(v))
                throw Error(subject(Field::Inputs) + ": input " + quote(in.name) +
                            " has a non-finite value");
            if (v < range.lowest || v > range.highest)
                throw Error(subject(Field::Inputs) + ": input " + quote(in.name) + " value " +
                            formatScalar(v) + " is outside what " + dtypeName(in.dtype) +
                            " holds here (" + formatScalar(range.lowest) + " to " +
                            formatScalar(range.highest) + ")");
        }
    }
    if (std::none_of(inputs.begin(), inputs.end(), [](const InputSpec& in) { return in.bucketed; }))
        throw Error(subject(Field::Inputs) + " " + formatInputSpecs(inputs) +
                    ": no input is bucketed (a pad of '-' marks an input without a length); "
                    "at least one input must carry the length that picks the bucket");
}

namespace {

void checkDim(const std::vector<InputSpec>& inputs, int64_t dim, Field field)
{
    if (dim >= 0 && dim < kBucketedInputRank)
        return;
    const std::string value = subject(field) + " " + std::to_string(dim);
    if (dim < 0)
        throw Error(value + " is negative: dimensions count from 0");
    const auto it =
        std::find_if(inputs.begin(), inputs.end(), [](const InputSpec& in) { return in.bucketed; });
    const std::string input =
        it == inputs.end() ? std::string("every bucketed input") : "input " + quote(it->name) + "";
    throw Error(value + " is beyond the rank of " + input + ": it has rank " +
                std::to_string(kBucketedInputRank) +
                " (a batch and a length dimension), so dimensions are 0 or 1");
}

} // namespace

void checkBucketDim(const std::vector<InputSpec>& inputs, int64_t bucketDim)
{
    checkDim(inputs, bucketDim, Field::BucketDim);
}

void checkInputDims(const std::vector<InputSpec>& inputs, int64_t bucketDim, int64_t batchDim)
{
    checkDim(inputs, bucketDim, Field::BucketDim);
    checkDim(inputs, batchDim, Field::BatchDim);
    if (bucketDim == batchDim)
        throw Error(subject(Field::BucketDim) + " and " + subject(Field::BatchDim) + " are both " +
                    std::to_string(bucketDim) +
                    ": an input's length and batch are different dimensions");
}

size_t firstBucketedInput(const std::vector<InputSpec>& inputs)
{
    for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].bucketed)
            return i;
    throw Error(subject(Field::Inputs) + ": no input is bucketed");
}

bool isScriptIdentifier(const std::string& name)
{
    return isIdentifier(name) && !pythonKeywords().count(name);
}

std::string formatInputSpecs(const std::vector<InputSpec>& inputs)
{
    std::string out;
    for (const auto& in : inputs) {
        if (!out.empty())
            out += ",";
        std::ostringstream s;
        s << in.name << ":" << dtypeName(in.dtype) << ":";
        if (in.bucketed)
            s << formatScalar(in.padValue);
        else
            s << "-";
        s << ":" << formatScalar(in.fillValue);
        out += s.str();
    }
    return out;
}

std::string scalarLiteral(DType dtype, double value)
{
    if (dtype == DType::Bool)
        return value != 0.0 ? "True" : "False";
    std::ostringstream s;
    s.precision(17);
    if (isFloatingPoint(dtype)) {
        s << value;
        std::string t = s.str();
        if (t.find_first_of(".eEn") == std::string::npos)
            t += ".0";
        return t;
    }
    s << static_cast<long long>(value);
    return s.str();
}

} // namespace bucketlab
