#include "core/package/neuron_recipe.h"

#include "core/kernel/kernel_source.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/output_file.h"
#include "core/util/text_template.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace bucketlab {
namespace {

using nlohmann::json;

constexpr const char* kConfigFile = "bucket_config.json";
constexpr const char* kKernelFile = "bucket_kernel.py";
constexpr const char* kBuildFile = "neuron_build.py";
constexpr const char* kReadmeFile = "README.md";

std::string inputSummary(const std::vector<InputSpec>& inputs)
{
    std::string out;
    for (const auto& in : inputs)
        out += (out.empty() ? "" : ", ") + in.name + " (" + dtypeName(in.dtype) +
               (in.bucketed ? ", pad " + scalarLiteral(in.dtype, in.padValue)
                            : ", not bucketed: [batch]") +
               ")";
    return out;
}

std::string stateSummary(const std::vector<StateSpec>& states)
{
    std::string out;
    for (const auto& st : states)
        out += (out.empty() ? "" : ", ") + formatStateSpec(st);
    return out;
}

json configJson(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    json j;
    j["format"] = kNeuronRecipeFormat;
    j["created_by"] = creatorString();
    j["created_at"] = utcNowIso8601();
    j["source_package"] = {{"file", src.sourcePackage}, {"sha256", src.sourceSha256}};
    j["kind"] = packageKindName(m.kind);
    j["boundaries"] = m.boundaries;
    j["bucket_dim"] = m.bucketDim;
    j["batch_dim"] = m.batchDim;
    j["padding_side"] = paddingSideName(m.paddingSide);
    j["kernel"] = src.userKernelSource.empty() ? json{{"generated", true}}
                                               : json{{"generated", false},
                                                      {"file", src.userKernelFile},
                                                      {"function", src.userKernelFunction},
                                                      {"constant_args", m.constantArgs}};
    j["batch_sizes"] = json::array({src.exampleBatch});
    j["inputs"] = json::array();
    for (const auto& in : m.inputs)
        j["inputs"].push_back({{"name", in.name},
                               {"dtype", dtypeName(in.dtype)},
                               {"pad_value", in.padValue},
                               {"fill_value", in.fillValue},
                               {"bucketed", in.bucketed}});
    j["states"] = json::array();
    for (const auto& st : m.states)
        j["states"].push_back({{"name", st.name},
                               {"dtype", dtypeName(st.dtype)},
                               {"shapes", st.shapes},
                               {"buffer_shape", stateBufferShape(st)}});
    // The guide's layout: shapes_collection[bucket][state] = shape.
    json collection = json::array();
    for (size_t k = 0; k < m.boundaries.size(); ++k) {
        json shapes = json::array();
        for (const auto& st : m.states)
            shapes.push_back(st.shapes[k]);
        collection.push_back(shapes);
    }
    j["shapes_collection"] = collection;
    // The model each bucket is traced from, where the package knows one.
    j["models"] = json::array();
    for (size_t k = 0; k < m.boundaries.size(); ++k) {
        const int64_t b = m.boundaries[k];
        json entry{{"bucket", b}, {"file", nullptr}, {"sha256", nullptr}};
        for (const auto& ref : m.models)
            if (m.kind == PackageKind::Shared || ref.bucket == b) {
                entry["file"] = ref.file;
                entry["sha256"] = ref.sha256;
            }
        j["models"].push_back(entry);
    }
    j["missing_models"] = src.missingModels;
    return j;
}

// The user's kernel as given, then the names neuron_build.py imports: bucket_kernel (the
// function) and bucket_kernel_constant_args() (what it takes after its inputs, as NxD's
// BucketModelConfig(bucket_kernel_constant_args=...) passes it).
std::string userKernelPython(const NeuronRecipeSource& src)
{
    std::ostringstream s;
    s << "# ---- " << src.userKernelFile << ", as given to BucketLab ----\n"
      << src.userKernelSource;
    if (!src.userKernelSource.empty() && src.userKernelSource.back() != '\n')
        s << "\n";
    s << "# ---- end of " << src.userKernelFile << " ----\n\n\n";
    if (src.userKernelFunction != "bucket_kernel")
        s << "bucket_kernel = " << src.userKernelFunction << "\n\n\n";
    s << "def bucket_kernel_constant_args():\n";
    if (src.meta.constantArgs.empty())
        s << "    return ()\n";
    else
        s << "    # Stored in the package (bucketlab_meta constant_args); its forward() passes "
             "them too.\n"
             "    return ("
          << src.meta.constantArgs << ",)\n";
    return s.str();
}

// bucket_kernel.py's comment header and imports (resources/neuron/bucket_kernel.py.in).
std::string kernelHeader(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    const std::string& text = neuronKernelTemplate();
    const bool states = !m.states.empty();
    std::string origin;
    if (!src.userKernelSource.empty())
        origin = " (" + src.userKernelFunction + " from " + src.userKernelFile + ")";
    if (states)
        origin += " and shared-state preprocessor";
    return fillTemplate(
        templateSection(text, "header"),
        {{"kernel_origin", origin},
         {"creator", creatorString()},
         {"source_package", src.sourcePackage},
         {"boundaries", m.boundaries.str()},
         {"bucket_dim", std::to_string(m.bucketDim)},
         {"inputs", inputSummary(m.inputs)},
         {"states_line", states ? fillTemplate(templateSection(text, "states_line"),
                                               {{"states", stateSummary(m.states)}})
                                : ""},
         {"states_note", states ? std::string(templateSection(text, "states_note")) : ""}});
}

std::string kernelPython(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    std::ostringstream s;
    s << kernelHeader(src);
    if (src.userKernelSource.empty()) {
        s << generateKernelSource(KernelLayout{m.boundaries, m.bucketDim, m.inputs, m.paddingSide},
                                  KernelForm::Function, "bucket_kernel");
        s << "\n\n"
             "def bucket_kernel_constant_args():\n"
             "    # The generated kernel takes its inputs only.\n"
             "    return ()\n";
    } else {
        s << userKernelPython(src);
    }
    s << "\n\n"
         "def get_bucket_kernel(*_):\n"
         "    # The length kernel alone, as the guide's BucketModelConfig(get_bucket_kernel) "
         "takes\n"
         "    # it; neuron_build.py wraps bucket_kernel with the routing by batch size.\n"
         "    return torch.jit.script(bucket_kernel)\n";
    if (!m.states.empty()) {
        s << "\n\n" << generateStatePreprocessorSource(KernelForm::Function, "state_preprocessor");
        s << "\n\n"
             "# The guide's shared_state_buffer_preprocessor. neuron_build.py does not use it: "
             "its\n"
             "# views are not contiguous for most state layouts, which the Neuron runtime cannot\n"
             "# bind; the bucket modules slice the whole buffers inside instead (README.md).\n"
             "def get_state_preprocessor(*_):\n"
             "    return torch.jit.script(state_preprocessor)\n";
    }
    return s.str();
}

// neuron_build.py: resources/neuron/neuron_build.py.in with this package's buckets, inputs
// and states in its docstring (the script reads the rest from bucket_config.json).
std::string buildPython(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    return fillTemplate(
        neuronBuildTemplate(),
        {{"creator", creatorString()},
         {"source_package", src.sourcePackage},
         {"boundaries", m.boundaries.str()},
         {"bucket_dim", std::to_string(m.bucketDim)},
         {"batch_dim", std::to_string(m.batchDim)},
         {"padding_side", paddingSideName(m.paddingSide)},
         {"inputs", inputSummary(m.inputs)},
         {"states", m.states.empty() ? std::string()
                                     : "Shared states: " + stateSummary(m.states) +
                                           "; each bucket module owns them as buffers and "
                                           "returns their updates (input_output_aliases).\n"}});
}

// The README's paragraphs that only some recipes have: a re-trace to do, shared states, the
// user's kernel.
std::string readmeNotes(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    const std::string& text = neuronReadmeNotesTemplate();
    std::string out;
    const size_t missing = src.missingModels.size();
    if (missing > 0)
        out += fillTemplate(templateSection(text, "retrace"),
                            {{"buckets", (missing == 1 ? "bucket " : "buckets ") +
                                             formatLengths(src.missingModels)},
                             {"those", missing == 1 ? "that length" : "those lengths"}});
    if (!m.states.empty())
        out += fillTemplate(
            templateSection(text, "states"),
            {{"states", stateSummary(m.states)}, {"state_count", std::to_string(m.states.size())}});
    if (!src.userKernelSource.empty()) {
        std::string_view clause = templateSection(text, "constant_args");
        clause.remove_suffix(1); // a clause inside the paragraph's line
        out += fillTemplate(
            templateSection(text, "user_kernel"),
            {{"function", src.userKernelFunction},
             {"file", src.userKernelFile},
             {"constant_args", m.constantArgs.empty()
                                   ? std::string(".")
                                   : fillTemplate(clause, {{"constant_args", m.constantArgs}})}});
    }
    return out;
}

// README.md: resources/neuron/README.md.in with this recipe's figures and notes.
std::string readme(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    const bool states = !m.states.empty();
    return fillTemplate(
        neuronReadmeTemplate(),
        {{"boundaries", m.boundaries.str()},
         {"creator", creatorString()},
         {"source_package", src.sourcePackage},
         {"bucket_dim", std::to_string(m.bucketDim)},
         {"batch_dim", std::to_string(m.batchDim)},
         {"padding_side", paddingSideName(m.paddingSide)},
         {"config_states", states ? ", state shapes per bucket" : ""},
         {"kernel_states", states ? ", `state_preprocessor` and `get_state_preprocessor()`" : ""},
         {"example_batch", std::to_string(src.exampleBatch)},
         {"notes", readmeNotes(src)},
         {"example_inputs", m.inputs.size() > 1
                                ? " for _ in range(" + std::to_string(m.inputs.size()) + ")]"
                                : "]"}});
}

} // namespace

