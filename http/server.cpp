#include "http/server.hpp"

#include <algorithm>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/log.hpp"
#include "actors/messages.hpp"

namespace herald {

namespace net = boost::asio;
using tcp = net::ip::tcp;

std::optional<tcp::endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port > 65535)
      return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto address = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec)
    return std::nullopt;
  return tcp::endpoint{address, static_cast<unsigned short>(port)};
}

server::server(caf::actor_system& system, std::shared_ptr<const settings> config,
               caf::actor directory, std::shared_ptr<const token_verifier> tokens,
               std::shared_ptr<boost::asio::ssl::context> tls)
    : ioc_(static_cast<int>(config->io_threads)),
      ctx_(system, config, std::move(directory), std::move(tokens), std::move(tls)) {
  // nop
}

server::~server() {
  ioc_.stop();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

std::string server::start() {
  auto endpoint = parse_endpoint(ctx_.config->listen);
  if (!endpoint)
    return "--listen: \"" + ctx_.config->listen + "\" is not ADDR:PORT";
  listener_ = std::make_shared<listener>(ioc_, ctx_, registry_);
  if (auto err = listener_->open(*endpoint); !err.empty())
    return err;
  listener_->run();
  signals_ = std::make_shared<net::signal_set>(ioc_, SIGTERM, SIGINT);
  await_signal();
  auto bound = listener_->local_endpoint();
  auto address = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                         : bound.address().to_string();
  for (unsigned i = 0; i < ctx_.config->io_threads; ++i)
    threads_.emplace_back([this] { ioc_.run(); });
  log::info("listening",
            {{"addr", address + ":" + std::to_string(bound.port())}, {"node", ctx_.config->node}});
  return {};
}

void server::wait() {
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

void server::await_signal() {
  signals_->async_wait([this](boost::system::error_code ec, int) {
    if (ec)
      return;
    if (ctx_.draining) {
      log::info("second signal: exiting without waiting for the drain");
      listener_->close();
      ioc_.stop();
      return;
    }
    on_signal();
    await_signal();
  });
}

// SIGTERM: readiness false at once, new sessions refused (the directory
// answers `unavailable`), waiting long-polls answered, idle connections
// closed. The node keeps answering (ready=false, Connection: close) for a
// grace of min(2 s, --drain-timeout) so that probes see it leave; after that
// it exits as soon as no connection is open, and at --drain-timeout anyway.
void server::on_signal() {
  log::info("draining", {{"timeout_s", std::to_string(ctx_.config->drain_timeout.count())}});
  ctx_.draining = true;
  caf::anon_send(ctx_.commands.directory, drain_atom::value);
  registry_.close_idle();
  auto now = std::chrono::steady_clock::now();
  auto grace = std::min<std::chrono::steady_clock::duration>(ctx_.config->drain_timeout,
                                                             std::chrono::seconds{2});
  check_drained(now + grace, now + ctx_.config->drain_timeout);
}

void server::check_drained(std::chrono::steady_clock::time_point grace_end,
                           std::chrono::steady_clock::time_point deadline) {
  auto now = std::chrono::steady_clock::now();
  if (now >= deadline || (now >= grace_end && ctx_.open_connections == 0)) {
    log::info("drained", {{"open_connections", std::to_string(ctx_.open_connections.load())}});
    listener_->close();
    ioc_.stop();
    return;
  }
  registry_.close_idle(); // connections that finished a request since
  auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds{50});
  timer->async_wait([this, timer, grace_end, deadline](boost::system::error_code) {
    check_drained(grace_end, deadline);
  });
}

} // namespace herald
