#include "core/util/error.h"

namespace bucketlab {

std::string located(const std::string& path, int64_t line, const std::string& message)
{
    std::string out = path;
    if (line > 0)
        out += ":" + std::to_string(line);
    return out + ": " + message;
}

std::string firstLine(const std::string& message)
{
    size_t start = 0;
    while (start < message.size()) {
        size_t end = message.find('\n', start);
        if (end == std::string::npos)
            end = message.size();
        std::string line = message.substr(start, end - start);
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos) {
            const auto last = line.find_last_not_of(" \t\r");
            return line.substr(first, last - first + 1);
        }
        start = end + 1;
    }
    return message;
}

} // namespace bucketlab
