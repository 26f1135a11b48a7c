// A safe reader for the pickles inside TorchScript archives (data.pkl, constants.pkl):
// it decodes the opcodes torch.jit.save emits into a generic tree and never imports or
// constructs anything. GLOBAL names, REDUCE calls, NEWOBJ objects with their BUILD state
// and persistent ids (tensor storages) stay plain data a caller can interpret.
//
// Bounded for hostile input (limits below, each a one-line Error naming the record): the
// pickle's size, the number of values it makes, and how deeply containers nest. Decoding is
// a loop over the opcodes (no recursion), every value lives in one arena owned by the
// returned Pickle (freed flat, never recursively), values refer to each other by plain
// pointers, and a pickle whose values contain themselves (a cycle, which torch.jit.save never
// writes) is refused, so a caller may walk the tree without guarding against loops.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bucketlab {

struct PickleValue;
// A value inside a Pickle: valid as long as the Pickle that holds it.
using PickleRef = const PickleValue*;

struct PickleValue {
    enum class Kind {
        None,
        Bool,
        Int,
        Float,
        String, // text and byte strings alike (see `bytes`)
        List,
        Tuple,
        Dict,
        Global,       // `module name` from GLOBAL, in text
        Call,         // REDUCE: callable(args...)
        Object,       // NEWOBJ: cls(*args), then BUILD sets `state`
        PersistentId, // BINPERSID: what the archive loader would resolve (a storage)
        Mark          // internal to the reader, never in a returned tree
    };
    Kind kind = Kind::None;
    bool boolValue = false;
    bool bytes = false; // a String from a bytes opcode, kept byte for byte
    int64_t intValue = 0;
    double floatValue = 0.0;
    // String: text strings are UTF-8, with bytes that are not (a corrupt or hostile pickle)
    // written as \xNN; byte strings as they are. Global: "module name", UTF-8 likewise.
    std::string text;
    std::vector<PickleRef> items;                      // List, Tuple, Call/Object args
    std::vector<std::pair<PickleRef, PickleRef>> dict; // Dict entries in order
    PickleRef callee = nullptr;                        // Call: the callable; Object: the class
    PickleRef state = nullptr;                         // Object/Call: what BUILD set
    PickleRef id = nullptr;                            // PersistentId: the pid value
    // Containers nested in this value, itself included (0 for scalars); at most the depth
    // limit. Set for every value reachable from the root.
    int depth = 0;

    bool isString() const { return kind == Kind::String; }
    // Dict lookup by string key; null when absent or not a dict.
    PickleRef get(const std::string& key) const;
};

// What readPickle accepts. torch.jit.save's pickles nest a few levels (module, state dict,
// tensor arguments) and hold a few values per tensor; the limits leave a wide margin and
// keep a hostile pickle's cost small (about 150 bytes per value).
struct PickleLimits {
    size_t maxBytes = size_t(64) << 20; // the pickle itself
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    size_t maxValues = 50000; // fuzzing builds: the same checks, sooner, for more runs a second
#else
    size_t maxValues = 1000000; // values made, memo entries and references pushed
#endif
    int maxDepth = 1000; // nested containers (lists, tuples, dicts, calls...)
};

// A decoded pickle: owns every value; root() is what STOP returned.
class Pickle {
public:
    Pickle();
    Pickle(Pickle&&) noexcept;
    Pickle& operator=(Pickle&&) noexcept;
    ~Pickle();

    const PickleValue& root() const { return *root_; }
    const PickleValue* operator->() const { return root_; }
    const PickleValue& operator*() const { return *root_; }
    size_t valueCount() const { return count_; }

private:
    friend class PickleDecoder;
    PickleValue* make(PickleValue::Kind kind);

    // Every value made, in chunk order.
    template <typename F> void forEach(F f)
    {
        size_t size = 16;
        for (size_t c = 0; c < chunks_.size(); ++c, size = std::min(kChunk, 2 * size))
            for (size_t i = 0; i < (c + 1 == chunks_.size() ? used_ : size); ++i)
                f(chunks_[c][i]);
    }

    static constexpr size_t kChunk = 1024;
    std::vector<std::unique_ptr<PickleValue[]>> chunks_;
    size_t chunkSize_ = 0; // of the last chunk
    size_t used_ = 0;      // values used in the last chunk
    size_t count_ = 0;
    PickleValue* root_ = nullptr;
};

// Decodes `bytes` (protocol 2 as torch.jit.save writes it, plus the few later opcodes
// Python's pickler uses for the same data). `where` names the record in errors, which are
// bucketlab::Error "where: ...".
Pickle readPickle(const std::string& bytes, const std::string& where,
                  const PickleLimits& limits = {});

// "module name" for a Global, the callee's name for a Call/Object; empty otherwise.
std::string pickleClassName(const PickleValue& value);

} // namespace bucketlab
