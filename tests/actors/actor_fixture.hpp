#pragma once

// Shared fixture of the actor tests: an actor system on CAF's deterministic
// test coordinator (no threads, simulated clock) and recording actors that
// keep every message they receive, so a test sends as a recorder, runs the
// scheduler and then reads what came back.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/event.hpp"
#include "actors/messages.hpp"

namespace herald::testing {

/// Every message one recording actor received, in arrival order.
using message_log = std::vector<caf::message>;

/// A recording actor and its log. It answers nothing and never quits on its
/// own; it may stand in for a session (groups send it events) or for a
/// listener or requester (sessions and groups answer it).
struct recorder {
  caf::actor handle;
  std::shared_ptr<message_log> log;

  /// The `(event_atom, event)` messages received, rendered without eid and
  /// parsed back (a test failure is recorded if one is not valid JSON).
  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& msg : *log)
      if (msg.match_elements<event_atom, event>()) {
        auto text = render_without_eid(msg.get_as<event>(1));
        auto parsed = nlohmann::json::parse(text, nullptr, false);
        EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << text;
        out.push_back(std::move(parsed));
      }
    return out;
  }

  /// The events of one type only (e.g. "join").
  std::vector<nlohmann::json> events_of_type(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events())
      if (e["type"] == type)
        out.push_back(std::move(e));
    return out;
  }

  /// The plain `reply` messages received (answers to requests sent as it).
  std::vector<reply> replies() const {
    std::vector<reply> out;
    for (const auto& msg : *log)
      if (msg.match_elements<reply>())
        out.push_back(msg.get_as<reply>(0));
    return out;
  }

  /// The results of successful replies, parsed (failures are skipped).
  std::vector<nlohmann::json> results() const {
    std::vector<nlohmann::json> out;
    for (const auto& r : replies())
      if (r.ok())
        out.push_back(nlohmann::json::parse(r.result_json));
    return out;
  }

  /// The `(deliver_atom, delivery)` messages received.
  std::vector<delivery> deliveries() const {
    std::vector<delivery> out;
    for (const auto& msg : *log)
      if (msg.match_elements<deliver_atom, delivery>())
        out.push_back(msg.get_as<delivery>(1));
    return out;
  }

  /// The `(deliver_atom, reply)` messages received (failed listens).
  std::vector<reply> delivery_failures() const {
    std::vector<reply> out;
    for (const auto& msg : *log)
      if (msg.match_elements<deliver_atom, reply>())
        out.push_back(msg.get_as<reply>(1));
    return out;
  }

  /// The single values of type T received (e.g. a publish's seq).
  template <class T>
  std::vector<T> values() const {
    std::vector<T> out;
    for (const auto& msg : *log)
      if (msg.match_elements<T>())
        out.push_back(msg.get_as<T>(0));
    return out;
  }

  /// One short line per message received, in order, for order assertions:
  /// "message:<seq>", "join:<user>", "leave:<user>:<reason>", "direct:<from>",
  /// "reply", "delivery", "failure", "down", or "other".
  std::vector<std::string> trace() const {
    std::vector<std::string> out;
    for (const auto& msg : *log) {
      if (msg.match_elements<event_atom, event>()) {
        const auto& e = msg.get_as<event>(1);
        auto value = nlohmann::json::parse(render_without_eid(e));
        if (e.type == "message")
          out.push_back("message:" + value["seq"].dump());
        else if (e.type == "join")
          out.push_back("join:" + value["user"].get<std::string>());
        else if (e.type == "leave")
          out.push_back("leave:" + value["user"].get<std::string>() + ":"
                        + value["reason"].get<std::string>());
        else if (e.type == "direct")
          out.push_back("direct:" + value["from"].get<std::string>());
        else
          out.push_back(e.type);
      } else if (msg.match_elements<reply>()) {
        out.push_back("reply");
      } else if (msg.match_elements<deliver_atom, delivery>()) {
        out.push_back("delivery");
      } else if (msg.match_elements<deliver_atom, reply>()) {
        out.push_back("failure");
      } else if (msg.match_elements<caf::down_msg>()) {
        out.push_back("down");
      } else {
        out.push_back("other");
      }
    }
    return out;
  }

  void clear() const { log->clear(); }
};

/// Base of every actor test: a system on the test coordinator.
class actor_fixture : public ::testing::Test {
protected:
  actor_fixture() : sys_(init(cfg_)), sched_(dynamic_cast<scheduler_type&>(sys_.scheduler())) {
    // Actors that outlive a test (groups, sessions, recorders) are dropped
    // with the system instead of being awaited forever.
    sys_.await_actors_before_shutdown(false);
  }

  ~actor_fixture() override {
    for (auto& handle : spawned_)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
    sched_.run();
    // The coordinator fires every pending timer on shutdown until none is
    // left; a session's lease check re-arms itself until real time passes
    // its lease, so pending timers are dropped instead.
    sched_.clock().cancel_all();
  }

  /// Spawns a recording actor.
  recorder spawn_recorder() {
    auto log = std::make_shared<message_log>();
    // The log travels as a spawn argument, not a capture: CAF 0.17 spawning
    // a function without arguments binds a reference to a null tuple (UBSan).
    auto handle = sys_.spawn(record, log);
    spawned_.push_back(handle);
    return recorder{handle, log};
  }

  /// Remembers `handle` so that the fixture ends it after the test.
  caf::actor keep(caf::actor handle) {
    spawned_.push_back(handle);
    return handle;
  }

  /// Returns a flag that turns true when `handle` terminates.
  static std::shared_ptr<bool> watch_exit(const caf::actor& handle) {
    auto exited = std::make_shared<bool>(false);
    handle->attach_functor([exited] { *exited = true; });
    return exited;
  }

  /// Sends `xs...` to `dest` as if `from` sent it (answers go to `from`).
  template <class... Ts>
  void send(const recorder& from, const caf::actor& dest, Ts&&... xs) {
    caf::send_as(from.handle, dest, std::forward<Ts>(xs)...);
  }

  /// Runs every actor until none has work left (timers do not fire).
  void run() { sched_.run(); }

  /// Moves the simulated clock forward, fires what falls due, and runs.
  void advance(caf::timespan by) {
    sched_.advance_time(by);
    sched_.run();
  }

  /// Fires every pending timer regardless of its due time, and runs.
  void fire_all_timers() {
    sched_.trigger_timeouts();
    sched_.run();
  }

private:
  using scheduler_type = caf::scheduler::test_coordinator;

  static caf::behavior record(caf::event_based_actor* self, std::shared_ptr<message_log> log) {
    self->set_default_handler(
        [log](caf::scheduled_actor*, caf::message_view& view) -> caf::result<caf::message> {
          log->push_back(view.copy_content_to_message());
          return caf::message{};
        });
    self->set_down_handler([log](caf::scheduled_actor*, caf::down_msg& down) {
      log->push_back(caf::make_message(down));
    });
    return {[](caf::unit_t) {}};
  }

  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.set("logger.console", caf::atom("none"));
    cfg.add_message_types<caf::id_block::herald>();
    return cfg;
  }

  caf::actor_system_config cfg_;

protected:
  caf::actor_system sys_;
  scheduler_type& sched_;

private:
  std::vector<caf::actor> spawned_;
};

} // namespace herald::testing
