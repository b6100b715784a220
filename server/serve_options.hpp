// ServeOptions: everything the command line sets, in one struct the tests can fill directly.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "access_log.hpp"
#include "model_registry.hpp"
#include "requests.hpp"

namespace minibert::serve {

struct ServeOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                        ///< 0: any free port (ServeApp::bind() says which)
    std::vector<ModelSpec> models;          ///< the first is the default model
    std::vector<std::string> routes;        ///< --route NAME=A:90,B:10
    std::vector<std::string> shadows;       ///< --shadow NAME=A,B
    RequestLimits limits;
    std::size_t max_body_bytes = 1 << 20;   ///< larger bodies: 413
    std::size_t request_timeout_ms = 30000; ///< deadline per request (X-Timeout-Ms may ask for less): 504
    std::size_t read_timeout_ms = 5000;     ///< a client that sends its request slower than this is dropped
    std::size_t http_threads = 64;          ///< connections served at once (each keep-alive connection holds one)
    std::string api_key;                    ///< non-empty: every endpoint but /health needs "Authorization: Bearer KEY"
    LogFormat log_format = LogFormat::none; ///< access log on stderr
};

}  // namespace minibert::serve
