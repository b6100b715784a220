// AbRouter: routes a request's model name to the model that answers it.
//
//   --route NAME=A:90,B:10   split: of every 100 requests to NAME, 90 go to A and 10 to B
//   --shadow NAME=A,B        shadow: A answers; B runs on a copy of the request afterwards and
//                            /metrics records whether B agrees (labels; cosine of embeddings)
//
// The split is a counter, not a coin: each window of (sum of weights) requests goes exactly by
// the weights, so a 90/10 split is 90/10 after 100 requests, not roughly (and a test can say so).
// A name that is no route is a model name and routes to itself.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api_error.hpp"

namespace minibert::serve {

struct RouteTarget {
    std::string model;                  ///< answers the request
    std::optional<std::string> shadow;  ///< also runs it, unseen by the client
};

class AbRouter {
public:
    /// Parses "NAME=A:90,B:10". Throws std::invalid_argument with a message for the command line.
    void add_split(const std::string& spec) {
        const auto [name, rest] = split_name(spec, "--route");
        auto route = std::make_shared<Route>();
        Route& r = *route;
        std::size_t start = 0;
        while (start <= rest.size()) {
            const std::size_t comma = rest.find(',', start);
            const std::string part = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            const std::size_t colon = part.rfind(':');
            if (colon == std::string::npos || colon == 0)
                throw std::invalid_argument("--route " + spec + ": each variant is MODEL:WEIGHT (e.g. fp32:90,int8:10)");
            unsigned long w = 0;
            try {
                std::size_t used = 0;
                w = std::stoul(part.substr(colon + 1), &used);
                if (used != part.size() - colon - 1) throw std::invalid_argument("");
            } catch (const std::exception&) {
                throw std::invalid_argument("--route " + spec + ": weight '" + part.substr(colon + 1) + "' is not a whole number");
            }
            if (w > 1000000) throw std::invalid_argument("--route " + spec + ": a weight is at most 1000000");
            r.variants.emplace_back(part.substr(0, colon), w);
            r.total += w;
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        if (r.total == 0) throw std::invalid_argument("--route " + spec + ": the weights sum to 0");
        routes_[name] = std::move(route);
    }

    /// Parses "NAME=A,B".
    void add_shadow(const std::string& spec) {
        const auto [name, rest] = split_name(spec, "--shadow");
        const std::size_t comma = rest.find(',');
        if (comma == std::string::npos || comma == 0 || comma + 1 == rest.size() || rest.find(',', comma + 1) != std::string::npos)
            throw std::invalid_argument("--shadow " + spec + ": expected NAME=PRIMARY,SHADOW");
        auto r = std::make_shared<Route>();
        r->variants.emplace_back(rest.substr(0, comma), 1);
        r->total = 1;
        r->shadow = rest.substr(comma + 1);
        routes_[name] = std::move(r);
    }

    /// The models a route names (to check at startup that each is served).
    std::vector<std::string> models_named() const {
        std::vector<std::string> out;
        for (const auto& [name, r] : routes_) {
            for (const auto& v : r->variants) out.push_back(v.first);
            if (r->shadow) out.push_back(*r->shadow);
        }
        return out;
    }
    bool is_route(const std::string& name) const { return routes_.count(name) != 0; }
    std::vector<std::string> route_names() const {
        std::vector<std::string> out;
        for (const auto& kv : routes_) out.push_back(kv.first);
        return out;
    }

    RouteTarget resolve(const std::string& name) const {
        const auto it = routes_.find(name);
        if (it == routes_.end()) return {name, std::nullopt};
        Route& r = *it->second;
        const unsigned long long n = r.counter.fetch_add(1) % r.total;
        unsigned long long acc = 0;
        for (const auto& [model, w] : r.variants) {
            acc += w;
            if (n < acc) return {model, r.shadow};
        }
        return {r.variants.back().first, r.shadow};
    }

private:
    struct Route {
        std::vector<std::pair<std::string, unsigned long>> variants;
        unsigned long long total = 0;
        std::optional<std::string> shadow;
        mutable std::atomic<unsigned long long> counter{0};
    };
    static std::pair<std::string, std::string> split_name(const std::string& spec, const char* option) {
        const std::size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
            throw std::invalid_argument(std::string(option) + " " + spec + ": expected NAME=...");
        return {spec.substr(0, eq), spec.substr(eq + 1)};
    }
    std::map<std::string, std::shared_ptr<Route>> routes_;  // fixed after startup: read without a lock
};

}  // namespace minibert::serve
