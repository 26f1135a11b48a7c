#include "core/project/project.h"

#include "core/spec/package_meta.h"
#include "core/util/error.h"
#include "core/util/output_file.h"
#include "core/util/text.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace fs = std::filesystem;

namespace bucketlab {

using nlohmann::json;

namespace {

// A source is a file when it has no scheme-like "kind:" prefix of a synthetic or analytic
// spec (lognormal:..., linear:...). Windows drive letters do not occur here.
bool looksLikeSpec(const std::string& source)
{
    const auto colon = source.find(':');
    if (colon == std::string::npos || colon == 0)
        return false;
    for (size_t i = 0; i < colon; ++i)
        if (!std::isalpha(static_cast<unsigned char>(source[i])))
            return false;
    return !fs::exists(source);
}

std::string relativeTo(const std::string& path, const std::string& projectPath)
{
    if (path.empty() || looksLikeSpec(path))
        return path;
    const fs::path base = fs::absolute(fs::path(projectPath)).parent_path();
    const fs::path abs = fs::absolute(fs::path(path)).lexically_normal();
    const fs::path rel = abs.lexically_relative(base);
    if (!rel.empty() && rel.native().rfind("..", 0) != 0)
        return rel.string();
    return abs.string();
}

std::string resolve(const std::string& path, const std::string& projectPath)
{
    if (path.empty() || looksLikeSpec(path) || fs::path(path).is_absolute())
        return path;
    const fs::path base = fs::absolute(fs::path(projectPath)).parent_path();
    return (base / path).lexically_normal().string();
}

} // namespace

DistributionOptions distributionOptionsOf(const DistributionSource& source)
{
    DistributionOptions o;
    const auto option = [&](const char* name) {
        const auto it = source.options.find(name);
        return it == source.options.end() ? std::string() : it->second;
    };
    o.column = option("column");
    o.field = option("field");
    o.vocab = option("vocab");
    const std::string columns = option("text_columns");
    for (size_t start = 0; !columns.empty() && start <= columns.size();) {
        const size_t comma = columns.find(',', start);
        o.textColumns.push_back(columns.substr(start, comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    const std::string lowercase = option("lowercase");
    o.lowercase = lowercase == "true" || lowercase == "1";
    return o;
}

nlohmann::json projectJson(const Project& p)
{
    json j;
    j["format"] = kProjectFormat;
    j["model"] = relativeTo(p.model, p.path);
    j["inputs"] = p.inputs;
    j["distributions"] = json::array();
    for (const auto& d : p.distributions) {
        json o = d.options;
        for (const char* fileOption : {"vocab"})
            if (o.contains(fileOption))
                o[fileOption] = relativeTo(o[fileOption].get<std::string>(), p.path);
        j["distributions"].push_back(
            {{"name", d.name}, {"source", relativeTo(d.source, p.path)}, {"options", o}});
    }
    j["latencies"] = json::array();
    for (const auto& l : p.latencies)
        j["latencies"].push_back({{"name", l.name}, {"source", relativeTo(l.source, p.path)}});
    j["boundary_sets"] = json::array();
    for (const auto& b : p.boundarySets)
        j["boundary_sets"].push_back(
            {{"name", b.name}, {"kind", b.kind}, {"boundaries", b.boundaries}});
    j["active_boundary_set"] = p.activeBoundarySet;
    j["notes"] = p.notes;
    j["created_by"] = creatorString();
    return j;
}

Project projectFromJson(const std::string& text, const std::string& projectPath)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) { // parse_error, or out_of_range (1e400)
        throw Error(projectPath + ": not valid JSON (" + libraryMessage(e.what()) + ")");
    }
    // (value() would throw nlohmann's type_error for a "format" that is not a string.)
    if (!j.is_object() || !j.contains("format") || j["format"] != kProjectFormat)
        throw Error(projectPath + ": not a BucketLab project (expected \"format\": \"" +
                    kProjectFormat + "\")");
    Project p;
    p.path = projectPath;
    try {
        p.model = resolve(j.value("model", std::string()), projectPath);
        p.inputs = j.value("inputs", std::string());
        const json distributions = j.value("distributions", json::array());
        const json latencies = j.value("latencies", json::array());
        const json boundarySets = j.value("boundary_sets", json::array());
        for (const auto& d : distributions) {
            DistributionSource s;
            s.name = d.value("name", std::string());
            s.source = resolve(d.at("source").get<std::string>(), projectPath);
            const json options = d.value("options", json::object());
            for (const auto& [k, v] : options.items())
                s.options[k] = k == "vocab" ? resolve(v.get<std::string>(), projectPath)
                                            : (v.is_string() ? v.get<std::string>() : v.dump());
            p.distributions.push_back(s);
        }
        for (const auto& l : latencies)
            p.latencies.push_back({l.value("name", std::string()),
                                   resolve(l.at("source").get<std::string>(), projectPath)});
        for (const auto& b : boundarySets) {
            BoundarySet s;
            s.name = b.at("name").get<std::string>();
            s.kind = b.value("kind", std::string("user"));
            for (const auto& v : b.at("boundaries")) // nlohmann casts 3e20 to int64 (UB)
                if (!v.is_number_integer() ||
                    (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
                    throw Error(projectPath + ": boundary set " + quote(s.name) +
                                ": boundaries must be whole numbers");
            s.boundaries = Boundaries::from(b.at("boundaries").get<std::vector<int64_t>>(),
                                            projectPath + ": boundary set " + quote(s.name));
            p.boundarySets.push_back(s);
        }
        p.activeBoundarySet = j.value("active_boundary_set", std::string());
        p.notes = j.value("notes", std::string());
    } catch (const json::exception& e) {
        throw Error(projectPath + ": malformed project (" + libraryMessage(e.what()) + ")");
    }
    return p;
}

Project readProject(const std::string& path)
{
    return projectFromJson(readFile(path, kMaxSourceBytes, "a project file"), path);
}

void writeProject(const Project& project, const std::string& path)
{
    Project p = project;
    p.path = path;
    writeFileAtomically(path, projectJson(p).dump(2) + "\n", /*replace=*/true);
}

namespace {

// Calls visit(what, path) for each file the project names (specs that are not paths skipped).
template <typename Visit> void forEachProjectFile(const Project& p, Visit visit)
{
    auto file = [&](const std::string& what, const std::string& path) {
        if (!path.empty() && !looksLikeSpec(path))
            visit(what, path);
    };
    file("model", p.model);
    for (const auto& d : p.distributions) {
        file("distribution " + quote(d.name) + "", d.source);
        if (auto it = d.options.find("vocab"); it != d.options.end())
            file("vocabulary of " + quote(d.name) + "", it->second);
    }
    for (const auto& l : p.latencies)
        file("latency " + quote(l.name) + "", l.source);
}

} // namespace

std::vector<std::string> missingProjectFiles(const Project& p)
{
    std::vector<std::string> missing;
    forEachProjectFile(p, [&](const std::string& what, const std::string& path) {
        if (!fs::exists(path))
            missing.push_back(what + ": " + path);
    });
    return missing;
}

std::vector<std::string> outsideProjectFiles(const Project& p)
{
    std::vector<std::string> outside;
    std::error_code error;
    const fs::path folder =
        fs::weakly_canonical(fs::absolute(fs::path(p.path)).parent_path(), error);
    forEachProjectFile(p, [&](const std::string& what, const std::string& path) {
        std::error_code e;
        // Symbolic links resolved: a link inside the folder to a file outside it is outside.
        const fs::path real = fs::weakly_canonical(fs::absolute(fs::path(path)), e);
        const fs::path rel =
            (e ? fs::absolute(fs::path(path)).lexically_normal() : real).lexically_relative(folder);
        if (error || rel.empty() || *rel.begin() == "..")
            outside.push_back(what + ": " + path);
    });
    return outside;
}

} // namespace bucketlab
