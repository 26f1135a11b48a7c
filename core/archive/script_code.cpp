#include "core/archive/script_code.h"
#include "core/util/text.h"

#include <algorithm>
#include <optional>
#include <sstream>

// The code comes from the file, so it is read with small scanners rather than std::regex,
// whose libstdc++ matcher recurses once per character (a long line would overflow the
// stack). Each scanner below says which pattern it reads.

namespace bucketlab {
namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool isIdentifierStart(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool isIdentifierChar(char c)
{
    return isIdentifierStart(c) || (c >= '0' && c <= '9');
}

size_t skipSpaces(const std::string& s, size_t i)
{
    while (i < s.size() && isSpace(s[i]))
        ++i;
    return i;
}

// The end of the identifier starting at i, or i when none starts there.
size_t identifierEnd(const std::string& s, size_t i)
{
    if (i >= s.size() || !isIdentifierStart(s[i]))
        return i;
    while (i < s.size() && isIdentifierChar(s[i]))
        ++i;
    return i;
}

struct DefHeader {
    std::string name, params, returnType;
};

// `def NAME(PARAMS) -> RETURN:` as ^def\s+(\w+)\s*\((.*)\)\s*(->\s*(.*))?:$ reads it:
// PARAMS runs to the last ')' that only spaces or `-> RETURN` follow.
std::optional<DefHeader> parseDefHeader(const std::string& h)
{
    if (h.compare(0, 3, "def") != 0 || h.size() < 4 || !isSpace(h[3]) || h.back() != ':')
        return std::nullopt;
    const size_t nameStart = skipSpaces(h, 3), nameEnd = identifierEnd(h, nameStart);
    const size_t open = skipSpaces(h, nameEnd);
    if (nameEnd == nameStart || open >= h.size() || h[open] != '(')
        return std::nullopt;
    const size_t colon = h.size() - 1;
    for (size_t close = colon; close-- > open + 1;) {
        if (h[close] != ')')
            continue;
        const size_t k = skipSpaces(h, close + 1);
        if (k < colon && h.compare(k, 2, "->") != 0)
            continue;
        DefHeader d{h.substr(nameStart, nameEnd - nameStart), h.substr(open + 1, close - open - 1),
                    ""};
        if (k < colon) {
            const size_t r = std::min(skipSpaces(h, k + 2), colon);
            d.returnType = h.substr(r, colon - r);
        }
        return d;
    }
    return std::nullopt;
}

struct ClassHeader {
    std::string name, base;
};

// `class NAME(BASE):` as ^class\s+(\w+)\s*(\((.*)\))?\s*: finds it at a line's start: BASE
// runs to the last ')' that a ':' follows.
std::optional<ClassHeader> parseClassHeader(const std::string& line)
{
    if (line.compare(0, 5, "class") != 0 || line.size() < 6 || !isSpace(line[5]))
        return std::nullopt;
    const size_t nameStart = skipSpaces(line, 5), nameEnd = identifierEnd(line, nameStart);
    if (nameEnd == nameStart)
        return std::nullopt;
    ClassHeader c{line.substr(nameStart, nameEnd - nameStart), ""};
    const size_t i = skipSpaces(line, nameEnd);
    if (i < line.size() && line[i] == ':')
        return c;
    if (i >= line.size() || line[i] != '(')
        return std::nullopt;
    for (size_t close = line.size(); close-- > i + 1;) {
        if (line[close] != ')')
            continue;
        const size_t k = skipSpaces(line, close + 1);
        if (k < line.size() && line[k] == ':') {
            c.base = line.substr(i + 1, close - i - 1);
            return c;
        }
    }
    return std::nullopt;
}

// `NAME: TYPE` or `NAME: TYPE = VALUE` (a class attribute annotation), as
// ^(\w+)\s*:\s*(.+?)(\s*=.*)?$ reads a trimmed line: TYPE ends at the first '='.
std::optional<std::pair<std::string, std::string>> parseAttribute(const std::string& t)
{
    const size_t nameEnd = identifierEnd(t, 0);
    const size_t colon = skipSpaces(t, nameEnd);
    if (nameEnd == 0 || colon >= t.size() || t[colon] != ':')
        return std::nullopt;
    const size_t type = skipSpaces(t, colon + 1);
    if (type >= t.size())
        return std::nullopt;
    const size_t eq = t.find('=', type + 1);
    return std::make_pair(t.substr(0, nameEnd),
                          t.substr(type, eq == std::string::npos ? std::string::npos : eq - type));
}

// `self.` or `self .` not preceded by a name character or a dot.
bool readsSelf(const std::string& line)
{
    for (size_t at = line.find("self"); at != std::string::npos; at = line.find("self", at + 1)) {
        if (at > 0 && (isIdentifierChar(line[at - 1]) || line[at - 1] == '.'))
            continue;
        const size_t k = skipSpaces(line, at + 4);
        if (k < line.size() && line[k] == '.')
            return true;
    }
    return false;
}

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
    if (j == lines.size())
        j = lines.size() - 1; // a signature that never closes runs to the end of the file
    if (const auto d = parseDefHeader(header)) {
        f.name = d->name;
        f.params = parseParams(d->params);
        f.returnType = trimWhitespace(d->returnType);
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
    std::ostringstream src;
    for (size_t k = i; k <= last; ++k) {
        src << (lines[k].size() >= indent ? lines[k].substr(indent) : trimWhitespace(lines[k]))
            << "\n";
        if (k > j && readsSelf(lines[k]))
            f.usesSelf = true;
    }
    f.source = src.str();
    i = last;
    return f;
}

std::vector<std::string> stringList(const std::string& text)
{
    // Every "..." in the text, as "([^"]*)" finds them.
    std::vector<std::string> out;
    for (size_t open = text.find('"'); open != std::string::npos;) {
        const size_t close = text.find('"', open + 1);
        if (close == std::string::npos)
            break;
        out.push_back(text.substr(open + 1, close - open - 1));
        open = text.find('"', close + 1);
    }
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
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (blank(line) || indentOf(line) != 0)
            continue;
        if (line.rfind("def ", 0) == 0) {
            code.functions.push_back(readDef(lines, i, 0, qualifier, "", record));
        } else if (const auto header = parseClassHeader(line)) {
            ScriptClass c;
            c.name = header->name;
            c.qualifiedName = qualifier + "." + c.name;
            c.base = trimWhitespace(header->base);
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
                } else if (const auto a = parseAttribute(t)) {
                    c.attributes.push_back({a->first, trimWhitespace(a->second)});
                }
            }
            code.classes.push_back(c);
            i = k - 1;
        }
    }
    return code;
}

} // namespace bucketlab
