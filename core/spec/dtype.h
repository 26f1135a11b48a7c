// Element types: the DTypes a package's inputs and state buffers may have, and the names and
// LibTorch ScalarType numbers of every dtype BucketLab meets (in metadata, in kernels' graphs,
// in tensors a kernel returns). One table, read every way (dtype.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bucketlab {

enum class DType { Int64, Int32, Float32, Float16, BFloat16, Bool };

// "int64", "float32", ... The names TorchScript and NumPy users know.
std::string dtypeName(DType dtype);
// Accepts the names above plus the usual aliases (long, int, float, half, ...), with or
// without "torch."; throws Error listing the accepted names otherwise.
DType parseDType(std::string_view text);
// "int64, int32, float32, float16, bfloat16 or bool": the DTypes, for messages.
std::string dtypeNameList();
bool isFloatingPoint(DType dtype);
// Bytes per element.
uint64_t dtypeBytes(DType dtype);

// LibTorch's ScalarType numbers (c10/core/ScalarType.h; torch_io.cpp checks them when it
// builds). A TorchScript graph stores `dtype=torch.int64` as the constant 4.
int64_t scalarTypeCode(DType dtype);
// The DType of a scalar type number; nullopt for one inputs may not have (float64, int8, ...).
std::optional<DType> dtypeOfScalarType(int64_t code);
// "int64" for 4, "float64" for 7; nullptr for a number with no name here (complex, quantized).
const char* scalarTypeName(int64_t code);
// The number of a dtype name or alias ("int64", "long", "torch.double", ...), or nullopt.
std::optional<int64_t> scalarTypeOfName(std::string_view name);

} // namespace bucketlab