std::vector<std::string> neuronRecipeFileNames()
{
    return {kConfigFile, kKernelFile, kBuildFile, kReadmeFile};
}

std::vector<NeuronRecipeFile> generateNeuronRecipe(const NeuronRecipeSource& source)
{
    if (source.meta.boundaries.empty())
        throw Error("a recipe needs at least one bucket");
    checkInputSpecs(source.meta.inputs);
    checkStateSpecs(source.meta.states, source.meta.boundaries, source.meta.inputs);
    if (source.exampleBatch < 1)
        throw Error("recipe batch size " + std::to_string(source.exampleBatch) +
                    " must be at least 1");
    return {{kConfigFile, configJson(source).dump(2) + "\n"},
            {kKernelFile, kernelPython(source)},
            {kBuildFile, buildPython(source)},
            {kReadmeFile, readme(source)}};
}

void checkNeuronRecipeDir(const std::string& dir, bool force)
{
    const std::string what = subject(Field::NeuronRecipe);
    if (dir.empty())
        throw Error(what + " is empty: give the directory to write the recipe to");
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec))
            throw Error(what + " " + dir + " is a file; give a directory");
        for (const auto& name : neuronRecipeFileNames())
            checkOutputPath((fs::path(dir) / name).string(), OutputCheck{force, {}},
                            Field::NeuronRecipe);
        return;
    }
    const fs::path parent = fs::absolute(fs::path(dir)).parent_path();
    if (!fs::is_directory(parent, ec))
        throw Error(what + " " + dir + ": directory " + parent.string() + " does not exist");
    if (::access(parent.c_str(), W_OK) != 0)
        throw Error(what + " " + dir + ": cannot create it in " + parent.string() +
                    " (permission denied)");
}

std::vector<std::string> writeNeuronRecipe(const std::vector<NeuronRecipeFile>& files,
                                           const std::string& dir, bool force)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec) && !fs::create_directory(dir, ec))
        throw Error(dir + ": cannot create the Neuron recipe folder (" + ec.message() + ")");
    std::vector<std::string> written;
    for (const auto& f : files) {
        const std::string path = (fs::path(dir) / f.name).string();
        writeFileAtomically(path, f.content, force);
        written.push_back(path);
    }
    return written;
}

} // namespace bucketlab
