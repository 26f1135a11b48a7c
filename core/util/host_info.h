// What a report records about the machine it was made on: its name, the CPU model and count
// and the operating system. Read from /proc/cpuinfo and uname(2); empty where a system does not
// say.
#pragma once

#include <string>

namespace bucketlab {

struct HostInfo {
    std::string hostname;
    std::string cpuModel; // "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    int cpuCount = 0;     // logical CPUs online
    std::string os;       // "Linux 6.1.0-18-cloud-amd64 x86_64"
};

HostInfo currentHostInfo();

// The CPU model in /proc/cpuinfo text: x86's "model name", else ARM's "Model"/"Hardware",
// else "CPU implementer/part" as given. Empty when none is there.
std::string cpuModelFromCpuinfo(const std::string& cpuinfo);

} // namespace bucketlab
