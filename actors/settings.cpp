#include "actors/settings.hpp"

#include <set>

#include "actors/names.hpp"

namespace herald {

const declared_group* settings::find_declared(const std::string& name) const {
  for (const auto& g : groups)
    if (g.name == name)
      return &g;
  return nullptr;
}

const declared_group* settings::find_declared_bit(std::uint64_t bit) const {
  for (const auto& g : groups)
    if (g.bit == bit)
      return &g;
  return nullptr;
}

std::string validate(const settings& s) {
  if (s.lease.count() < 1)
    return "lease must be at least 1 s";
  if (s.max_lease < s.lease)
    return "max-lease must not be below lease";
  if (s.queue_max < 2)
    return "queue-max must be at least 2 (an overflow event needs a slot)";
  if (s.max_listen_timeout.count() > 120)
    return "max-listen-timeout must be at most 120 s";
  if (s.listen_timeout.count() < 0)
    return "listen-timeout must not be negative";
  if (s.listen_timeout > s.max_listen_timeout)
    return "listen-timeout must be at most " + std::to_string(s.max_listen_timeout.count()) + " s";
  if (s.heartbeat.count() < 1)
    return "heartbeat must be at least 1 s";
  if (s.tls_cert.empty() != s.tls_key.empty())
    return "tls-cert and tls-key go together (HTTPS needs both)";
  if (s.group_replicas < 1)
    return "group-replicas must be at least 1";
  if (s.peer_heartbeat.count() < 1)
    return "peer-heartbeat must be at least 1 s";
  if (s.peer_timeout <= s.peer_heartbeat)
    return "peer-timeout must be longer than peer-heartbeat";
  if (s.peer_connect_timeout.count() < 1)
    return "peer-connect-timeout must be at least 1 s";
  if (s.peers_dns_interval.count() < 1)
    return "peers-dns-interval must be at least 1 s";
  if (s.max_body < 64)
    return "max-body must be at least 64 bytes";
  if (s.max_data < 1 || s.max_data > s.max_body)
    return "max-data must be between 1 and max-body";
  if (s.max_batch < 1)
    return "max-batch must be at least 1";
  if (s.listen_batch < 1)
    return "listen-batch must be at least 1";
  if (s.max_connections < 1)
    return "max-connections must be at least 1";
  if (s.publish_batch < 1)
    return "publish-batch must be at least 1";
  if (s.max_stream_buffer < 1024)
    return "max-stream-buffer must be at least 1 KiB";
  if (s.ws_max_frame < 128)
    return "ws-max-frame must be at least 128 bytes";
  if (s.ws_max_fragments < 1)
    return "ws-max-fragments must be at least 1";
  for (const auto& origin : s.public_origin)
    if (!origin.starts_with("http://") && !origin.starts_with("https://"))
      return "public-origin \"" + origin + "\" must be http://HOST[:PORT] or https://HOST[:PORT]";
  if (s.ws_max_inflated < s.ws_max_frame)
    return "ws-max-inflated must be at least ws-max-frame";
  if (s.stream_max_age.count() < 1)
    return "stream-max-age must be at least 1 s";
  if (s.metrics_sample_timeout.count() < 1)
    return "metrics-sample-timeout must be at least 1 s";
  if (s.io_threads < 1 || s.actor_threads < 1)
    return "io-threads and actor-threads must be at least 1";
  std::set<std::string> names;
  std::set<std::uint64_t> bits;
  for (const auto& g : s.groups) {
    if (!is_valid_group_name(g.name))
      return "group \"" + g.name + "\": name must be 1-128 chars of [A-Za-z0-9_.:/-]";
    if (!names.insert(g.name).second)
      return "group \"" + g.name + "\" is declared twice";
    if (g.bit != 0) {
      if ((g.bit & (g.bit - 1)) != 0)
        return "group \"" + g.name + "\": bit must be a power of two";
      if (!bits.insert(g.bit).second)
        return "group \"" + g.name + "\": bit " + std::to_string(g.bit) + " is already taken";
    }
  }
  return {};
}

} // namespace herald
