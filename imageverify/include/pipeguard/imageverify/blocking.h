// Non-blocking mode: lets an event-loop thread run an admission review inline and hand it to a thread pool only
// when the review would have to wait on a registry.
//
// Contract: while a NonBlockingScope is alive on a thread, ImageVerificationService throws WouldBlock from that
// thread instead of making a registry call (every verdict it needs is not fresh in its caches). It throws before
// any registry call, thread or cache write, so the review can simply be run again elsewhere. Nothing else in
// pipeguard throws WouldBlock; code between the scope and the service must let it pass (the webhook's decorators
// rethrow it without recording anything). It deliberately does not derive from std::exception, so that a
// `catch (const std::exception&)` meant for real failures cannot swallow it.
#pragma once

namespace pipeguard::imageverify {

struct WouldBlock final {};

class NonBlockingScope {
 public:
  NonBlockingScope() : previous_(active_) { active_ = true; }
  ~NonBlockingScope() { active_ = previous_; }
  NonBlockingScope(const NonBlockingScope&) = delete;
  NonBlockingScope& operator=(const NonBlockingScope&) = delete;

  static bool Active() { return active_; }

 private:
  bool previous_;
  static inline thread_local bool active_ = false;
};

}  // namespace pipeguard::imageverify
