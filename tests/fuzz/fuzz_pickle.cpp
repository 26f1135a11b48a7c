// libFuzzer target: the pickle reader on arbitrary bytes. Besides crashes, leaks and
// sanitizer reports, it checks the reader's promises on every pickle it accepts: no MARK in
// the tree, no cycle, depths as documented and within the limit, text strings valid UTF-8.
#include "core/archive/pickle_reader.h"
#include "core/util/error.h"
#include "core/util/text.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

using namespace bucketlab;

namespace {

[[noreturn]] void broken(const char* promise)
{
    std::fprintf(stderr, "pickle reader broke its promise: %s\n", promise);
    std::abort();
}

void checkTree(const Pickle& pickle, const PickleLimits& limits)
{
    if (pickle->depth > limits.maxDepth)
        broken("depth within the limit");
    std::unordered_set<const PickleValue*> seen{&*pickle};
    std::vector<const PickleValue*> todo{&*pickle};
    while (!todo.empty()) {
        const PickleValue* v = todo.back();
        todo.pop_back();
        if (v->kind == PickleValue::Kind::Mark)
            broken("no MARK in the tree");
        if ((v->kind == PickleValue::Kind::String && !v->bytes) ||
            v->kind == PickleValue::Kind::Global)
            if (!isValidUtf8(v->text))
                broken("text strings are UTF-8");
        std::vector<PickleRef> children(v->items.begin(), v->items.end());
        for (const auto& [k, value] : v->dict) {
            children.push_back(k);
            children.push_back(value);
        }
        for (PickleRef r : {v->callee, v->state, v->id})
            if (r)
                children.push_back(r);
        const bool container =
            v->kind == PickleValue::Kind::List || v->kind == PickleValue::Kind::Tuple ||
            v->kind == PickleValue::Kind::Dict || v->kind == PickleValue::Kind::Call ||
            v->kind == PickleValue::Kind::Object || v->kind == PickleValue::Kind::PersistentId;
        int below = 0;
        for (PickleRef c : children) {
            if (c->depth >= v->depth)
                broken("a child is shallower than its parent (no cycles)");
            below = std::max(below, c->depth);
            if (seen.insert(c).second)
                todo.push_back(c);
        }
        if (v->depth != below + (container ? 1 : 0))
            broken("depth is the containers nested in a value");
    }
    (void)pickleClassName(*pickle);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const PickleLimits limits;
    try {
        const Pickle pickle = readPickle(bytes, "fuzz.pkl", limits);
        checkTree(pickle, limits);
    } catch (const Error& e) {
        if (std::string(e.what()).find('\n') != std::string::npos)
            broken("errors are one line");
    }
    return 0;
}
