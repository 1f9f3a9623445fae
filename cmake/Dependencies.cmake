# Every dependency comes from Debian's packages (scripts/install-deps.sh); nothing is downloaded here.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(prometheus-cpp REQUIRED COMPONENTS core)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libyaml (Debian's libyaml-dev), the C reference parser, for YAML files inside ConfigMaps on the admission path:
# 15 us against yaml-cpp's 173 us on a 25-line dbt profiles.yml (policy/src/bounded_yaml.h). yaml-cpp stays for
# configuration and manifests, which are read once.
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
# Boost.Asio + Beast (header-only) for the webhook's event-driven serving core; Debian's libboost1.81-dev.
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS headers)
# jemalloc (Debian's libjemalloc-dev) as the webhook's allocator: nlohmann's DOM makes admission allocation-heavy,
# and jemalloc cut the server's CPU per review by ~20 % under wrk (bench/webhook_load.sh) and hands freed memory
# back to the OS after large reviews. Not linked into sanitizer builds (ASan brings its own allocator).
find_library(PIPEGUARD_JEMALLOC NAMES jemalloc REQUIRED)
# simdjson (Debian's libsimdjson-dev 3.0.1) for the webhook's request-body parse: on the representative 6 KB
# AdmissionReview, simdjson plus conversion to the engine's nlohmann DOM takes 24 us against 53 us for
# nlohmann::json::parse (same machine, same run); see webhook/src/json_text.h. The engine reads simdjson's DOM
# itself through policy::JsonRef (policy/src/json_ref.cc), so the policy target links it too.
find_package(simdjson 3 REQUIRED CONFIG)

if(PIPEGUARD_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
