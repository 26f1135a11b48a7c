#include "core/spec/package_meta.h"

#include "core/util/error.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <sstream>

#ifndef BUCKETLAB_VERSION
#define BUCKETLAB_VERSION "0.0.0"
#endif

namespace bucketlab {

using nlohmann::json;

std::string packageKindName(PackageKind kind)
{
    return kind == PackageKind::Shared ? "shared" : "per-bucket";
}

nlohmann::json metaJson(const PackageMeta& meta)
{
    json j;
    j["format"] = meta.format;
    j["kind"] = packageKindName(meta.kind);
    j["boundaries"] = meta.boundaries.values();
    j["bucket_dim"] = meta.bucketDim;
    j["batch_dim"] = meta.batchDim;
    j["padding_side"] = paddingSideName(meta.paddingSide);
    j["inputs"] = json::array();
    for (const auto& in : meta.inputs) {
        json i;
        i["name"] = in.name;
        i["dtype"] = dtypeName(in.dtype);
        i["pad_value"] = in.padValue;
        i["fill_value"] = in.fillValue;
        i["bucketed"] = in.bucketed;
        j["inputs"].push_back(i);
    }
    j["states"] = json::array();
    for (const auto& st : meta.states) {
        json s;
        s["name"] = st.name;
        s["dtype"] = dtypeName(st.dtype);
        s["shapes"] = st.shapes;
        j["states"].push_back(s);
    }
    j["created_by"] = meta.createdBy;
    j["created_at"] = meta.createdAt;
    json models = json::array();
    for (const auto& m : meta.models) {
        json r{{"file", m.file}, {"sha256", m.sha256}};
        if (meta.kind == PackageKind::PerBucket)
            r["bucket"] = m.bucket;
        models.push_back(r);
    }
    if (meta.kind == PackageKind::Shared && !meta.models.empty())
        j["base_model"] = models[0];
    else
        j["base_model"] = nullptr;
    j["bucket_models"] = meta.kind == PackageKind::PerBucket ? models : json::array();
    j["kernel"] = meta.userKernel ? "user" : "generated";
    if (!meta.constantArgs.empty()) // absent rather than empty: older readers see no change
        j["constant_args"] = meta.constantArgs;
    return j;
}

namespace {

// nlohmann converts a floating-point number to an integer with a plain cast, which is
// undefined behaviour for 3e20: an integer field (or list of them, `depth` levels deep) must
// hold JSON integers within int64.
bool holdsIntegers(const json& v, int depth)
{
    if (v.is_array()) {
        if (depth == 0)
            return false;
        for (const auto& e : v)
            if (!holdsIntegers(e, depth - 1))
                return false;
        return true;
    }
    if (v.is_number_unsigned())
        return v.get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max());
    return v.is_number_integer();
}

template <typename T> constexpr int kIntegerDepth = -1; // not an integer type
template <> constexpr int kIntegerDepth<int64_t> = 0;
template <> constexpr int kIntegerDepth<std::vector<int64_t>> = 1;
template <> constexpr int kIntegerDepth<std::vector<std::vector<int64_t>>> = 2;

template <typename T> T field(const json& j, const char* name, const std::string& where)
{
    if (!j.contains(name))
        throw Error(where + ": bucketlab_meta has no " + quote(name) + " field");
    if constexpr (kIntegerDepth<T> >= 0)
        if (!holdsIntegers(j.at(name), kIntegerDepth<T>))
            throw Error(where + ": bucketlab_meta field " + quote(name) +
                        " must hold whole numbers within 64 bits");
    try {
        return j.at(name).get<T>();
    } catch (const json::exception&) {
        throw Error(where + ": bucketlab_meta field " + quote(name) + " has the wrong type");
    }
}

DType dtypeField(const json& j, const std::string& where)
{
    try {
        return parseDType(field<std::string>(j, "dtype", where));
    } catch (const Error& e) {
        const std::string what = e.what();
        if (what.rfind(where + ": ", 0) == 0)
            throw;
        throw Error(where + ": bucketlab_meta " + what);
    }
}

ModelFileRef modelRef(const json& j, const std::string& where)
{
    ModelFileRef r;
    r.file = field<std::string>(j, "file", where);
    r.sha256 = field<std::string>(j, "sha256", where);
    if (j.contains("bucket"))
        r.bucket = field<int64_t>(j, "bucket", where);
    return r;
}

// "shared" (also when absent) or "per-bucket": anything else (a typo such as per_bucket) is
// refused rather than read as shared, which would drop the bucket models.
PackageKind kindField(const json& j, const std::string& where)
{
    const std::string kind =
        j.contains("kind") ? field<std::string>(j, "kind", where) : std::string("shared");
    if (kind != packageKindName(PackageKind::Shared) &&
        kind != packageKindName(PackageKind::PerBucket))
        throw Error(where + ": bucketlab_meta kind " + quote(kind) +
                    " is neither shared nor per-bucket");
    return kind == packageKindName(PackageKind::PerBucket) ? PackageKind::PerBucket
                                                           : PackageKind::Shared;
}

std::vector<InputSpec> inputsField(const json& j, const std::string& where)
{
    std::vector<InputSpec> inputs;
    for (const auto& i : field<json>(j, "inputs", where)) {
        InputSpec in;
        in.name = field<std::string>(i, "name", where);
        in.dtype = dtypeField(i, where);
        in.padValue = field<double>(i, "pad_value", where);
        in.fillValue = i.value("fill_value", 1.0);
        if (i.contains("bucketed")) // packages before it was written are all bucketed
            in.bucketed = field<bool>(i, "bucketed", where);
        inputs.push_back(in);
    }
    return inputs;
}

std::vector<StateSpec> statesField(const json& j, const std::string& where)
{
    std::vector<StateSpec> states;
    if (j.contains("states"))
        for (const auto& s : j.at("states")) {
            StateSpec st;
            st.name = field<std::string>(s, "name", where);
            st.dtype = dtypeField(s, where);
            st.shapes = field<std::vector<std::vector<int64_t>>>(s, "shapes", where);
            states.push_back(st);
        }
    return states;
}

// The states and the inputs' dimensions, checked against the boundaries and each other.
void checkMetaSpecs(const PackageMeta& m, const std::string& where)
{
    try {
        checkStateSpecs(m.states, m.boundaries, m.inputs);
    } catch (const Error& e) {
        throw Error(where + ": bucketlab_meta " + e.what());
    }
    try {
        checkInputDims(m.inputs, m.bucketDim, m.batchDim);
    } catch (const Error& e) {
        throw Error(where + ": bucketlab_meta: " + e.what());
    }
}

// A shared package's model is base_model, a per-bucket package's are bucket_models (what
// metaJson writes; the other entry is null or empty).
std::vector<ModelFileRef> modelsField(const json& j, PackageKind kind, const std::string& where)
{
    std::vector<ModelFileRef> models;
    if (kind == PackageKind::Shared && j.contains("base_model") && j.at("base_model").is_object())
        models.push_back(modelRef(j.at("base_model"), where));
    if (kind == PackageKind::PerBucket && j.contains("bucket_models") &&
        j.at("bucket_models").is_array())
        for (const auto& r : j.at("bucket_models"))
            models.push_back(modelRef(r, where));
    return models;
}

} // namespace

