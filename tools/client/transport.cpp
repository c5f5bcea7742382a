#include "tools/client/transport.hpp"

#include "tools/client/longpoll_transport.hpp"
#include "tools/client/sse_transport.hpp"
#include "tools/client/websocket_transport.hpp"

namespace herald::client {

const char* to_string(transport_kind kind) {
  switch (kind) {
    case transport_kind::websocket: return "websocket";
    case transport_kind::longpoll: return "longpoll";
    case transport_kind::sse: return "sse";
  }
  return "unknown";
}

std::shared_ptr<transport> make_transport(transport_kind kind,
                                          boost::asio::any_io_executor executor,
                                          const transport_settings& settings) {
  switch (kind) {
    case transport_kind::websocket:
      return std::make_shared<websocket_transport>(std::move(executor), settings);
    case transport_kind::longpoll:
      return std::make_shared<longpoll_transport>(std::move(executor), settings);
    case transport_kind::sse: return std::make_shared<sse_transport>(std::move(executor), settings);
  }
  return nullptr;
}

} // namespace herald::client
