// Metrics: counters, gauges and histograms rendered in Prometheus' text exposition format 0.0.4.
//
// Hand-written rather than a client library: Debian 12 packages no C++ Prometheus client
// (prometheus-cpp is not in bookworm), and the text format is a few lines. One mutex guards
// everything; an update is a map lookup and an add, far below one inference (tens of
// microseconds per request at most).
#pragma once

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace minibert::serve {

/// Label pairs, rendered once as {a="x",b="y"} (values escaped as the format asks).
using Labels = std::vector<std::pair<std::string, std::string>>;

inline std::string render_labels(const Labels& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"";
        for (char c : labels[i].second) {
            if (c == '\\') out += "\\\\";
            else if (c == '"') out += "\\\"";
            else if (c == '\n') out += "\\n";
            else out += c;
        }
        out += '"';
    }
    return out + "}";
}

/// Bucket bounds for latencies in seconds: 0.5 ms .. 10 s.
inline std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}
/// Powers of two for counts (batch sizes, tokens).
inline std::vector<double> count_buckets(double most) {
    std::vector<double> b;
    for (double v = 1; v <= most; v *= 2) b.push_back(v);
    return b;
}

class Metrics {
public:
    void add_counter(const std::string& name, const std::string& help, const Labels& labels, double by = 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        family(name, help, "counter").scalar[render_labels(labels)] += by;
    }
    void set_gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
        std::lock_guard<std::mutex> lock(mutex_);
        family(name, help, "gauge").scalar[render_labels(labels)] = value;
    }
    void observe(const std::string& name, const std::string& help, const Labels& labels, double value,
                 const std::vector<double>& bounds) {
        std::lock_guard<std::mutex> lock(mutex_);
        Family& f = family(name, help, "histogram");
        Histogram& h = f.histograms[render_labels(labels)];
        if (h.bounds.empty()) {
            h.bounds = bounds;
            h.counts.assign(bounds.size(), 0);
        }
        for (std::size_t i = 0; i < h.bounds.size(); ++i)
            if (value <= h.bounds[i]) ++h.counts[i];  // cumulative, as the format wants
        ++h.count;
        h.sum += value;
    }

    /// The value of one counter or gauge series (tests and the A/B report read it back); 0 if none.
    double value(const std::string& name, const Labels& labels) const {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto f = families_.find(name);
        if (f == families_.end()) return 0;
        const auto s = f->second.scalar.find(render_labels(labels));
        return s == f->second.scalar.end() ? 0 : s->second;
    }

    std::string render() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::string out;
        char num[64];
        auto fmt = [&](double v) {
            if (std::isinf(v)) return std::string(v > 0 ? "+Inf" : "-Inf");
            std::snprintf(num, sizeof num, "%.17g", v);
            return std::string(num);
        };
        for (const auto& [name, f] : families_) {
            out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
            for (const auto& [labels, v] : f.scalar) out += name + labels + " " + fmt(v) + "\n";
            for (const auto& [labels, h] : f.histograms) {
                // "le" joins the series' own labels.
                const std::string prefix = labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
                for (std::size_t i = 0; i < h.bounds.size(); ++i)
                    out += name + "_bucket" + prefix + "le=\"" + fmt(h.bounds[i]) + "\"} " + fmt(double(h.counts[i])) + "\n";
                out += name + "_bucket" + prefix + "le=\"+Inf\"} " + fmt(double(h.count)) + "\n";
                out += name + "_sum" + labels + " " + fmt(h.sum) + "\n";
                out += name + "_count" + labels + " " + fmt(double(h.count)) + "\n";
            }
        }
        return out;
    }

private:
    struct Histogram {
        std::vector<double> bounds;
        std::vector<unsigned long long> counts;
        unsigned long long count = 0;
        double sum = 0;
    };
    struct Family {
        std::string help, type;
        std::map<std::string, double> scalar;
        std::map<std::string, Histogram> histograms;
    };
    Family& family(const std::string& name, const std::string& help, const char* type) {
        Family& f = families_[name];
        if (f.type.empty()) {
            f.help = help;
            f.type = type;
        }
        return f;
    }

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

}  // namespace minibert::serve
