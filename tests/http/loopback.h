// Loopback servers for the HTTP client tests (http_test, aws_test).
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace pipeguard::http::testing {

// Binds `server` (plain or TLS) to a free port on 127.0.0.1, serves it on `thread`, and returns the port once the
// server accepts connections. The caller stops the server and joins the thread.
inline int ServeOnLoopback(httplib::Server& server, std::thread& thread) {
  const int port = server.bind_to_any_port("127.0.0.1");
  thread = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

}  // namespace pipeguard::http::testing
