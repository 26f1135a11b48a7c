#include "core/util/text_template.h"

#include "core/util/error.h"

#include <set>

namespace bucketlab {

std::string fillTemplate(std::string_view text, const std::map<std::string, std::string>& values)
{
    static constexpr std::string_view kMark = "@@";
    std::string out;
    out.reserve(text.size());
    std::set<std::string> used;
    size_t pos = 0;
    while (true) {
        const size_t open = text.find(kMark, pos);
        if (open == std::string_view::npos) {
            out.append(text.substr(pos));
            break;
        }
        const size_t close = text.find(kMark, open + kMark.size());
        if (close == std::string_view::npos)
            throw Error("template: unterminated @@ blank at offset " + std::to_string(open));
        const std::string name(text.substr(open + kMark.size(), close - open - kMark.size()));
        const auto it = values.find(name);
        if (it == values.end())
            throw Error("template: no value for the blank @@" + name + "@@");
        out.append(text.substr(pos, open - pos));
        out.append(it->second);
        used.insert(name);
        pos = close + kMark.size();
    }
    for (const auto& [name, value] : values)
        if (!used.count(name))
            throw Error("template: no blank @@" + name + "@@ for the value given");
    return out;
}

std::string_view templateSection(std::string_view text, std::string_view name)
{
    static constexpr std::string_view kSection = "@@@ ";
    const std::string marker = std::string(kSection) + std::string(name) + "\n";
    size_t at = text.rfind(marker, 0) == 0 ? 0 : text.find("\n" + marker);
    if (at == std::string_view::npos)
        throw Error("template: no section @@@ " + std::string(name));
    const size_t begin = (at == 0 ? 0 : at + 1) + marker.size();
    const size_t next = text.find("\n" + std::string(kSection), begin - 1);
    return text.substr(begin,
                       next == std::string_view::npos ? std::string_view::npos : next + 1 - begin);
}

} // namespace bucketlab
