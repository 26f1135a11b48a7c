// A sampling profiler for the UI thread's stalls, for `bucketlab --tour` (perf cannot walk
// these stacks: no frame pointers). The UI thread calls beat() from its heartbeat timer; a
// watcher thread checks every 5 ms and, while the UI thread has not beaten for more than
// `thresholdMs`, interrupts it with SIGPROF every 5 ms. The handler records the stack with
// backtrace() (the unwinder reads .eh_frame, so no frame pointers are needed) into a
// preallocated buffer, lock-free. write() symbolises the samples afterwards, grouped by stall
// ("module(function+offset) [address]"; addr2line -f -C -e MODULE OFFSET resolves static
// functions). Linux only; elsewhere it records nothing.
#pragma once

#include <QString>

#include <atomic>
#include <memory>
#include <thread>

class StallSampler {
public:
    explicit StallSampler(int thresholdMs = 40);
    ~StallSampler();
    StallSampler(const StallSampler&) = delete;
    StallSampler& operator=(const StallSampler&) = delete;

    // From the UI thread: it is answering now. Also starts the sampling (the first call).
    void beat();
    // From the UI thread: stalls from now on are the caller's own work (or not): not sampled.
    void setPaused(bool paused);
    // Stops the watcher and writes every stall's samples to `path`. Returns false when the
    // file cannot be written.
    bool write(const QString& path);

private:
    void watch();

    std::atomic<long long> lastBeatNs_{0};
    std::atomic<bool> paused_{false};
    std::atomic<bool> stop_{false};
    int thresholdMs_;
    std::thread watcher_;
};
