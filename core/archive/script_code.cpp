#include "core/archive/script_code.h"
#include "core/util/text.h"

#include <regex>
#include <sstream>

namespace bucketlab {
namespace {

size_t indentOf(const std::string& line)
{
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
    return i;
}

bool blank(const std::string& line)
{
    return trimWhitespace(line).empty();
}

std::vector<std::string> splitTopLevel(const std::string& text, char sep)
{
    std::vector<std::string> out;
    int depth = 0;
    bool inString = false;
    char quote = 0;
    std::string cur;
    for (char c : text) {
        if (inString) {
            cur += c;
            if (c == quote)
                inString = false;
            continue;
        }
        if (c == '"' || c == '\'') {
            inString = true;
            quote = c;
        } else if (c == '(' || c == '[' || c == '{')
            ++depth;
        else if (c == ')' || c == ']' || c == '}')
            --depth;
        else if (c == sep && depth == 0) {
            out.push_back(trimWhitespace(cur));
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!trimWhitespace(cur).empty())
        out.push_back(trimWhitespace(cur));
    return out;
}

// Reads a `def` starting at lines[i] (its indentation `indent`): the signature may span
// lines until the ':' that closes it; the body is every following line indented deeper.
ScriptFunction readDef(const std::vector<std::string>& lines, size_t& i, size_t indent,
                       const std::string& qualifier, const std::string& owner,
                       const std::string& record)
{
    ScriptFunction f;
    f.file = record;
    f.owner = owner;
    f.firstLine = int(i) + 1;
    std::string header;
    size_t j = i;
    int depth = 0;
    for (; j < lines.size(); ++j) {
        header += (header.empty() ? "" : " ") + trimWhitespace(lines[j]);
        for (char c : lines[j])
            depth += (c == '(' || c == '[') - (c == ')' || c == ']');
        if (depth <= 0 && !header.empty() && header.back() == ':')
            break;
    }
    static const std::regex defRe(R"(^def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*(->\s*(.*))?:$)");
    std::smatch m;
    if (std::regex_match(header, m, defRe)) {
        f.name = m[1].str();
        f.params = parseParams(m[2].str());
        f.returnType = trimWhitespace(m[4].str());
    } else {
        f.name = header.substr(4, header.find('(') == std::string::npos ? 0 : header.find('(') - 4);
    }
    if (!owner.empty() && !f.params.empty() && f.params.front().name == "self")
        f.params.erase(f.params.begin());
    f.qualifiedName = (owner.empty() ? qualifier : owner) + "." + f.name;
    size_t last = j;
    for (size_t k = j + 1; k < lines.size(); ++k) {
        if (blank(lines[k]))
            continue;
        if (indentOf(lines[k]) <= indent)
            break;
        last = k;
    }
    f.lastLine = int(last) + 1;
    static const std::regex selfRe(R"((^|[^A-Za-z0-9_.])self\s*\.)");
    std::ostringstream src;
    for (size_t k = i; k <= last; ++k) {
        src << (lines[k].size() >= indent ? lines[k].substr(indent) : trimWhitespace(lines[k]))
            << "\n";
        if (k > j && std::regex_search(lines[k], selfRe))
            f.usesSelf = true;
    }
    f.source = src.str();
    i = last;
    return f;
}

std::vector<std::string> stringList(const std::string& text)
{
    std::vector<std::string> out;
    static const std::regex item("\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), item);
         it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1].str());
    return out;
}

} // namespace

std::string ScriptFunction::schema() const
{
    std::string s = name + "(";
    for (size_t i = 0; i < params.size(); ++i)
        s += (i ? ", " : "") + (params[i].type.empty() ? std::string("Tensor") : params[i].type) +
             " " + params[i].name;
    return s + ") -> " + (returnType.empty() ? "Tensor" : returnType);
}

std::vector<ScriptParam> parseParams(const std::string& text)
{
    std::vector<ScriptParam> out;
    for (const auto& part : splitTopLevel(text, ',')) {
        ScriptParam p;
        std::string rest = part;
        if (const auto eq = splitTopLevel(part, '='); eq.size() == 2) {
            rest = eq[0];
            p.defaultValue = eq[1];
        }
        const auto colon = rest.find(':');
        p.name = trimWhitespace(rest.substr(0, colon));
        if (colon != std::string::npos)
            p.type = trimWhitespace(rest.substr(colon + 1));
        if (!p.name.empty())
            out.push_back(p);
    }
    return out;
}

std::string qualifierOfRecord(const std::string& record)
{
    std::string r = record;
    if (r.rfind("code/", 0) == 0)
        r = r.substr(5);
    if (r.size() > 3 && r.compare(r.size() - 3, 3, ".py") == 0)
        r.resize(r.size() - 3);
    for (auto& c : r)
        if (c == '/')
            c = '.';
    return r;
}

ScriptCode parseScriptCode(const std::string& text, const std::string& record)
{
    std::vector<std::string> lines;
    {
        std::stringstream s(text);
        std::string line;
        while (std::getline(s, line))
            lines.push_back(line);
    }
    const std::string qualifier = qualifierOfRecord(record);
    ScriptCode code;
    static const std::regex classRe(R"(^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\((.*)\))?\s*:)");
    static const std::regex attrRe(R"(^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)(\s*=.*)?$)");
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (blank(line) || indentOf(line) != 0)
            continue;
        std::smatch m;
        if (line.rfind("def ", 0) == 0) {
            code.functions.push_back(readDef(lines, i, 0, qualifier, "", record));
        } else if (std::regex_search(line, m, classRe)) {
            ScriptClass c;
            c.name = m[1].str();
            c.qualifiedName = qualifier + "." + c.name;
            c.base = trimWhitespace(m[3].str());
            c.file = record;
            c.line = int(i) + 1;
            size_t k = i + 1;
            for (; k < lines.size(); ++k) {
                if (blank(lines[k]))
                    continue;
                const size_t ind = indentOf(lines[k]);
                if (ind == 0)
                    break;
                const std::string t = trimWhitespace(lines[k]);
                if (t.rfind("def ", 0) == 0) {
                    c.methods.push_back(readDef(lines, k, ind, qualifier, c.qualifiedName, record));
                } else if (t.rfind("__parameters__", 0) == 0) {
                    c.parameters = stringList(t);
                } else if (t.rfind("__buffers__", 0) == 0) {
                    c.buffers = stringList(t);
                } else if (std::regex_match(t, m, attrRe)) {
                    c.attributes.push_back({m[1].str(), trimWhitespace(m[2].str())});
                }
            }
            code.classes.push_back(c);
            i = k - 1;
        }
    }
    return code;
}

} // namespace bucketlab
