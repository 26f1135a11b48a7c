#include "stall_sampler.h"

#include <QFile>
#include <QTextStream>

#include <chrono>

#if defined(__linux__)
#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#define BUCKETLAB_STALL_SAMPLER 1
#endif

namespace {

long long nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

#if BUCKETLAB_STALL_SAMPLER
constexpr int kMaxSamples = 4000;
constexpr int kMaxFrames = 64;

struct Sample {
    long long sinceBeatNs = 0;
    int stall = 0;
    int depth = 0;
    void* frames[kMaxFrames];
};

// Written by the signal handler only; the watcher reads a slot after the handler said done.
Sample g_samples[kMaxSamples];
std::atomic<int> g_slot{-1};    // the slot the next signal fills
std::atomic<bool> g_done{true}; // the handler filled it
std::atomic<bool> g_installed{false};
pthread_t g_target;

void onSignal(int)
{
    const int slot = g_slot.load(std::memory_order_acquire);
    if (slot >= 0 && slot < kMaxSamples)
        g_samples[slot].depth = backtrace(g_samples[slot].frames, kMaxFrames);
    g_done.store(true, std::memory_order_release);
}

QString describe(void* address)
{
    Dl_info info{};
    if (!dladdr(address, &info) || !info.dli_fname)
        return QString::asprintf("?? [%p]", address);
    const auto offset =
        reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(info.dli_fbase);
    QString name;
    if (info.dli_sname) {
        int status = 0;
        char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
        name = QString::fromLocal8Bit(status == 0 && demangled ? demangled : info.dli_sname);
        std::free(demangled);
    }
    return QString("%1 +0x%2 %3")
        .arg(QString::fromLocal8Bit(info.dli_fname))
        .arg(qulonglong(offset), 0, 16)
        .arg(name);
}
int g_count = 0;
#endif

} // namespace

StallSampler::StallSampler(int thresholdMs) : thresholdMs_(thresholdMs) {}

StallSampler::~StallSampler()
{
    stop_ = true;
    if (watcher_.joinable())
        watcher_.join();
}

void StallSampler::beat()
{
    lastBeatNs_.store(nowNs(), std::memory_order_relaxed);
#if BUCKETLAB_STALL_SAMPLER
    if (!watcher_.joinable()) {
        g_target = pthread_self();
        void* warm[4];
        backtrace(warm, 4); // loads libgcc's unwinder now, not inside the handler
        struct sigaction action {};
        action.sa_handler = onSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(SIGPROF, &action, nullptr);
        g_installed = true;
        watcher_ = std::thread([this] { watch(); });
    }
#endif
}

void StallSampler::setPaused(bool paused)
{
    paused_ = paused;
    lastBeatNs_.store(nowNs(), std::memory_order_relaxed);
}

void StallSampler::watch()
{
#if BUCKETLAB_STALL_SAMPLER
    long long stallBeat = -1; // the beat the current stall began after
    int stall = 0;
    while (!stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const long long beat = lastBeatNs_.load(std::memory_order_relaxed);
        const long long since = nowNs() - beat;
        if (paused_ || since < (long long)thresholdMs_ * 1000000 || g_count >= kMaxSamples)
            continue;
        if (beat != stallBeat) {
            stallBeat = beat;
            ++stall;
        }
        g_samples[g_count].sinceBeatNs = since;
        g_samples[g_count].stall = stall;
        g_samples[g_count].depth = 0;
        g_done = false;
        g_slot.store(g_count, std::memory_order_release);
        pthread_kill(g_target, SIGPROF);
        for (int i = 0; i < 200 && !g_done.load(std::memory_order_acquire); ++i)
            std::this_thread::sleep_for(std::chrono::microseconds(250));
        if (g_done)
            ++g_count;
        g_slot = -1;
    }
#endif
}

bool StallSampler::write(const QString& path)
{
    stop_ = true;
    if (watcher_.joinable())
        watcher_.join();
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    QTextStream out(&f);
#if BUCKETLAB_STALL_SAMPLER
    if (g_installed)
        signal(SIGPROF, SIG_IGN);
    out << g_count << " samples of the UI thread's stack while it had not answered for over "
        << thresholdMs_ << " ms\n";
    for (int i = 0; i < g_count; ++i) {
        const Sample& s = g_samples[i];
        out << "\n== stall " << s.stall << ", " << s.sinceBeatNs / 1000000
            << " ms since the beat\n";
        for (int d = 2; d < s.depth; ++d) // 0: the handler, 1: the signal trampoline
            out << "  " << describe(s.frames[d]) << "\n";
    }
#else
    out << "no samples: the stall sampler works on Linux only\n";
#endif
    return true;
}
