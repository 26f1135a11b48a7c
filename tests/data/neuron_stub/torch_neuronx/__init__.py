"""A stand-in for torch_neuronx's autobucketing API, for tests on machines without Neuron.

Written from the API reference (torch_neuronx.BucketModelConfig and
torch_neuronx.bucket_model_trace, in the torch-neuronx inference API guide) and the
autobucketing developer guide, not from BucketLab's recipe. It enforces what a Neuron host
enforces and "compiles" by torch.jit.trace on the CPU:

- BucketModelConfig(bucket_kernel, *, shared_state_buffer=None,
  shared_state_buffer_preprocessor=None, func_kwargs=None) (plus bucket_kernel_constant_args,
  which NxD passes to newer releases); anything else is a TypeError. bucket_kernel and the
  preprocessor are factories that must return torch.jit.script functions.
- bucket_model_trace(func, example_inputs, bucket_config, compiler_workdir=None,
  compiler_args=None): func must be picklable (the host calls it inside worker processes),
  func_kwargs a dict or one dict per bucket; func(**func_kwargs[k]) is called exactly once per
  bucket and must return (module, input_output_aliases). Each call is first tried in a
  spawned worker process (TORCH_NEURONX_STUB_WORKERS=spawn, the default; 0 turns it off), so a
  func that needs state its script's main() set up fails here as it would on a host.
- input_output_aliases keys must be parameters or buffers of that module, values distinct
  indices of its outputs. Aliased tensors are the model's state: the compiled bucket takes
  them as inputs, and after each call the aliased output is written back to the state (an
  in-place write inside the model does NOT reach the state, as on a device).
- With shared_state_buffer, the states are those tensors (copied, as onto a device), shared by
  every bucket, matched to a bucket's aliases in order; the preprocessor (or, without one, the
  whole buffers) gives each bucket its states, which must be contiguous (the Neuron runtime
  cannot hand out non-contiguous slices) and match the aliased tensors' shapes and dtypes.
- Example k must be routed to bucket k by the kernel. Every compiled bucket takes exactly the
  shapes and dtypes it was traced with: another shape raises.
- The result is a torch.jit.ScriptModule: forward(*inputs) runs the kernel, the bucket's
  traced model, and the state write-back; it survives torch.jit.save / torch.jit.load.

Set TORCH_NEURONX_STUB_LOG to a file to get one JSON line per get_model call and per trace.
"""
import importlib.util
import json
import os
import pickle
import sys
import tempfile

import torch

__version__ = "0.0+bucketlab.stub"
IS_STUB = True


