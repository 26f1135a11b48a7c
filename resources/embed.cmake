# Writes a C++ source defining `const std::string& bucketlab::FUNCTION()` returning the
# contents of INPUT.
file(READ ${INPUT} content)
if(content MATCHES "\\)BLDATA\"")
    message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE ${OUTPUT}.tmp
"// Generated from ${INPUT}; do not edit.\n#include <string>\nnamespace bucketlab {\nconst std::string& ${FUNCTION}()\n{\n    static const std::string text = R\"BLDATA(${content})BLDATA\";\n    return text;\n}\n} // namespace bucketlab\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
