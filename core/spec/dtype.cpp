#include "core/spec/dtype.h"

#include "core/util/error.h"
#include "core/util/text.h"

namespace bucketlab {
namespace {

struct ScalarType {
    int64_t code;      // LibTorch's ScalarType number
    const char* name;  // torch.<name>, NumPy's name
    const char* alias; // torch.<alias>, or nullptr
    uint64_t bytes;
    bool isDType; // an element type inputs and states may have
    DType dtype;
};

// The DTypes first, in the order messages list them.
constexpr ScalarType kScalarTypes[] = {
    {4, "int64", "long", 8, true, DType::Int64},
    {3, "int32", "int", 4, true, DType::Int32},
    {6, "float32", "float", 4, true, DType::Float32},
    {5, "float16", "half", 2, true, DType::Float16},
    {15, "bfloat16", nullptr, 2, true, DType::BFloat16},
    {11, "bool", nullptr, 1, true, DType::Bool},
    {7, "float64", "double", 8, false, DType::Int64},
    {2, "int16", "short", 2, false, DType::Int64},
    {1, "int8", nullptr, 1, false, DType::Int64},
    {0, "uint8", nullptr, 1, false, DType::Int64},
};

const ScalarType& entryOf(DType dtype)
{
    for (const auto& e : kScalarTypes)
        if (e.isDType && e.dtype == dtype)
            return e;
    return kScalarTypes[0]; // unreachable: every DType has a row
}

const ScalarType* entryOfName(std::string_view name)
{
    if (name.substr(0, 6) == "torch.")
        name.remove_prefix(6);
    for (const auto& e : kScalarTypes)
        if (name == e.name || (e.alias && name == e.alias))
            return &e;
    return nullptr;
}

} // namespace

std::string dtypeName(DType dtype)
{
    return entryOf(dtype).name;
}

std::string dtypeNameList()
{
    std::string out;
    size_t count = 0;
    for (const auto& e : kScalarTypes)
        count += e.isDType;
    size_t i = 0;
    for (const auto& e : kScalarTypes) {
        if (!e.isDType)
            continue;
        out += std::string(i == 0 ? "" : (i + 1 == count ? " or " : ", ")) + e.name;
        ++i;
    }
    return out;
}

DType parseDType(std::string_view text)
{
    const ScalarType* e = entryOfName(text);
    if (!e)
        throw Error("unknown dtype '" + displayText(text) + "' (use " + dtypeNameList() + ")");
    if (!e->isDType)
        throw Error("dtype '" + displayText(text) + "' is not supported for inputs (use " +
                    dtypeNameList() + ")");
    return e->dtype;
}

bool isFloatingPoint(DType dtype)
{
    return dtype == DType::Float32 || dtype == DType::Float16 || dtype == DType::BFloat16;
}

uint64_t dtypeBytes(DType dtype)
{
    return entryOf(dtype).bytes;
}

int64_t scalarTypeCode(DType dtype)
{
    return entryOf(dtype).code;
}

std::optional<DType> dtypeOfScalarType(int64_t code)
{
    for (const auto& e : kScalarTypes)
        if (e.code == code && e.isDType)
            return e.dtype;
    return std::nullopt;
}

const char* scalarTypeName(int64_t code)
{
    for (const auto& e : kScalarTypes)
        if (e.code == code)
            return e.name;
    return nullptr;
}

std::optional<int64_t> scalarTypeOfName(std::string_view name)
{
    const ScalarType* e = entryOfName(name);
    return e ? std::optional<int64_t>(e->code) : std::nullopt;
}

} // namespace bucketlab
