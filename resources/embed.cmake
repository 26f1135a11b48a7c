# Writes a C++ source defining bucketlab::demoDistributionCsv() from INPUT.
file(READ ${INPUT} content)
if(content MATCHES "\\)BLDATA\"")
    message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE ${OUTPUT}.tmp
"// Generated from ${INPUT}; do not edit.\n#include <string>\nnamespace bucketlab {\nconst std::string& demoDistributionCsv()\n{\n    static const std::string text = R\"BLDATA(${content})BLDATA\";\n    return text;\n}\n} // namespace bucketlab\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
