// The device names of device.h, without LibTorch: a command line names its device before
// anything runs.
#include "core/runtime/device.h"

#include "core/util/error.h"
#include "core/util/text.h"

namespace bucketlab {

std::string deviceKindName(DeviceKind kind)
{
    switch (kind) {
    case DeviceKind::Auto: return "auto";
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda";
    case DeviceKind::Neuron: return "neuron";
    }
    return "cpu";
}

DeviceKind parseDeviceKind(const std::string& text)
{
    for (auto k : {DeviceKind::Auto, DeviceKind::Cpu, DeviceKind::Cuda, DeviceKind::Neuron})
        if (text == deviceKindName(k))
            return k;
    throw Error(subject(Field::Device) + " " + quote(text) +
                ": expected auto, cpu, cuda or neuron");
}

} // namespace bucketlab
