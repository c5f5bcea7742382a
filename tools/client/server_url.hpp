#pragma once

// Where the server is: the --url of the command line, parsed once.

#include <optional>
#include <string>
#include <string_view>

namespace herald::client {

/// A Herald server's base address, e.g. http://127.0.0.1:8080 or
/// http://chat.example.com/herald (a reverse proxy prefix).
struct server_url {
  std::string host;        ///< name or address; IPv6 without brackets
  std::string port = "80"; ///< decimal
  std::string base_path;   ///< "" or "/prefix", never ending in '/'

  /// Returns "host:port" as sent in the Host header (IPv6 in brackets).
  std::string host_header() const;

  /// Returns base_path + `path` (`path` starts with '/').
  std::string target(std::string_view path) const;

  /// Returns the URL again, e.g. "http://127.0.0.1:8080".
  std::string to_string() const;
};

/// Parses `http://host[:port][/prefix]` (also `ws://`, meaning the same
/// server). Returns nullopt and sets `error` when the scheme is not http/ws
/// (TLS is not supported), the host is empty, the port is not 1–65535, or a
/// query or fragment is present.
std::optional<server_url> parse_server_url(std::string_view text, std::string& error);

} // namespace herald::client
