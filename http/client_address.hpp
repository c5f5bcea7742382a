#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace herald {

/// `--trusted-proxies`: the networks whose X-Forwarded-For is believed.
class proxy_list {
public:
  /// Parses "10.0.0.0/8,::1,192.168.1.7" (a bare address is a /32 or /128);
  /// nullopt with `error` set on a bad entry.
  static std::optional<proxy_list> parse(const std::vector<std::string>& entries,
                                         std::string& error);

  bool trusts(const boost::asio::ip::address& a) const;
  bool empty() const { return networks_.empty(); }

private:
  struct network {
    boost::asio::ip::address base;
    unsigned prefix = 0;
  };
  std::vector<network> networks_;
};

/// The client a request comes from: the TCP peer, unless the peer is a
/// trusted proxy; then the right-most address of X-Forwarded-For that is not
/// a trusted proxy (the left ones could be forged by the client), or the
/// left-most when all are trusted.
std::string client_address_of(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                              const proxy_list& proxies);

/// Counts what each client address holds (connections) against a limit.
/// Thread-safe: every network thread accepts.
class address_counter {
public:
  /// A held unit; released when the last copy goes.
  using slot = std::shared_ptr<void>;

  /// Takes one unit for `address`, or returns null when it holds `limit`.
  slot acquire(const std::string& address, std::size_t limit);

private:
  // Shared with every slot: a connection may outlive the server object
  // (pending handlers are destroyed with the io_context, after it).
  struct counts {
    std::mutex mutex;
    std::unordered_map<std::string, std::size_t> held;
  };
  std::shared_ptr<counts> counts_ = std::make_shared<counts>();
};

} // namespace herald
