// The model inputs a package pads: name, element type, padding value, and the value
// BucketLab fills inputs with when it makes them itself (profiling, validation).
// Text form (CLI --inputs): comma-separated name:dtype[:pad[:fill]].
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

enum class DType { Int64, Int32, Float32, Float16, BFloat16, Bool };

// "int64", "float32", ... The names TorchScript and NumPy users know.
std::string dtypeName(DType dtype);
// Accepts the names above plus the usual aliases (long, int, float, half, ...); throws
// Error listing the accepted names otherwise.
DType parseDType(std::string_view text);
bool isFloatingPoint(DType dtype);

struct InputSpec {
    std::string name;
    DType dtype = DType::Int64;
    double padValue = 0.0;
    double fillValue = 1.0;

    bool operator==(const InputSpec& other) const
    {
        return name == other.name && dtype == other.dtype && padValue == other.padValue &&
               fillValue == other.fillValue;
    }
};

// Parses "input_ids:int64:0,attention_mask:int64:0". Names must be Python identifiers
// (they become forward() argument names) and unique. Throws Error naming the bad item.
std::vector<InputSpec> parseInputSpecs(std::string_view text);
std::string formatInputSpecs(const std::vector<InputSpec>& inputs);

// Checks a list built in code: non-empty, identifiers, unique, values representable.
void checkInputSpecs(const std::vector<InputSpec>& inputs);

// True for a name that can be a TorchScript argument or attribute: a Python identifier that
// is neither a keyword nor a name the generated code uses itself.
bool isScriptIdentifier(const std::string& name);

// Formats a pad/fill value as a TorchScript/Python literal of the right kind for dtype.
std::string scalarLiteral(DType dtype, double value);

} // namespace bucketlab
