// A safe reader for the pickles inside TorchScript archives (data.pkl, constants.pkl):
// it decodes the opcodes torch.jit.save emits into a generic tree and never imports or
// constructs anything. GLOBAL names, REDUCE calls, NEWOBJ objects with their BUILD state
// and persistent ids (tensor storages) stay plain data a caller can interpret.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bucketlab {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
    enum class Kind {
        None,
        Bool,
        Int,
        Float,
        String, // text and byte strings alike (bytes are kept as they are)
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
    int64_t intValue = 0;
    double floatValue = 0.0;
    std::string text;                                  // String, Global ("module name")
    std::vector<PickleRef> items;                      // List, Tuple, Call/Object args
    std::vector<std::pair<PickleRef, PickleRef>> dict; // Dict entries in order
    PickleRef callee;                                  // Call: the callable; Object: the class
    PickleRef state;                                   // Object/Call: what BUILD set
    PickleRef id;                                      // PersistentId: the pid value

    bool isString() const { return kind == Kind::String; }
    // Dict lookup by string key; null when absent or not a dict.
    PickleRef get(const std::string& key) const;
};

// Decodes `bytes` (protocol 2 as torch.jit.save writes it, plus the few later opcodes
// Python's pickler uses for the same data). `where` names the record in errors, which are
// bucketlab::Error "where: ...".
PickleRef readPickle(const std::string& bytes, const std::string& where);

// "module name" for a Global, the callee's name for a Call/Object; empty otherwise.
std::string pickleClassName(const PickleValue& value);

} // namespace bucketlab
