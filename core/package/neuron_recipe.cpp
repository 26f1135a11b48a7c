#include "core/package/neuron_recipe.h"

#include "core/kernel/kernel_source.h"
#include "core/util/error.h"
#include "core/util/format.h"
#include "core/util/output_file.h"

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

std::string kernelPython(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    std::ostringstream s;
    s << "# bucket_kernel.py: the bucket kernel";
    if (!src.userKernelSource.empty())
        s << " (" << src.userKernelFunction << " from " << src.userKernelFile << ")";
    if (!m.states.empty())
        s << " and shared-state preprocessor";
    s << " for torch_neuronx autobucketing.\n";
    s << "# Generated by " << creatorString() << " from " << src.sourcePackage << ": buckets "
      << m.boundaries.str() << " on dimension " << m.bucketDim << ".\n";
    s << "# Inputs: " << inputSummary(m.inputs) << ".\n";
    if (!m.states.empty())
        s << "# States: " << stateSummary(m.states) << " (NAME:DTYPE:shape per bucket).\n";
    s << "#\n"
         "# Written for torch.jit.script as the autobucketing guide advises: annotated lists,\n"
         "# constant indices only, no variable initialised from a literal and changed later.\n"
         "# Lengths above the largest bucket raise instead of falling through.\n";
    if (!m.states.empty())
        s << "# The state preprocessor walks buckets and states with enumerated loops instead of\n"
             "# indexing with a variable, and calls aten::Int and aten::slice directly.\n";
    s << "import torch\n"
         "from torch import Tensor\n"
         "from typing import List, Optional, Tuple\n\n\n";
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

std::string buildPython(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    std::ostringstream s;
    s << "#!/usr/bin/env python3\n";
    s << "\"\"\"Compile the bucket model for AWS Neuron with torch_neuronx autobucketing.\n\n";
    s << "Generated by " << creatorString() << " from " << src.sourcePackage << ".\n";
    s << "Buckets " << m.boundaries.str() << " on dimension " << m.bucketDim << " (batch dimension "
      << m.batchDim << "), padding on the " << paddingSideName(m.paddingSide) << "; inputs "
      << inputSummary(m.inputs) << ".\n";
    if (!m.states.empty())
        s << "Shared states: " << stateSummary(m.states)
          << "; each bucket module owns them as buffers and returns their updates "
             "(input_output_aliases).\n";
    s << "\nRun it on a Neuron instance (inf2, trn1, trn2) with torch-neuronx installed:\n\n"
         "    python3 neuron_build.py --model model.pt --out model.neuron.pt\n"
         "    python3 neuron_build.py --model 128=m128.pt --model 512=m512.pt --out "
         "model.neuron.pt\n"
         "    python3 neuron_build.py --model model.pt --batch-sizes 1,2,4 --out "
         "model.neuron.pt\n\n"
         "One bucket is compiled per batch size and length; a call is routed to the bucket of its\n"
         "batch size and length (a batch size that was not compiled raises). To use your own\n"
         "model factory instead of a TorchScript file, edit load_model() (PLUG IN YOUR MODEL).\n"
         "\"\"\"\n";
    s << R"PY(import argparse
import functools
import json
import linecache
import os
import sys
from typing import Dict, List, Optional, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bucket_kernel import bucket_kernel, bucket_kernel_constant_args  # noqa: E402

with open(os.path.join(HERE, "bucket_config.json")) as config_file:
    CONFIG = json.load(config_file)

BOUNDARIES: List[int] = CONFIG["boundaries"]
STATES = CONFIG["states"]
# What the kernel takes after its inputs (NxD's bucket_kernel_constant_args); () for a
# generated kernel.
CONSTANT_ARGS = bucket_kernel_constant_args()
DTYPES = {
    "int64": torch.int64,
    "int32": torch.int32,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bool": torch.bool,
}


# ============================== PLUG IN YOUR MODEL ==============================
# load_model() returns the CPU model of bucket BOUNDARIES[bucket_rank] as BucketLab's
# package calls it: forward(<inputs padded to the bucket>[, <the bucket's view of each
# state>]), with states written in place. By default it loads the TorchScript file given
# with --model. Replace the body with your own factory when you have the Python model, e.g.
#     model = AutoModelForSequenceClassification.from_pretrained(NAME, torchscript=True)
#     return model.eval()
# Models traced at a fixed length (one file per bucket, e.g. HuggingFace models traced with
# torchscript=True) cannot serve another length: build those buckets from the Python model.
# The host calls get_model() in worker processes: everything it needs comes through its
# arguments (func_kwargs), never from globals set in main().
def load_model(bucket_rank: int, model_file: Optional[str]):
    if model_file is None:
        length = BOUNDARIES[bucket_rank]
        raise SystemExit(
            f"neuron_build.py: no model for bucket {length}: pass --model FILE (one model for "
            f"every bucket) or --model {length}=FILE, or put your model factory into load_model()"
        )
    model = torch.jit.load(model_file)
    model.eval()
    return model
# ================================================================================


def example_inputs(length: int, batch: int):
    """One example input per bucket: every bucketed input at [batch, length], an input that is
    not bucketed at [batch], filled as BucketLab fills."""
    batch_dim, bucket_dim = CONFIG["batch_dim"], CONFIG["bucket_dim"]
    shape = [1] * (max(batch_dim, bucket_dim) + 1)
    shape[batch_dim] = batch
    shape[bucket_dim] = length
    return tuple(
        torch.full(shape if spec.get("bucketed", True) else [batch], spec["fill_value"],
                   dtype=DTYPES[spec["dtype"]])
        for spec in CONFIG["inputs"]
    )


class StatefulBucket(torch.nn.Module):
    """One bucket of a model with shared states, laid out as NxD lays out its KV cache.

    The module owns every state as a registered buffer at the shared (largest) shape, so the
    tensor the Neuron runtime binds is the whole, contiguous buffer. forward() slices the
    bucket's view inside the model (the trailing shape[d] entries of every dimension d, as
    BucketLab's package does), runs the CPU model on the views, which writes them in place,
    and returns the model's outputs followed by every whole buffer; input_output_aliases maps
    each buffer to that output, so the runtime writes the update back to the shared state.
    """

    def __init__(self, model: torch.nn.Module, bucket_rank: int):
        super().__init__()
        self.model = model
        self.names = ["state_" + state["name"] for state in STATES]
        self.shapes = [state["shapes"][bucket_rank] for state in STATES]
        for name, state in zip(self.names, STATES):
            self.register_buffer(name, torch.zeros(state["buffer_shape"], dtype=DTYPES[state["dtype"]]))

    def forward(self, *inputs):
        views = []
        for name, shape in zip(self.names, self.shapes):
            view = getattr(self, name)
            for dim, size in enumerate(shape):
                view = view.narrow(dim, view.size(dim) - size, size)
            views.append(view)
        out = self.model(*inputs, *views)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(outs) + tuple(getattr(self, name) for name in self.names)


def get_model(bucket_rank: int = 0, batch_size: int = 1, model_file: Optional[str] = None):
    """bucket_model_trace calls this once per compiled bucket with that bucket's func_kwargs
    and compiles what it returns, (module, input_output_aliases), for inputs of length
    BOUNDARIES[bucket_rank] and batch batch_size."""
    model = load_model(bucket_rank, model_file)
    if not STATES:
        return model, {}
    bucket = StatefulBucket(model, bucket_rank)
    bucket.eval()
    # The aliased outputs follow the model's own: count those on one CPU call, then zero the
    # buffers again (their values on the device come from shared_state_buffer).
    with torch.no_grad():
        outputs = bucket(*example_inputs(BOUNDARIES[bucket_rank], batch_size))
    for name in bucket.names:
        getattr(bucket, name).zero_()
    first = len(outputs) - len(bucket.names)
    aliases = {getattr(bucket, name): first + i for i, name in enumerate(bucket.names)}
    return bucket, aliases


def script_type(value) -> str:
    """The TorchScript annotation of one constant argument."""
    if isinstance(value, torch.Tensor):
        return "torch.Tensor"
    for kind in (bool, int, float, str):  # bool first: True is an int too
        if isinstance(value, kind):
            return kind.__name__
    raise SystemExit(f"neuron_build.py: constant argument {value!r} of type {type(value).__name__} "
                     "is not a Tensor, bool, int, float or str")


def get_bucket_kernel(batch_sizes: Tuple[int, ...], *_):
    """BucketModelConfig calls this for the kernel: the package's bucket kernel (length), then
    the batch: compiled bucket index = position of the batch in batch_sizes * len(BOUNDARIES)
    + length bucket. A batch that was not compiled raises, naming the compiled sizes."""
    reference = next(i for i, spec in enumerate(CONFIG["inputs"]) if spec.get("bucketed", True))
    name = "batch_bucket_kernel_" + "_".join(str(size) for size in batch_sizes)
    # The constant arguments pass through: the host calls kernel(inputs, *CONSTANT_ARGS).
    params = "".join(f", c{i}: {script_type(value)}" for i, value in enumerate(CONSTANT_ARGS))
    args = "".join(f", c{i}" for i in range(len(CONSTANT_ARGS)))
    source = (
        f"def {name}(inputs: List[torch.Tensor]{params}) -> Tuple[List[torch.Tensor], torch.Tensor]:\n"
        f"    padded, index = bucket_kernel(inputs{args})\n"
        f"    batch = padded[{reference}].size({CONFIG['batch_dim']})\n"
        f"    for position, size in enumerate({list(batch_sizes)!r}):\n"
        "        if batch == size:\n"
        f"            return padded, index + position * {len(BOUNDARIES)}\n"
        "    raise Exception(\"bucketlab: batch \" + str(batch) + \" was not compiled (batch sizes "
        f"{', '.join(map(str, batch_sizes))})\")\n"
    )
    # torch.jit.script reads a function's source through linecache.
    filename = f"<neuron_build {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = {"__name__": __name__, "torch": torch, "List": List, "Tuple": Tuple,
             "bucket_kernel": bucket_kernel}
    exec(compile(source, filename, "exec"), scope)
    return torch.jit.script(scope[name])


def parse_model_args(items) -> Dict[int, str]:
    files: Dict[int, str] = {}
    for item in items:
        length, sep, path = item.partition("=")
        if sep:
            if not length.isdigit() or int(length) not in BOUNDARIES:
                raise SystemExit(f"neuron_build.py: --model {item}: {length} is not a bucket ({BOUNDARIES})")
            files[int(length)] = path
        else:
            files[0] = item
    return files


def parse_batch_sizes(text: str) -> Tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(size < 1 for size in sizes) or len(set(sizes)) != len(sizes):
        raise SystemExit(f"neuron_build.py: --batch-sizes {text}: give distinct positive batch sizes, e.g. 1,2")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[],
                        help="TorchScript model for every bucket, or LENGTH=FILE for one bucket")
    parser.add_argument("--out", default="model.neuron.pt", help="where to save the compiled model")
    parser.add_argument("--batch-sizes", default=",".join(map(str, CONFIG["batch_sizes"])),
                        help="batch sizes to compile, comma-separated; a call is routed to its own")
    args = parser.parse_args(argv)
    files = parse_model_args(args.model)
    batch_sizes = parse_batch_sizes(args.batch_sizes)
    try:
        import torch_neuronx
    except ImportError:
        raise SystemExit(
            "neuron_build.py: torch_neuronx is not installed; run this on a Neuron instance "
            "(inf2, trn1, trn2) with the AWS Neuron SDK"
        )
    # One compiled bucket per (batch size, length): bucket index = batch position * K + length.
    func_kwargs, examples = [], []
    for batch in batch_sizes:
        for rank, length in enumerate(BOUNDARIES):
            func_kwargs.append({"bucket_rank": rank, "batch_size": batch,
                                "model_file": files.get(length, files.get(0))})
            examples.append(example_inputs(length, batch))
    config_kwargs = {"func_kwargs": func_kwargs}
    if STATES:
        # NxD's path: the whole buffers, contiguous, shared by every bucket; each bucket model
        # slices its view inside (no shared_state_buffer_preprocessor, see README.md).
        config_kwargs["shared_state_buffer"] = [
            torch.zeros(state["buffer_shape"], dtype=DTYPES[state["dtype"]]) for state in STATES
        ]
    if CONSTANT_ARGS:
        config_kwargs["bucket_kernel_constant_args"] = CONSTANT_ARGS
    bucket_config = torch_neuronx.BucketModelConfig(
        functools.partial(get_bucket_kernel, batch_sizes), **config_kwargs)
    model = torch_neuronx.bucket_model_trace(get_model, examples, bucket_config)
    torch.jit.save(model, args.out)
    print(f"wrote {args.out}: buckets {BOUNDARIES} x batch sizes {list(batch_sizes)}")


