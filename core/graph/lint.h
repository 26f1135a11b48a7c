// Lowering lints over a kernel's graph (graph.h): the pitfalls the autobucketing guide lists
// for torch.jit.script kernels, found in what TorchScript actually produced. Each rule has a
// stable id, a severity, an explanation and a fix; each finding names the graph nodes and
// the source line.
#pragma once

#include "core/graph/graph.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace bucketlab {

enum class LintSeverity { Info, Warning, Error };
std::string severityName(LintSeverity severity);

struct LintRule {
    std::string id; // stable: scripts and the GUI key on it
    LintSeverity severity = LintSeverity::Warning;
    std::string title;
    std::string explanation;
    std::string fix;
};

// literal-reuse, tensor-typed-list, variable-index, slice-lowering, hardcoded-input-count,
// shared-padding-dtype, bucket-index-dtype, negative-padding.
const std::vector<LintRule>& lintRules();
const LintRule& lintRule(const std::string& id);

struct LintFinding {
    std::string rule;
    LintSeverity severity = LintSeverity::Warning;
    std::vector<int> nodes; // GraphModel node ids, the first is where it shows
    std::string file;
    int line = 0;
    int column = 0;
    std::string code; // the source line
    std::string message;
};

// `source` is the kernel's source text (to name the line a literal was assigned on); the
// graph should have its calls inlined (graph_capture.h does that).
std::vector<LintFinding> lintGraph(const GraphModel& graph, const std::string& source);

// {"findings": [{"rule", "severity", "line", "column", "file", "code", "message", "nodes",
//  "explanation", "fix"}]}
nlohmann::json lintFindingsJson(const std::vector<LintFinding>& findings);

} // namespace bucketlab
