// ModelRegistry: the models being served by name, with reload and rollback.
//
// A request takes a shared_ptr to the model's current ModelRunner and keeps it until it has its
// answer. reload() builds the new runner first (outside the lock: loading takes seconds), then
// swaps it in; requests already holding the old runner finish on it, and the old runner's
// workers drain its queue before they exit. So a reload never fails an in-flight request. The
// replaced runner is kept as `previous` (its memory stays in use) so that rollback() is a swap,
// not a load: the point of a rollback is to be fast when the new version misbehaves.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api_error.hpp"
#include "model_runner.hpp"

namespace minibert::serve {

struct ModelSpec {
    std::string name, dir;
    RunnerOptions options;
};

class ModelRegistry {
public:
    explicit ModelRegistry(Metrics* metrics) : metrics_(metrics) {}

    /// Loads a model at startup. Throws minibert::Error for a folder it cannot serve.
    void add(const ModelSpec& spec) {
        auto runner = std::make_shared<ModelRunner>(spec.name, spec.dir, spec.options, metrics_);
        std::lock_guard<std::mutex> lock(mutex_);
        if (order_.empty()) default_ = spec.name;
        if (!entries_.count(spec.name)) order_.push_back(spec.name);
        Entry& e = entries_[spec.name];
        e.spec = spec;
        e.current = std::move(runner);
        e.version = 1;
    }

    /// The runner that answers `name` now; 404 naming the known models if none.
    std::shared_ptr<ModelRunner> get(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(name);
        if (it == entries_.end()) throw not_found("no model named '" + name + "' (serving: " + names_locked() + ")");
        return it->second.current;
    }
    bool has(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return entries_.count(name) != 0;
    }
    std::string default_model() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return default_;
    }
    std::vector<std::string> names() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return order_;
    }
    int version(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(name);
        return it == entries_.end() ? 0 : it->second.version;
    }

    /// Loads `name` again (from `dir` when given, else its folder) and swaps it in. A load that
    /// fails leaves the current version serving and throws (500 naming the error).
    void reload(const std::string& name, const std::optional<std::string>& dir = std::nullopt) {
        ModelSpec spec;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            const auto it = entries_.find(name);
            if (it == entries_.end()) throw not_found("no model named '" + name + "' (serving: " + names_locked() + ")");
            spec = it->second.spec;
        }
        if (dir) spec.dir = *dir;
        std::shared_ptr<ModelRunner> fresh;
        try {
            fresh = std::make_shared<ModelRunner>(spec.name, spec.dir, spec.options, metrics_);
        } catch (const Error& e) {
            throw ApiError(500, "reload_failed", "reloading '" + name + "' from '" + spec.dir + "' failed; the current version keeps serving: " + e.what());
        }
        std::shared_ptr<ModelRunner> retired;  // destroyed (drained) after the lock is released
        {
            std::lock_guard<std::mutex> lock(mutex_);
            Entry& e = entries_[name];
            retired = std::move(e.previous);
            e.previous = std::move(e.current);
            e.current = std::move(fresh);
            e.spec.dir = spec.dir;
            ++e.version;
        }
    }

    /// Swaps back to the version before the last reload; 409 if there is none.
    void rollback(const std::string& name) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(name);
        if (it == entries_.end()) throw not_found("no model named '" + name + "' (serving: " + names_locked() + ")");
        Entry& e = it->second;
        if (!e.previous) throw ApiError(409, "conflict_error", "model '" + name + "' has no previous version to roll back to");
        std::swap(e.current, e.previous);
        e.spec.dir = e.current->dir();
        ++e.version;
    }

private:
    struct Entry {
        ModelSpec spec;
        std::shared_ptr<ModelRunner> current, previous;
        int version = 0;
    };
    std::string names_locked() const {
        std::string out;
        for (const auto& n : order_) out += (out.empty() ? "" : ", ") + n;
        return out;
    }

    Metrics* metrics_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    std::vector<std::string> order_;
    std::string default_;
};

}  // namespace minibert::serve
