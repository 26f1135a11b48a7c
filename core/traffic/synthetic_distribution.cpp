#include "core/traffic/synthetic_distribution.h"
#include "core/util/text.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>

namespace bucketlab {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kDefaultSamples = 100000;
constexpr int64_t kMaxSamples = 1000000000;
constexpr int64_t kMaxZipfSupport = int64_t(1) << 22;

enum class Family { LogNormal, Normal, Uniform, Zipf };

struct Component {
    Family family = Family::LogNormal;
    double weight = 1.0;
    std::map<std::string, double> params;
    int64_t min = 1;
    int64_t max = kMaxLength;
    bool maxGiven = false;
    std::vector<double> zipfCdf; // cumulative weights of min..max
};

bool familyFromName(const std::string& name, Family& f)
{
    static const std::map<std::string, Family> names{{"lognormal", Family::LogNormal},
                                                     {"normal", Family::Normal},
                                                     {"uniform", Family::Uniform},
                                                     {"zipf", Family::Zipf}};
    const auto it = names.find(name);
    if (it == names.end())
        return false;
    f = it->second;
    return true;
}

// Splits on '+' but not inside an exponent such as 1e+3.
std::vector<std::string> splitComponents(const std::string& spec)
{
    std::vector<std::string> out;
    std::string cur;
    for (size_t i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        const bool exponent = i > 0 && (spec[i - 1] == 'e' || spec[i - 1] == 'E') && i > 1 &&
                              std::isdigit(static_cast<unsigned char>(spec[i - 2]));
        if (c == '+' && !exponent) {
            out.push_back(cur);
            cur.clear();
        } else
            cur += c;
    }
    out.push_back(cur);
    return out;
}

double number(const std::string& text, const std::string& what, const std::string& spec)
{
    const std::string t = trimmedBlanks(text);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v))
        throw Error("distribution spec " + quote(spec) + ": " + displayText(what, 40) + " " +
                    quote(t) + " is not a finite number");
    return v;
}

int64_t integer(double v, const std::string& what, const std::string& spec, int64_t lo, int64_t hi)
{
    if (v != std::floor(v) || v < double(lo) || v > double(hi))
        throw Error("distribution spec " + quote(spec) + ": " + what + " must be an integer in " +
                    std::to_string(lo) + ".." + std::to_string(hi));
    return int64_t(v);
}

class Random {
public:
    explicit Random(uint64_t seed) : engine_(seed) {}
    // Uniform in (0, 1]: never 0, so log() in Box-Muller is finite.
    double uniform() { return (double(engine_() >> 11) + 1.0) * 0x1.0p-53; }
    double normal()
    {
        if (haveSpare_) {
            haveSpare_ = false;
            return spare_;
        }
        const double r = std::sqrt(-2.0 * std::log(uniform()));
        const double t = 2.0 * kPi * uniform();
        spare_ = r * std::sin(t);
        haveSpare_ = true;
        return r * std::cos(t);
    }

private:
    std::mt19937_64 engine_;
    double spare_ = 0;
    bool haveSpare_ = false;
};

int64_t clampRound(double x, const Component& c)
{
    if (!(x > double(c.min)))
        return c.min;
    if (x >= double(c.max))
        return c.max;
    return std::clamp<int64_t>(std::llround(x), c.min, c.max);
}

int64_t draw(const Component& c, Random& rng)
{
    switch (c.family) {
    case Family::LogNormal:
        return clampRound(std::exp(c.params.at("mu") + c.params.at("sigma") * rng.normal()), c);
    case Family::Normal:
        return clampRound(c.params.at("mean") + c.params.at("sd") * rng.normal(), c);
    case Family::Uniform: {
        const double span = double(c.max - c.min + 1);
        return std::min(c.max, c.min + int64_t(std::floor((rng.uniform() - 0x1.0p-53) * span)));
    }
    case Family::Zipf: {
        const double u = rng.uniform() * c.zipfCdf.back();
        const auto it = std::lower_bound(c.zipfCdf.begin(), c.zipfCdf.end(), u);
        return c.min + std::min<int64_t>(int64_t(it - c.zipfCdf.begin()), c.max - c.min);
    }
    }
    return c.min;
}

} // namespace

bool looksLikeSyntheticSpec(const std::string& text)
{
    std::string first = splitComponents(text).front();
    const auto star = first.find('*');
    if (star != std::string::npos)
        first = first.substr(star + 1);
    const auto colon = first.find(':');
    Family f;
    return colon != std::string::npos && familyFromName(trimmedBlanks(first.substr(0, colon)), f);
}

