// build/herald: one Herald node.

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/directory_actor.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "auth/jwt_verifier.hpp"
#include "cluster/membership.hpp"
#include "cluster/seed_probe.hpp"
#include "http/client_address.hpp"
#include "http/command_line.hpp"
#include "http/server.hpp"
#include "http/tls_context.hpp"

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
  std::shared_ptr<const token_verifier> tokens;
  if (config->authentication_on()) {
    auto loaded_keys = load_jwt_verifier({config->jwt_hs256_secret, config->jwt_public_key,
                                          config->jwt_audience, config->jwt_issuer});
    if (auto* error = std::get_if<std::string>(&loaded_keys)) {
      std::fprintf(stderr, "herald: %s\n", error->c_str());
      return 2;
    }
    tokens = std::get<std::shared_ptr<const token_verifier>>(std::move(loaded_keys));
  }
  if (std::string error; !proxy_list::parse(config->trusted_proxies, error)) {
    std::fprintf(stderr, "herald: %s\n", error.c_str());
    return 2;
  }
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!config->tls_cert.empty()) {
    auto made = make_tls_context(config->tls_cert, config->tls_key);
    if (auto* error = std::get_if<std::string>(&made)) {
      std::fprintf(stderr, "herald: %s\n", error->c_str());
      return 2;
    }
    tls = std::get<std::shared_ptr<boost::asio::ssl::context>>(std::move(made));
  }
  if (config->api_key.empty())
    log::warn("no --api-key: POST /v1/publish is open to anyone who can reach this node");

  caf::actor_system_config caf_config;
  caf_config.add_message_types<caf::id_block::herald>();
  caf_config.set("scheduler.max-threads", static_cast<size_t>(config->actor_threads));
  caf_config.set("logger.verbosity", caf::atom("quiet"));
  // Off by default in CAF 0.17: without them a frozen peer is noticed only by TCP (minutes).
  caf_config.load<caf::io::middleman>();
  caf_config.set("middleman.heartbeat-interval", caf::timespan{config->peer_heartbeat});
  caf_config.set("middleman.connection-timeout", caf::timespan{config->peer_timeout});
  caf::actor_system system{caf_config};

  auto directory = spawn_directory_actor(system, config);
  caf::actor membership;
  if (!config->cluster_listen.empty()) {
    std::string host;
    std::uint16_t port = 0;
    split_host_port(config->cluster_listen, host, port);
    membership = spawn_membership(system, config, directory);
    auto bound = system.middleman().publish(membership, port, host.c_str(), true);
    if (!bound) {
      log::error("cannot listen for the cluster",
                 {{"addr", config->cluster_listen}, {"error", system.render(bound.error())}});
      caf::anon_send_exit(membership, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
      return 1;
    }
    caf::anon_send(membership, seeds_atom::value, *bound);
    // The bound port, not the asked one: with port 0 the kernel picks it.
    log::info("cluster listening",
              {{"addr", host + ":" + std::to_string(*bound)}, {"node", config->node}});
  } else if (!config->peers.empty() || !config->peers_dns.empty()) {
    log::warn("--peers and --peers-dns need --cluster-listen: this node stays alone");
  }
  {
    server front{system, config, directory, tokens, tls};
    if (auto err = front.start(); !err.empty()) {
      log::error("cannot start", {{"error", err}});
      return 1;
    }
    front.wait();
  }
  // The directory ends every session and group; the actor system's
  // destructor then waits for them, so nothing outlives main.
  if (membership)
    caf::anon_send_exit(membership, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
  log::info("stopped");
  return 0;
}