def _log(record):
    path = os.environ.get("TORCH_NEURONX_STUB_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


class BucketModelConfig:
    def __init__(self, bucket_kernel, *positional, bucket_kernel_constant_args=(),
                 shared_state_buffer=None, shared_state_buffer_preprocessor=None,
                 func_kwargs=None):
        if positional:
            raise TypeError("BucketModelConfig takes bucket_kernel positionally and "
                            "shared_state_buffer, shared_state_buffer_preprocessor and "
                            f"func_kwargs by keyword; got {len(positional)} more positional")
        if not callable(bucket_kernel):
            raise TypeError("bucket_kernel must be a function returning a torch.jit.script function")
        if shared_state_buffer is not None:
            if not isinstance(shared_state_buffer, (list, tuple)) or not all(
                    isinstance(t, torch.Tensor) for t in shared_state_buffer):
                raise TypeError("shared_state_buffer must be a list of tensors")
        if shared_state_buffer_preprocessor is not None:
            if shared_state_buffer is None:
                raise ValueError("shared_state_buffer_preprocessor without shared_state_buffer")
            if not callable(shared_state_buffer_preprocessor):
                raise TypeError("shared_state_buffer_preprocessor must be callable")
        if func_kwargs is not None and not isinstance(func_kwargs, (dict, list)):
            raise TypeError("func_kwargs must be a dict or a list of dicts")
        if isinstance(func_kwargs, list) and not all(isinstance(d, dict) for d in func_kwargs):
            raise TypeError("func_kwargs must be a dict or a list of dicts")
        if not isinstance(bucket_kernel_constant_args, tuple):
            raise TypeError("bucket_kernel_constant_args must be a tuple")
        self.bucket_kernel = bucket_kernel
        self.bucket_kernel_constant_args = bucket_kernel_constant_args
        self.shared_state_buffer = shared_state_buffer
        self.shared_state_buffer_preprocessor = shared_state_buffer_preprocessor
        self.func_kwargs = func_kwargs


def _scripted(factory, what):
    fn = factory()
    if not isinstance(fn, (torch.jit.ScriptFunction, torch.jit.ScriptModule)):
        raise TypeError(f"{what} must return a torch.jit.script function, got {type(fn).__name__}")
    return fn


def _as_tuple(example, k):
    if isinstance(example, torch.Tensor):
        return (example,)
    if isinstance(example, (tuple, list)) and example and all(isinstance(t, torch.Tensor) for t in example):
        return tuple(example)
    raise TypeError(f"example_inputs[{k}] must be a tensor or a tuple of tensors")


def _outputs(out, k):
    if isinstance(out, torch.Tensor):
        return (out,), False
    if isinstance(out, tuple) and all(isinstance(t, torch.Tensor) for t in out):
        return out, True
    raise TypeError(f"bucket {k}: the model must return a tensor or a tuple of tensors")


class _Functional(torch.nn.Module):
    """The model with its aliased parameters/buffers turned into inputs, as the compiler does."""

    def __init__(self, model, paths, n_inputs):
        super().__init__()
        self.model = model
        self.paths = paths
        self.n_inputs = n_inputs

    def forward(self, *args):
        inputs, states = args[:self.n_inputs], args[self.n_inputs:]
        saved = []
        for path, state in zip(self.paths, states):
            owner_name, _, name = path.rpartition(".")
            owner = self.model.get_submodule(owner_name) if owner_name else self.model
            table = owner._parameters if name in owner._parameters else owner._buffers
            saved.append((table, name, table[name]))
            table[name] = state
        try:
            return self.model(*inputs)
        finally:
            for table, name, value in saved:
                table[name] = value


def _alias_paths(model, aliases, k):
    if not isinstance(aliases, dict):
        raise TypeError(f"bucket {k}: input_output_aliases must be a dict, got {type(aliases).__name__}")
    named = list(model.named_parameters()) + list(model.named_buffers())
    paths, indices = [], []
    for tensor, index in aliases.items():
        match = [name for name, t in named if t is tensor]
        if not match:
            raise ValueError(f"bucket {k}: an input_output_aliases key is not a parameter or buffer of the model")
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"bucket {k}: input_output_aliases values must be output indices (int)")
        paths.append(match[0])
        indices.append(index)
    if len(set(indices)) != len(indices):
        raise ValueError(f"bucket {k}: two states alias the same output")
    return paths, indices


def _literal_shape(t):
    return "[" + ", ".join(str(int(d)) for d in t.shape) + "]"


def _module_source(n_inputs, buckets, n_states, shared, preprocess, n_const):
    args = ", ".join(f"x{i}: torch.Tensor" for i in range(n_inputs))
    call = "[" + ", ".join(f"x{i}" for i in range(n_inputs)) + "]"
    s = ["import torch", "from typing import List", "", "", "class StubBucketModel(torch.nn.Module):",
         "    def __init__(self, kernel, constant_args, preprocessor, shapes_collection, buckets, states):",
         "        super().__init__()",
         "        self.bucket_kernel = kernel",
         "        self.constant_args = constant_args",
         "        self.shapes_collection = shapes_collection"]
    if preprocess:
        s.append("        self.preprocessor = preprocessor")
    s += ["        for k, bucket in enumerate(buckets):",
          "            setattr(self, 'bucket_' + str(k), bucket)",
          "        for name, state in states:",
          "            self.register_buffer(name, state)",
          "",
          f"    def forward(self, {args}):",
          f"        padded, index = self.bucket_kernel({call}" + (", *self.constant_args" if n_const else "") + ")",
          "        k = int(torch.ops.aten.Int(index))",
          f"        if len(padded) != {n_inputs}:",
          f"            raise Exception('torch_neuronx stub: the kernel returned ' + str(len(padded)) + ' inputs, the buckets take {n_inputs}')"]
    if shared:
        s.append("        shared: List[torch.Tensor] = [" + ", ".join(f"self.shared_{j}" for j in range(n_states)) + "]")
        if preprocess:
            s.append("        shared = self.preprocessor(self.shapes_collection, shared, index)")
    for k, b in enumerate(buckets):
        s.append(f"        if k == {k}:")
        for i, (shape, dtype) in enumerate(b["inputs"]):
            s.append(f"            if padded[{i}].shape != {shape} or padded[{i}].dtype != {dtype}:")
            s.append(f"                raise Exception('torch_neuronx stub: bucket {k} was compiled for input {i} of shape {shape} and {dtype}, got ' + str(padded[{i}].shape) + ' ' + str(padded[{i}].dtype))")
        states = []
        for j, (shape, dtype) in enumerate(b["states"]):
            name = f"shared[{j}]" if shared else f"self.own_{k}_{j}"
            states.append(name)
            s.append(f"            if not {name}.is_contiguous():")
            s.append(f"                raise Exception('torch_neuronx stub: state {j} of bucket {k} is not contiguous; the Neuron runtime cannot slice non-contiguous tensors')")
            s.append(f"            if {name}.shape != {shape} or {name}.dtype != {dtype}:")
            s.append(f"                raise Exception('torch_neuronx stub: state {j} of bucket {k} must be {shape} {dtype}, got ' + str({name}.shape))")
        # The device gets copies: an in-place write inside the model does not reach the state.
        argv = [f"padded[{i}]" for i in range(n_inputs)] + [f"{st}.clone()" for st in states]
        s.append(f"            out = self.bucket_{k}(" + ", ".join(argv) + ")")
        for j, index in enumerate(b["aliases"]):
            src = f"out[{index}]" if b["tuple"] else "out"
            s.append(f"            {states[j]}.copy_({src})")
        s.append("            return out")
    s.append("        raise Exception('torch_neuronx stub: bucket index ' + str(k) + ' out of range')")
    return "\n".join(s) + "\n"