namespace {

// n= and seed=, which any component may give (once, or again with the same value).
struct SpecSettings {
    int64_t n = kDefaultSamples;
    uint64_t seed = 1;
    bool haveN = false, haveSeed = false;
};

// A component's comma-separated key=value list into c (n= and seed= into settings).
void parseParameters(const std::string& rest, const std::string& spec, Component& c,
                     SpecSettings& settings)
{
    size_t pos = 0;
    while (pos <= rest.size() && !trimmedBlanks(rest).empty()) {
        size_t end = rest.find(',', pos);
        if (end == std::string::npos)
            end = rest.size();
        const std::string kv = trimmedBlanks(rest.substr(pos, end - pos));
        pos = end + 1;
        if (kv.empty())
            continue;
        const auto eq = kv.find('=');
        if (eq == std::string::npos)
            throw Error("distribution spec " + quote(spec) + ": expected key=value, got " +
                        quote(kv));
        const std::string key = trimmedBlanks(kv.substr(0, eq));
        const double v = number(kv.substr(eq + 1), key, spec);
        if (key == "n") {
            const int64_t value = integer(v, "n", spec, 1, kMaxSamples);
            if (settings.haveN && value != settings.n)
                throw Error("distribution spec " + quote(spec) + ": n is given twice");
            settings.n = value, settings.haveN = true;
        } else if (key == "seed") {
            const int64_t value = integer(v, "seed", spec, 0, int64_t(1) << 53);
            if (settings.haveSeed && uint64_t(value) != settings.seed)
                throw Error("distribution spec " + quote(spec) + ": seed is given twice");
            settings.seed = uint64_t(value), settings.haveSeed = true;
        } else if (key == "min")
            c.min = integer(v, "min", spec, 1, kMaxLength);
        else if (key == "max") {
            c.max = integer(v, "max", spec, 1, kMaxLength);
            c.maxGiven = true;
        } else
            c.params[key] = v;
        if (pos > rest.size())
            break;
    }
}

// The family's parameters are exactly those it takes, and in range; for zipf, its CDF.
void checkComponent(Component& c, const std::string& name, const std::string& spec)
{
    auto need = [&](std::initializer_list<const char*> keys) {
        for (const auto& param : c.params) {
            const std::string& key = param.first; // (clang: no lambda capture of bindings)
            if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return key == k; }) ==
                keys.end())
                throw Error("distribution spec " + quote(spec) + ": " + name +
                            " has no parameter " + quote(key));
        }
        for (const char* k : keys)
            if (!c.params.count(k))
                throw Error("distribution spec " + quote(spec) + ": " + name + " needs " + k + "=");
    };
    switch (c.family) {
    case Family::LogNormal:
        need({"mu", "sigma"});
        if (c.params["sigma"] <= 0)
            throw Error("distribution spec " + quote(spec) + ": sigma must be positive");
        break;
    case Family::Normal:
        need({"mean", "sd"});
        if (c.params["sd"] <= 0)
            throw Error("distribution spec " + quote(spec) + ": sd must be positive");
        break;
    case Family::Uniform:
        need({});
        if (!c.maxGiven)
            throw Error("distribution spec " + quote(spec) + ": uniform needs max=");
        break;
    case Family::Zipf:
        need({"s"});
        if (!c.maxGiven)
            throw Error("distribution spec " + quote(spec) + ": zipf needs max=");
        if (c.params["s"] <= 0)
            throw Error("distribution spec " + quote(spec) + ": s must be positive");
        if (c.max - c.min + 1 > kMaxZipfSupport)
            throw Error("distribution spec " + quote(spec) + ": zipf supports at most " +
                        std::to_string(kMaxZipfSupport) + " lengths between min and max");
        break;
    }
    if (c.min > c.max)
        throw Error("distribution spec " + quote(spec) + ": min " + std::to_string(c.min) +
                    " is above max " + std::to_string(c.max));
    if (c.family == Family::Zipf) {
        double sum = 0;
        for (int64_t k = c.min; k <= c.max; ++k)
            c.zipfCdf.push_back(sum += std::pow(double(k - c.min + 1), -c.params["s"]));
    }
}

// One component of the spec: [WEIGHT*]FAMILY:key=value,...
Component parseComponent(const std::string& part, const std::string& spec, SpecSettings& settings)
{
    Component c;
    std::string body = trimmedBlanks(part);
    const auto star = body.find('*');
    const auto colon = body.find(':');
    if (star != std::string::npos && (colon == std::string::npos || star < colon)) {
        c.weight = number(body.substr(0, star), "weight", spec);
        if (c.weight <= 0)
            throw Error("distribution spec " + quote(spec) + ": weights must be positive");
        body = trimmedBlanks(body.substr(star + 1));
    }
    const auto sep = body.find(':');
    const std::string name = trimmedBlanks(body.substr(0, sep));
    if (!familyFromName(name, c.family))
        throw Error("distribution spec " + quote(spec) + ": unknown family " + quote(name) +
                    " (known: lognormal, normal, uniform, zipf)");
    parseParameters(sep == std::string::npos ? std::string() : body.substr(sep + 1), spec, c,
                    settings);
    checkComponent(c, name, spec);
    return c;
}

// n draws: a component by weight, then a length from it.
LengthHistogram drawLengths(const std::vector<Component>& components, int64_t n, uint64_t seed)
{
    std::vector<double> cumulative;
    double totalWeight = 0;
    for (const auto& c : components)
        cumulative.push_back(totalWeight += c.weight);
    Random rng(seed);
    LengthHistogramBuilder builder;
    for (int64_t i = 0; i < n; ++i) {
        size_t k = 0;
        if (components.size() > 1) {
            const double u = rng.uniform() * totalWeight;
            k = size_t(std::lower_bound(cumulative.begin(), cumulative.end(), u) -
                       cumulative.begin());
            k = std::min(k, components.size() - 1);
        }
        builder.add(draw(components[k], rng));
    }
    return builder.build();
}

} // namespace

LengthHistogram syntheticDistribution(const std::string& spec)
{
    std::vector<Component> components;
    SpecSettings settings;
    for (const std::string& part : splitComponents(spec))
        components.push_back(parseComponent(part, spec, settings));
    return drawLengths(components, settings.n, settings.seed);
}

} // namespace bucketlab
