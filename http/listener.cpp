#include "http/listener.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "actors/log.hpp"
#include "http/http_session.hpp"

namespace herald {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

listener::listener(net::io_context& ioc, server_context& ctx, connection_registry& registry)
    : ioc_(ioc), acceptor_(net::make_strand(ioc)), ctx_(ctx), registry_(registry) {
  // nop
}

std::string listener::open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec)
    return "open: " + ec.message();
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec)
    return "set reuse_address: " + ec.message();
  acceptor_.bind(endpoint, ec);
  if (ec)
    return "bind " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()) + ": "
           + ec.message();
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return "listen: " + ec.message();
  return {};
}

tcp::endpoint listener::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  do_accept();
}

void listener::close() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    // Out of file descriptors, typically. Retrying at once would spin on the
    // same error; back off briefly so open connections can finish.
    log::warn("accept failed", {{"error", ec.message()}});
    auto timer = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                     std::chrono::milliseconds{100});
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->do_accept(); });
    return;
  } else {
    socket.set_option(tcp::no_delay(true), ec);
    auto peer = socket.remote_endpoint(ec).address();
    // A trusted proxy carries many clients on its connections: it is not capped.
    address_counter::slot slot;
    bool over_address_limit = false;
    if (auto limit = ctx_.config->max_connections_per_address;
        limit != 0 && !ctx_.proxies.trusts(peer)) {
      slot = ctx_.connections_by_address.acquire(client_address_of(peer, {}, ctx_.proxies), limit);
      over_address_limit = slot == nullptr;
    }
    if (ctx_.tls) {
      start_tls(std::move(socket), peer, std::move(slot), over_address_limit);
    } else {
      client_stream stream{beast::tcp_stream{std::move(socket)}};
      stream.set_peer(peer);
      stream.hold(std::move(slot));
      start_session(std::move(stream), over_address_limit);
    }
  }
  do_accept();
}

void listener::start_session(client_stream&& stream, bool over_address_limit) {
  auto session = std::make_shared<http_session>(std::move(stream), ctx_, registry_);
  if (over_address_limit)
    return session->refuse_address();
  // Beyond max-connections a small reserve still answers health probes, so
  // that a full node is not taken for a dead one and restarted.
  auto open = ctx_.open_connections.load();
  if (open > ctx_.config->max_connections + ctx_.config->probe_connections)
    session->reject();
  else if (open > ctx_.config->max_connections)
    session->run_for_probes();
  else
    session->run();
}

// The handshake must finish within request-timeout, like a request: a client
// that opens TLS and stalls holds no slot for longer.
void listener::start_tls(tcp::socket&& socket, boost::asio::ip::address peer,
                         address_counter::slot slot, bool over_address_limit) {
  auto tls
      = std::make_unique<client_stream::tls_layer>(beast::tcp_stream{std::move(socket)}, *ctx_.tls);
  auto* layer = tls.get();
  layer->next_layer().expires_after(ctx_.config->request_timeout);
  layer->async_handshake(boost::asio::ssl::stream_base::server,
                         [self = shared_from_this(), tls = std::move(tls), peer,
                          slot = std::move(slot),
                          over_address_limit](beast::error_code ec) mutable {
                           if (ec) {
                             // Plain HTTP sent to the HTTPS port lands here too: nothing to answer
                             // in TLS.
                             log::debug("TLS handshake failed", {{"error", ec.message()}});
                             beast::error_code ignored;
                             tls->next_layer().socket().close(ignored);
                             return;
                           }
                           tls->next_layer().expires_never();
                           client_stream stream{std::move(tls)};
                           stream.set_peer(peer);
                           stream.hold(std::move(slot));
                           self->start_session(std::move(stream), over_address_limit);
                         });
}

} // namespace herald
