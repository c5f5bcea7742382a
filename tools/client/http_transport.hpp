#pragma once

#include <set>

#include "tools/client/http_exchange.hpp"
#include "tools/client/transport.hpp"

namespace herald::client {

/// What the HTTP transports (long-poll, SSE) share: commands go to
/// `POST /v1/rpc`, one exchange each; there is nothing to open.
class http_transport : public transport, public std::enable_shared_from_this<http_transport> {
public:
  http_transport(boost::asio::any_io_executor executor, transport_settings settings);

  void open(std::function<void(std::optional<link_problem>)> done) override;
  void call(json frame, std::function<void(call_outcome)> done) override;
  void close() override;

protected:
  /// Reads an error out of a non-200 answer: `{"error":{…}}` when the body
  /// has one, else a `lost` (5xx) or `failed` problem naming the status.
  static link_problem problem_of(const http_response& response, const char* what);

  boost::asio::any_io_executor executor_;
  transport_settings settings_;
  bool closed_ = false;

private:
  std::set<std::shared_ptr<http_exchange>> calls_;
};

/// Returns `text` percent-encoded for a query value (RFC 3986 unreserved kept).
std::string encode_query_value(const std::string& text);

} // namespace herald::client
