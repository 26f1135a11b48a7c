#include "core/util/host_info.h"
#include "core/util/text.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <sys/utsname.h>

namespace bucketlab {
namespace {

// The value of the first "key : value" line with this key.
std::string field(const std::string& text, const std::string& key)
{
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon != std::string::npos && trimWhitespace(line.substr(0, colon)) == key)
            return trimWhitespace(line.substr(colon + 1));
    }
    return {};
}

} // namespace

std::string cpuModelFromCpuinfo(const std::string& cpuinfo)
{
    for (const char* key : {"model name", "Model", "Hardware", "cpu model"})
        if (auto v = field(cpuinfo, key); !v.empty())
            return v;
    const auto implementer = field(cpuinfo, "CPU implementer");
    const auto part = field(cpuinfo, "CPU part");
    if (!implementer.empty())
        return "CPU implementer " + implementer + ", part " + part;
    return {};
}

HostInfo currentHostInfo()
{
    HostInfo h;
    std::ifstream in("/proc/cpuinfo");
    if (in) {
        std::ostringstream text;
        text << in.rdbuf();
        h.cpuModel = cpuModelFromCpuinfo(text.str());
    }
    h.cpuCount = int(std::thread::hardware_concurrency());
    struct utsname u {};
    if (uname(&u) == 0) {
        h.hostname = u.nodename;
        h.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
    }
    return h;
}

} // namespace bucketlab