def _load_source(source):
    handle, path = tempfile.mkstemp(prefix="torch_neuronx_stub_", suffix=".py")
    with os.fdopen(handle, "w") as f:
        f.write(source)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


def _probe(func, kw):
    """In a fresh worker process: func(**kw) must work there too (no state from main())."""
    try:
        result = func(**kw)
        if not isinstance(result, tuple) or len(result) != 2:
            return "func must return (model, input_output_aliases)"
        return None
    except BaseException as e:  # SystemExit included: the worker reports, the host fails
        return f"{type(e).__name__}: {e}"


def _call_in_worker(func, kwargs):
    """The host calls func inside worker processes it spawns, where the importing module's
    top level has run but nothing its main() did. Each bucket's func(**func_kwargs[k]) is
    called once in one spawned worker first (then once more, in-process, to trace)."""
    import concurrent.futures
    import multiprocessing
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        for k, kw in enumerate(kwargs):
            error = pool.submit(_probe, func, kw).result()
            if error:
                raise RuntimeError(f"bucket {k}: func(**func_kwargs[{k}]) failed in a worker process: {error}")


def bucket_model_trace(func, example_inputs, bucket_config, compiler_workdir=None, compiler_args=None):
    if not isinstance(bucket_config, BucketModelConfig):
        raise TypeError("bucket_config must be a torch_neuronx.BucketModelConfig")
    if not isinstance(example_inputs, list) or not example_inputs:
        raise TypeError("example_inputs must be a list with one example per bucket")
    examples = [_as_tuple(e, k) for k, e in enumerate(example_inputs)]
    count = len(examples)
    fk = bucket_config.func_kwargs
    if isinstance(fk, list) and len(fk) != count:
        raise ValueError(f"func_kwargs has {len(fk)} entries for {count} buckets")
    kwargs = [fk[k] if isinstance(fk, list) else (fk or {}) for k in range(count)]
    try:
        pickle.dumps((func, kwargs))
    except Exception as e:
        raise TypeError(f"func and func_kwargs must be picklable: the host calls func in worker processes ({e})")
    if os.environ.get("TORCH_NEURONX_STUB_WORKERS", "spawn") == "spawn":
        _call_in_worker(func, kwargs)
    kernel = _scripted(bucket_config.bucket_kernel, "bucket_kernel")
    consts = bucket_config.bucket_kernel_constant_args
    n_inputs = len(examples[0])
    for k, example in enumerate(examples):
        if len(example) != n_inputs:
            raise ValueError(f"example_inputs[{k}] has {len(example)} tensors, example 0 has {n_inputs}")
        padded, index = kernel(list(example), *consts)
        if int(index.reshape(-1)[0]) != k:
            raise ValueError(f"the bucket kernel routes example_inputs[{k}] to bucket {int(index.reshape(-1)[0])}")
        for i, (p, x) in enumerate(zip(padded, example)):
            if p.shape != x.shape:
                raise ValueError(f"example_inputs[{k}] input {i}: the kernel changes shape {list(x.shape)} to "
                                 f"{list(p.shape)}; an example must have its bucket's shape")
    shared = bucket_config.shared_state_buffer
    preprocess = bucket_config.shared_state_buffer_preprocessor
    pre = _scripted(preprocess, "shared_state_buffer_preprocessor") if preprocess is not None else None
    shared_copies = [t.detach().clone() for t in shared] if shared is not None else None
    models = []
    for k in range(count):
        result = func(**kwargs[k])
        _log({"event": "get_model", "bucket": k, "kwargs": kwargs[k]})
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(f"bucket {k}: func must return (model, input_output_aliases)")
        model, aliases = result
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"bucket {k}: func must return a torch.nn.Module, got {type(model).__name__}")
        paths, indices = _alias_paths(model, aliases, k)
        if shared is not None and len(paths) != len(shared):
            raise ValueError(f"bucket {k}: {len(paths)} input_output_aliases for {len(shared)} shared state buffers")
        models.append((model, paths, indices, list(aliases.keys())))
    # The guide's shapes_collection[bucket][state]: the aliased tensors' shapes.
    shapes_collection = [[list(t.shape) for t in m[3]] for m in models]
    traced, buckets, own_states = [], [], []
    for k, example in enumerate(examples):
        model, paths, indices, alias_tensors = models[k]
        if shared is not None:
            states = pre(shapes_collection, shared_copies, torch.tensor([k])) if pre is not None else shared_copies
        else:
            states = [t.detach().clone() for t in alias_tensors]
            own_states += [(f"own_{k}_{j}", t) for j, t in enumerate(states)]
        for j, (st, want) in enumerate(zip(states, alias_tensors)):
            if not st.is_contiguous():
                raise ValueError(f"bucket {k}: state {j} is not contiguous; the Neuron runtime cannot slice "
                                 "non-contiguous tensors (slice the state inside the model instead)")
            if st.shape != want.shape or st.dtype != want.dtype:
                raise ValueError(f"bucket {k}: state {j} is {list(st.shape)} {st.dtype}, the aliased tensor "
                                 f"{paths[j]} is {list(want.shape)} {want.dtype}")
        model.eval()
        functional = _Functional(model, paths, n_inputs)
        args = tuple(t.clone() for t in example) + tuple(t.clone() for t in states)
        with torch.no_grad():
            compiled = torch.jit.trace(functional, args, check_trace=False)
            outs, is_tuple = _outputs(compiled(*(tuple(t.clone() for t in args))), k)
        for index in indices:
            if index < 0 or index >= len(outs):
                raise ValueError(f"bucket {k}: input_output_aliases names output {index}; the model returns {len(outs)}")
        for j, index in enumerate(indices):
            if outs[index].shape != alias_tensors[j].shape or outs[index].dtype != alias_tensors[j].dtype:
                raise ValueError(f"bucket {k}: output {index} ({list(outs[index].shape)}) cannot update "
                                 f"{paths[j]} ({list(alias_tensors[j].shape)})")
        traced.append(compiled)
        buckets.append({"inputs": [(_literal_shape(t), str(t.dtype)) for t in example],
                        "states": [(_literal_shape(t), str(t.dtype)) for t in alias_tensors],
                        "aliases": indices, "tuple": is_tuple})
    n_states = len(shared) if shared is not None else 0
    source = _module_source(n_inputs, buckets, n_states, shared is not None, pre is not None, len(consts))
    module, path = _load_source(source)
    states = own_states + ([(f"shared_{j}", t) for j, t in enumerate(shared_copies)] if shared is not None else [])
    model = module.StubBucketModel(kernel, consts, pre, shapes_collection, traced, states)
    try:
        scripted = torch.jit.script(model)
    finally:
        os.remove(path)
        sys.modules.pop(module.__name__, None)
    _log({"event": "trace", "buckets": count, "inputs": [[s for s, _ in b["inputs"]] for b in buckets],
          "aliases": [b["aliases"] for b in buckets], "shared_state_buffer": shared is not None,
          "preprocessor": pre is not None, "constant_args": [repr(c) for c in consts]})
    return scripted