PackageMeta metaFromJson(const std::string& text, const std::string& where)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) { // parse_error, or out_of_range (1e400)
        throw Error(where + ": bucketlab_meta is not valid JSON (" + libraryMessage(e.what()) +
                    ")");
    }
    if (!j.is_object())
        throw Error(where + ": bucketlab_meta is not a JSON object");
    // nlohmann's type errors (a number where a string belongs, read by value()) become
    // errors naming the file, like every other malformed field.
    try {
        PackageMeta m;
        m.format = field<std::string>(j, "format", where);
        if (m.format != kPackageFormat)
            throw Error(where + ": unsupported package format " + quote(m.format) +
                        " (this BucketLab reads " + kPackageFormat + ")");
        m.kind = kindField(j, where);
        m.boundaries = Boundaries::from(field<std::vector<int64_t>>(j, "boundaries", where),
                                        where + ": bucketlab_meta boundaries");
        m.bucketDim = field<int64_t>(j, "bucket_dim", where);
        m.batchDim = field<int64_t>(j, "batch_dim", where);
        if (j.contains("padding_side")) { // packages before it was written pad on the right
            try {
                m.paddingSide = parsePaddingSide(field<std::string>(j, "padding_side", where));
            } catch (const Error& e) {
                throw Error(where + ": bucketlab_meta: " + e.marked());
            }
        }
        m.inputs = inputsField(j, where);
        m.states = statesField(j, where);
        checkMetaSpecs(m, where);
        m.createdBy = j.value("created_by", std::string());
        m.createdAt = j.value("created_at", std::string());
        m.models = modelsField(j, m.kind, where);
        m.userKernel = j.value("kernel", std::string("generated")) == "user";
        if (j.contains("constant_args") && !j.at("constant_args").is_null()) {
            m.constantArgs = field<std::string>(j, "constant_args", where);
            if (!m.constantArgs.empty() && !m.userKernel)
                throw Error(where + ": bucketlab_meta has constant_args but a generated kernel, "
                                    "which takes none");
        }
        return m;
    } catch (const json::exception& e) {
        throw Error(where + ": bucketlab_meta is malformed (" + libraryMessage(e.what()) + ")");
    }
}

std::string creatorString()
{
    return std::string("BucketLab ") + BUCKETLAB_VERSION;
}

std::string utcNowIso8601()
{
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace bucketlab