if __name__ == "__main__":
    main()
)PY";
    return s.str();
}

std::string readme(const NeuronRecipeSource& src)
{
    const auto& m = src.meta;
    std::ostringstream s;
    s << "# Neuron build recipe: buckets " << m.boundaries.str() << "\n\n";
    s << "Generated by " << creatorString() << " from `" << src.sourcePackage
      << "`. It compiles the model for AWS Neuron with `torch_neuronx` autobucketing "
         "(`BucketModelConfig` + `bucket_model_trace`), one compiled bucket per boundary and "
         "batch size.\n\n";
    s << "| file | what |\n|---|---|\n";
    s << "| `bucket_config.json` | boundaries, bucket dimension " << m.bucketDim
      << ", batch dimension " << m.batchDim << ", padding on the " << paddingSideName(m.paddingSide)
      << ", inputs (dtype, pad value)" << (m.states.empty() ? "" : ", state shapes per bucket")
      << ", model per bucket |\n";
    s << "| `bucket_kernel.py` | the bucket kernel as `torch.jit.script`-able Python, "
         "`get_bucket_kernel()`"
      << (m.states.empty() ? "" : ", `state_preprocessor` and `get_state_preprocessor()`")
      << " |\n";
    s << "| `neuron_build.py` | calls `torch_neuronx.bucket_model_trace` with one example input "
         "per bucket and batch size |\n\n";
    s << "On a Neuron instance (inf2, trn1, trn2) with `torch-neuronx`:\n\n"
         "```sh\n"
         "python3 neuron_build.py --model model.pt --out model.neuron.pt             # one model "
         "for every bucket\n"
         "python3 neuron_build.py --model 128=m128.pt --model 512=m512.pt ...        # one model "
         "per bucket\n"
         "python3 neuron_build.py --model model.pt --batch-sizes 1,2,4 ...            # batch "
         "sizes to compile\n"
         "```\n\n";
    s << "`load_model()` in `neuron_build.py` (marked **PLUG IN YOUR MODEL**) is where your "
         "model factory goes: by default it loads the TorchScript file given with `--model`. "
         "Models traced at a fixed length cannot serve another length; build those buckets "
         "from the Python model there. `bucket_model_trace` calls `get_model(**func_kwargs[k])` "
         "once per compiled bucket, in worker processes on a Neuron host: all it needs comes "
         "through `func_kwargs` (`bucket_rank`, `batch_size`, `model_file`).\n\n";
    s << "**Batch.** One bucket is compiled per batch size and length (`--batch-sizes`, default "
      << src.exampleBatch
      << "): compiled bucket `j * K + k` serves the `j`-th batch size at the `k`-th of the K "
         "lengths. The kernel that `neuron_build.py` passes to `BucketModelConfig` runs "
         "`bucket_kernel` and then routes by batch size; a call at a batch size that was not "
         "compiled raises, naming the compiled ones. Batches are never padded: padded rows "
         "would change a state that mixes rows (a mean over the batch).\n\n";
    if (!src.missingModels.empty())
        s << "**Re-trace needed:** the source package has no model for bucket"
          << (src.missingModels.size() == 1 ? " " : "s ") << formatLengths(src.missingModels)
          << ". Trace your Python model at "
          << (src.missingModels.size() == 1 ? "that length" : "those lengths")
          << " (or let `load_model()` build it) before compiling.\n\n";
    if (!m.states.empty())
        s << "**Shared states** (" << stateSummary(m.states)
          << "). On Neuron a state is a module buffer that the model updates and returns, "
             "marked in `input_output_aliases` as `{buffer: output index}`. BucketLab's CPU "
             "package instead passes each bucket a view of the shared buffer (the trailing "
             "`shape[d]` entries of every dimension `d`, the guide's preprocessor). Those views "
             "are not contiguous unless every dimension before the sliced one is 1 (a "
             "`[batch, heads, length, dim]` KV cache sliced on length is not), and the Neuron "
             "runtime cannot hand a bucket a non-contiguous slice of a shared tensor; NxD "
             "Inference therefore passes no `shared_state_buffer_preprocessor` and slices the KV "
             "cache inside the model. `neuron_build.py` does the same for every state: "
             "`shared_state_buffer` holds the whole zero buffers (contiguous), each bucket "
             "module (`StatefulBucket`) owns them as registered buffers at that shape, slices "
             "its view inside `forward()`, runs the model on the views, and returns the model's "
             "outputs followed by every whole buffer, which `get_model()` aliases. The compiled "
             "model's outputs are therefore the model's own followed by one per state "
             "("
          << m.states.size()
          << " here). `get_state_preprocessor()` stays in `bucket_kernel.py` for the guide's "
             "path, unused.\n\n";
    if (!src.userKernelSource.empty())
        s << "**Your kernel.** `bucket_kernel.py` carries `" << src.userKernelFunction << "` from `"
          << src.userKernelFile
          << "` as the package was built with it (BucketLab validated it at every length first)"
          << (m.constantArgs.empty()
                  ? std::string(".")
                  : "; `neuron_build.py` passes `bucket_kernel_constant_args=(" + m.constantArgs +
                        ",)` to `BucketModelConfig`, as the package's `forward()` does, and the "
                        "batch routing hands them on.")
          << "\n\n";
    s << "Check the kernel on any machine with PyTorch:\n\n"
         "```python\n"
         "import torch, bucket_kernel\n"
         "k = bucket_kernel.get_bucket_kernel()\n"
         "padded, bucket = k([torch.ones(1, 5, dtype=torch.int64)"
      << (m.inputs.size() > 1 ? " for _ in range(" + std::to_string(m.inputs.size()) + ")]" : "]")
      << ", *bucket_kernel.bucket_kernel_constant_args())\n"
         "print(k.graph)  # the lowered graph the guide asks you to review\n"
         "```\n";
    return s.str();
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
