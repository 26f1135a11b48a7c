#include "core/spec/state_spec.h"

#include "core/spec/memory_budget.h"
#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/text.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

namespace bucketlab {
namespace {

std::vector<std::string> split(const std::string& text, char sep)
{
    std::vector<std::string> parts;
    std::string part;
    std::stringstream s(text);
    while (std::getline(s, part, sep))
        parts.push_back(part);
    if (!text.empty() && text.back() == sep)
        parts.emplace_back();
    return parts;
}

// kLengthDim stands for "the bucket's length" in a shape written with L.
constexpr int64_t kLengthDim = -1;

std::vector<int64_t> parseShape(const std::string& text, const std::string& item)
{
    std::vector<int64_t> shape;
    if (text.empty())
        throw Error(subject(Field::States) + " " + quote(item) +
                    ": empty shape (one shape per bucket, joined by /)");
    for (const auto& dim : split(text, 'x')) {
        if (dim == "L") {
            shape.push_back(kLengthDim);
            continue;
        }
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(dim.c_str(), &end, 10);
        if (dim.empty() || end != dim.c_str() + dim.size() || errno == ERANGE)
            throw Error(subject(Field::States) + " " + quote(item) + ": " + quote(text) +
                        " is not a shape (dims joined by x, e.g. 1x4x64, with L for the bucket's "
                        "length)");
        if (v <= 0)
            throw Error(subject(Field::States) + " " + quote(item) + ": shape " +
                        displayText(text, 40) + " has dimension " + std::to_string(v) +
                        "; every dimension must be positive");
        shape.push_back(v);
    }
    return shape;
}

} // namespace

StateSpec parseStateSpec(std::string_view textView, const Boundaries* boundaries)
{
    const std::string text(textView);
    const auto parts = split(text, ':');
    if (parts.size() != 3 || parts[0].empty() || parts[2].empty())
        throw Error(subject(Field::States) + " " + quote(text) +
                    " is not NAME:DTYPE:SHAPE/SHAPE/... (one shape per bucket, e.g. "
                    "kv:float32:1x4x16/1x4x64)");
    StateSpec state;
    state.name = parts[0];
    try {
        state.dtype = parseDType(parts[1]);
    } catch (const Error& e) {
        throw Error(subject(Field::States) + " " + quote(text) + ": " + e.marked());
    }
    const auto shapes = split(parts[2], '/');
    for (const auto& shape : shapes)
        state.shapes.push_back(parseShape(shape, text));
    const auto hasL = [](const std::vector<int64_t>& s) {
        return std::find(s.begin(), s.end(), kLengthDim) != s.end();
    };
    if (std::none_of(state.shapes.begin(), state.shapes.end(), hasL)) {
        // One shape for several buckets: the same in each (a step counter, a fixed cache).
        if (state.shapes.size() == 1 && boundaries != nullptr && boundaries->size() > 1)
            state.shapes.assign(boundaries->size(), state.shapes.front());
        return state;
    }
    if (shapes.size() != 1)
        throw Error(subject(Field::States) + " " + quote(text) +
                    ": give either one shape with L for the bucket's length (e.g. 2x8xLx64) or "
                    "one shape per bucket without L, not both");
    if (boundaries == nullptr || boundaries->empty())
        throw Error(subject(Field::States) + " " + quote(text) +
                    ": a shape with L needs the buckets it stands for; give the boundaries");
    const auto pattern = state.shapes.front();
    state.shapes.clear();
    for (int64_t length : *boundaries) {
        auto shape = pattern;
        std::replace(shape.begin(), shape.end(), kLengthDim, length);
        state.shapes.push_back(shape);
    }
    return state;
}

std::string formatShape(const std::vector<int64_t>& shape)
{
    std::string out;
    for (auto d : shape)
        out += (out.empty() ? "" : "x") + std::to_string(d);
    return out;
}

std::string formatStateSpec(const StateSpec& state)
{
    std::string shapes;
    for (const auto& s : state.shapes)
        shapes += (shapes.empty() ? "" : "/") + formatShape(s);
    return state.name + ":" + dtypeName(state.dtype) + ":" + shapes;
}

void checkStateSpecs(const std::vector<StateSpec>& states, const Boundaries& boundaries,
                     const std::vector<InputSpec>& inputs)
{
    std::set<std::string> names;
    for (const auto& in : inputs)
        names.insert(in.name);
    std::set<std::string> seen;
    for (const auto& st : states) {
        const std::string what = "state " + quote(st.name) + "";
        if (!isScriptIdentifier(st.name))
            throw Error(subject(Field::States) + ": name " + quote(st.name) +
                        " is not usable (a Python identifier that is not a keyword)");
        // The buffer is the package attribute state_<name>; state_preprocessor is a method.
        if (st.name == "preprocessor")
            throw Error(subject(Field::States) + ": name 'preprocessor' is reserved (the package's "
                                                 "state_preprocessor method); choose another name");
        if (!seen.insert(st.name).second)
            throw Error(subject(Field::States) + ": " + what + " is given twice");
        if (names.count(st.name))
            throw Error(subject(Field::States) + ": " + what +
                        " has the name of an input; choose another name");
        if (st.shapes.size() != boundaries.size())
            throw Error(subject(Field::States) + ": " + what + " has " +
                        std::to_string(st.shapes.size()) + " shape" +
                        (st.shapes.size() == 1 ? "" : "s") + " but the package has " +
                        std::to_string(boundaries.size()) + " bucket" +
                        (boundaries.size() == 1 ? "" : "s") + " (" + boundaries.str() +
                        "); give one shape per bucket, joined by /");
        for (size_t k = 0; k < st.shapes.size(); ++k) {
            const auto& shape = st.shapes[k];
            const std::string bucket = "bucket " + std::to_string(boundaries[k]);
            if (shape.empty())
                throw Error(subject(Field::States) + ": " + what + " has an empty shape for " +
                            bucket);
            for (auto d : shape)
                if (d <= 0)
                    throw Error(subject(Field::States) + ": " + what + " shape " +
                                formatShape(shape) + " for " + bucket +
                                " has a non-positive dimension");
            if (k == 0)
                continue;
            const auto& prev = st.shapes[k - 1];
            if (shape.size() != prev.size())
                throw Error(subject(Field::States) + ": " + what + " has rank " +
                            std::to_string(prev.size()) + " for bucket " +
                            std::to_string(boundaries[k - 1]) + " but rank " +
                            std::to_string(shape.size()) + " for " + bucket +
                            "; the preprocessor slices one buffer, so every bucket's shape "
                            "needs the same rank");
            for (size_t d = 0; d < shape.size(); ++d)
                if (shape[d] < prev[d])
                    throw Error(subject(Field::States) + ": " + what + " shrinks from " +
                                formatShape(prev) + " (bucket " +
                                std::to_string(boundaries[k - 1]) + ") to " + formatShape(shape) +
                                " (" + bucket + ") in dimension " + std::to_string(d) +
                                "; the buffer has the largest bucket's shape and every bucket "
                                "slices it, so shapes must not shrink as buckets grow");
        }
    }
    // The buffers are allocated at the largest shapes whenever a package is built, exported
    // or loaded: a shape whose product is absurd is refused here, before any of that.
    checkMemoryBudget(stateBufferBytes(states),
                      subject(Field::States) + " (buffers at the largest bucket's shapes)",
                      "give smaller shapes");
}

std::vector<int64_t> stateBufferShape(const StateSpec& state)
{
    return state.shapes.empty() ? std::vector<int64_t>{} : state.shapes.back();
}

} // namespace bucketlab
