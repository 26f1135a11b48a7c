// Text files with blanks to fill (the report's stylesheet, the Neuron recipe's script and
// README live under resources/ and are compiled in; see resources/CMakeLists.txt).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace bucketlab {

// `text` with every @@name@@ replaced by values.at(name). A blank without a value, or a value
// without a blank, is a programming error: Error naming it (templates and their callers
// change together).
std::string fillTemplate(std::string_view text, const std::map<std::string, std::string>& values);

// The texts compiled in from resources/ (generated sources, resources/CMakeLists.txt).
const std::string& reportStylesheet();     // resources/report/report.css
const std::string& neuronBuildTemplate();  // resources/neuron/neuron_build.py.in
const std::string& neuronReadmeTemplate(); // resources/neuron/README.md.in

} // namespace bucketlab
