#pragma once

#include "tools/client/http_transport.hpp"

namespace herald::client {

/// `GET /v1/listen` in a loop, each with the last cursor (which acknowledges
/// what came before). The first listen polls (`timeout=0`) so that the client
/// learns at once that the session is reachable; later ones wait up to
/// `listen_timeout` for events.
class longpoll_transport : public http_transport {
public:
  using http_transport::http_transport;

  void start_stream(const std::string& session, std::uint64_t cursor,
                    stream_handlers handlers) override;
  void close() override;

private:
  void poll();
  void on_poll(std::optional<link_problem> problem, http_response response);
  void end(link_problem problem);

  std::string session_;
  std::uint64_t cursor_ = 0;
  stream_handlers handlers_;
  bool started_ = false;
  bool ended_ = false;
  std::shared_ptr<http_exchange> listen_;
};

} // namespace herald::client
