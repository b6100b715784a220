// AccessLog: one line per response on stderr: JSON Lines (--log-format json) for log shippers,
// or a short text line (--log-format text); nothing with --log-format none.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace minibert::serve {

enum class LogFormat { none, text, json };

struct AccessRecord {
    std::string method, path, remote, model;
    int status = 0;
    std::size_t request_bytes = 0, response_bytes = 0;
    double latency_ms = -1;  ///< -1: not measured (a response httplib made itself, e.g. 413)
};

inline std::string utc_now_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];  // room for any int the format could print (GCC checks)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

class AccessLog {
public:
    explicit AccessLog(LogFormat format = LogFormat::none, std::FILE* out = stderr) : format_(format), out_(out) {}
    LogFormat format() const noexcept { return format_; }

    void write(const AccessRecord& r) {
        if (format_ == LogFormat::none) return;
        std::string line;
        if (format_ == LogFormat::json) {
            nlohmann::json j = {{"time", utc_now_iso8601()}, {"remote", r.remote}, {"method", r.method}, {"path", r.path},
                                {"status", r.status}, {"request_bytes", r.request_bytes}, {"response_bytes", r.response_bytes}};
            if (!r.model.empty()) j["model"] = r.model;
            if (r.latency_ms >= 0) j["latency_ms"] = r.latency_ms;
            line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
            char ms[32] = "-";
            if (r.latency_ms >= 0) std::snprintf(ms, sizeof ms, "%.3f", r.latency_ms);
            line = utc_now_iso8601() + " " + r.remote + " " + r.method + " " + r.path + " " + std::to_string(r.status) +
                   " " + std::to_string(r.response_bytes) + "B " + ms + "ms";
        }
        std::lock_guard<std::mutex> lock(mutex_);
        std::fprintf(out_, "%s\n", line.c_str());
        std::fflush(out_);
    }

private:
    LogFormat format_;
    std::FILE* out_;
    std::mutex mutex_;
};

}  // namespace minibert::serve
