// Reads the serialized TorchScript code of an archive (code/**.py) as text, without
// compiling it: classes with their parameters, buffers and attribute annotations, methods
// and free functions with signatures and line ranges. That is how `inspect` lists methods
// of models whose classes cannot be loaded here (Neuron's torch.classes.neuron.*).
#pragma once

#include <string>
#include <vector>

namespace bucketlab {

struct ScriptParam {
    std::string name;
    std::string type;         // as annotated in the code ("List[Tensor]"), "" when absent
    std::string defaultValue; // "" when none
};

struct ScriptFunction {
    std::string name;
    std::string qualifiedName;       // __torch__.pkg.Class.method or __torch__.pkg.function
    std::string owner;               // qualified class name for methods, "" for free functions
    std::string file;                // the code record, e.g. code/__torch__/pkg.py
    int firstLine = 0;               // 1-based, the `def` line
    int lastLine = 0;                // inclusive
    std::vector<ScriptParam> params; // without `self`
    std::string returnType;          // "" when not annotated
    std::string source;              // the def's lines, dedented to column 0
    bool usesSelf = false;           // the body reads attributes of self

    // forward(Tensor x, Tensor mask) -> Tensor, the form inspect prints.
    std::string schema() const;
};

struct ScriptAttribute {
    std::string name;
    std::string type;
};

struct ScriptClass {
    std::string name;
    std::string qualifiedName;
    std::string base; // "Module", "NamedTuple", ... ("" when none)
    std::string file;
    int line = 0;
    std::vector<std::string> parameters; // __parameters__
    std::vector<std::string> buffers;    // __buffers__
    std::vector<ScriptAttribute> attributes;
    std::vector<ScriptFunction> methods;
};

struct ScriptCode {
    std::vector<ScriptClass> classes;
    std::vector<ScriptFunction> functions; // free functions
};

// `record` is the code record's path inside the archive, after the archive's top folder
// (code/__torch__/pkg.py); it gives the qualified names (__torch__.pkg).
ScriptCode parseScriptCode(const std::string& text, const std::string& record);

// The qualifier a code record defines: code/__torch__/a/b.py -> __torch__.a.b.
std::string qualifierOfRecord(const std::string& record);

// Splits "a: List[int], b: Tensor=None" at top-level commas.
std::vector<ScriptParam> parseParams(const std::string& text);

} // namespace bucketlab
