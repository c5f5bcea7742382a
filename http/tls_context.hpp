#pragma once

#include <memory>
#include <string>
#include <variant>

#include <boost/asio/ssl/context.hpp>

namespace herald {

/// The server side of TLS for `--listen` (`--tls-cert`, `--tls-key`): TLS 1.2
/// and 1.3 only, OpenSSL's default cipher lists. Returns the context, or why
/// the files cannot be used (unreadable, not PEM, key not matching).
std::variant<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_tls_context(const std::string& cert_file, const std::string& key_file);

} // namespace herald
