#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/ssl/context.hpp>
#include <caf/all.hpp>

#include "actors/command_actor.hpp"
#include "actors/settings.hpp"
#include "http/client_address.hpp"
#include "http/cors.hpp"

namespace herald {

/// --trusted-proxies as parsed (main refused the node when they do not parse).
inline proxy_list parsed_proxies(const settings& s) {
  std::string ignored;
  return proxy_list::parse(s.trusted_proxies, ignored).value_or(proxy_list{});
}

/// What every connection of a node shares: immutable settings and handles,
/// plus two atomics. No actor state lives here.
struct server_context {
  server_context(caf::actor_system& system, std::shared_ptr<const settings> config,
                 caf::actor directory, std::shared_ptr<const token_verifier> tokens,
                 std::shared_ptr<boost::asio::ssl::context> tls)
      : system(system), config(config), commands{directory, config, std::move(tokens)},
        cors(config->allow_origin, config->public_origin), tls(std::move(tls)) {
    // nop
  }

  caf::actor_system& system;
  std::shared_ptr<const settings> config;
  command_context commands;
  cors_policy cors;
  std::shared_ptr<boost::asio::ssl::context> tls; ///< null: plain HTTP
  proxy_list proxies = parsed_proxies(*config);   ///< --trusted-proxies
  address_counter connections_by_address;         ///< --max-connections-per-address
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> open_connections{0};
};

} // namespace herald
