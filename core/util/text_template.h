// Text files with blanks to fill (the report's stylesheet, the Neuron recipe's script and
// README and the kernel's header live under resources/ and are compiled in; see
// resources/CMakeLists.txt).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace bucketlab {

// `text` with every @@name@@ replaced by values.at(name). A blank without a value, or a value
// without a blank, is a programming error: Error naming it (templates and their callers
// change together).
std::string fillTemplate(std::string_view text, const std::map<std::string, std::string>& values);

// One section of a template file that holds several: a line "@@@ NAME" starts section NAME,
// whose text is every line after it up to the next such line or the end, each with its
// newline. Text before the first section is a preamble (what the file is). A missing
// section is a programming error: Error naming it.
std::string_view templateSection(std::string_view text, std::string_view name);

// The texts compiled in from resources/ (generated sources, resources/CMakeLists.txt).
const std::string& reportStylesheet();     // resources/report/report.css
const std::string& neuronBuildTemplate();  // resources/neuron/neuron_build.py.in
const std::string& neuronReadmeTemplate(); // resources/neuron/README.md.in
// Sections (templateSection): header, states_line, states_note.
const std::string& neuronKernelTemplate(); // resources/neuron/bucket_kernel.py.in
// Sections: retrace, states, user_kernel, constant_args.
const std::string& neuronReadmeNotesTemplate(); // resources/neuron/README_notes.md.in

} // namespace bucketlab
