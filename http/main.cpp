// build/herald: one Herald node.

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <caf/all.hpp>

#include "actors/directory_actor.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "http/command_line.hpp"
#include "http/server.hpp"

int main(int argc, char** argv) {
  using namespace herald;
  auto loaded = load_settings(argc, argv, [](const char* name) { return std::getenv(name); });
  if (loaded.show_help) {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  if (!loaded.error.empty()) {
    std::fprintf(stderr, "herald: %s\n", loaded.error.c_str());
    return 2;
  }
  try {
    // Session ids come from getrandom; a kernel without it must not start a node.
    (void)make_epoch();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald: %s\n", e.what());
    return 1;
  }
  auto config = std::make_shared<const settings>(std::move(loaded.values));
  log::set_level(config->log);
  if (config->api_key.empty())
    log::warn("no --api-key: POST /v1/publish is open to anyone who can reach this node");

  caf::actor_system_config caf_config;
  caf_config.add_message_types<caf::id_block::herald>();
  caf_config.set("scheduler.max-threads", static_cast<size_t>(config->actor_threads));
  caf_config.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{caf_config};

  auto directory = spawn_directory_actor(system, config);
  {
    server front{system, config, directory};
    if (auto err = front.start(); !err.empty()) {
      log::error("cannot start", {{"error", err}});
      return 1;
    }
    front.wait();
  }
  // The directory ends every session and group; the actor system's
  // destructor then waits for them, so nothing outlives main.
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  log::info("stopped");
  return 0;
}
