// A stand-in for a Neuron bucket model: a module saved by plain PyTorch, then rewritten
// (Python's zipfile) so its per-bucket models are torch.classes.neuron.Model objects that
// forward() calls through torch.ops.neuron — as torch_neuronx's bucket models do. Nothing
// registers that class here, so torch.jit.load fails on it, as it does on any machine
// without the Neuron runtime.
#pragma once

#include "testutil.h"

namespace bucketlab::test {

inline QString neuronFixtureScript()
{
    return QStringLiteral(R"PY(
import sys, zipfile, torch
from typing import List, Tuple
sys.path.insert(0, sys.argv[2])
from seed_bucket_kernel import sequence_length_bucket_kernel

class NeuronStandIn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.neff = torch.zeros(64, dtype=torch.uint8)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

class BucketModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bucket_0 = NeuronStandIn()
        self.bucket_1 = NeuronStandIn()
        self.scale = torch.nn.Parameter(torch.ones(4, 4))
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        padded, idx = self.bucket_kernel([input_ids, attention_mask])
        return self.bucket_0(padded[0])
    @torch.jit.export
    def bucket_kernel(self, inputs: List[torch.Tensor]) -> Tuple[List[torch.Tensor], torch.Tensor]:
        return sequence_length_bucket_kernel(inputs)

out = sys.argv[1]
torch.jit.script(BucketModel()).save(out + '.plain')
src = zipfile.ZipFile(out + '.plain')
dst = zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED)
for info in src.infolist():
    data = src.read(info.filename)
    if info.filename.endswith('data.pkl'):
        data = data.replace(b'__torch__\nNeuronStandIn\n', b'__torch__.torch.classes.neuron\nModel\n')
    if info.filename.endswith('.py'):
        text = data.decode()
        text = text.replace('__torch__.NeuronStandIn', '__torch__.torch.classes.neuron.Model')
        text = text.replace('(bucket_0).forward(', 'ops.neuron.forward_v2(bucket_0, ')
        text = text.split('class NeuronStandIn')[0]
        data = text.encode()
    dst.writestr(info, data)
dst.close()
try:
    torch.jit.load(out)
    print('LOADED')
except Exception as e:
    print('LOAD FAILED:', [l for l in str(e).splitlines() if l.strip()][0])
)PY");
}

// Writes the fixture to `path`; returns Python's output ("LOAD FAILED: ..." expected).
inline QByteArray writeNeuronFixture(const QString& path)
{
    const auto r = runPython(neuronFixtureScript(), {path, QStringLiteral(BUCKETLAB_TEST_DATA)});
    return r.out + r.err;
}

} // namespace bucketlab::test
