#include "http/static_files.hpp"

#include <array>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "http/static_assets.hpp"

namespace herald {

namespace http = boost::beast::http;

namespace {

struct static_path {
  std::string_view url;
  std::string_view file; // under web/
  std::string_view content_type;
};

constexpr std::array<static_path, 2> static_paths{{
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/herald.js", "herald.js", "text/javascript; charset=utf-8"},
}};

const static_path* find_static(std::string_view url) {
  for (const auto& p : static_paths)
    if (p.url == url)
      return &p;
  return nullptr;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

std::optional<std::string> content_of(const static_path& p, const std::string& web_root) {
  if (!web_root.empty())
    return read_file(web_root + "/" + std::string{p.file});
  for (const auto& asset : embedded_assets())
    if (asset.url == p.url)
      return std::string{asset.bytes};
  return std::nullopt;
}

std::string etag_of(std::string_view bytes) {
  std::ostringstream out;
  out << "\"" << std::hex << std::hash<std::string_view>{}(bytes) << "\"";
  return std::move(out).str();
}

} // namespace

bool is_static_path(std::string_view path) {
  return find_static(path) != nullptr;
}

http_response serve_static(const http_request& req, std::string_view path,
                           const std::string& web_root) {
  const auto* p = find_static(path);
  auto content = p ? content_of(*p, web_root) : std::nullopt;
  if (!content)
    return make_error_response(req, "not_found", "no such file: " + std::string{path});
  auto etag = etag_of(*content);
  bool unchanged = req[http::field::if_none_match] == etag;
  http_response res{unchanged ? http::status::not_modified : http::status::ok, req.version()};
  res.set(http::field::server, "herald");
  res.set(http::field::content_type, p->content_type);
  // Revalidate every time, so that a new build is picked up at once.
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, etag);
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  if (!unchanged) {
    res.body() = std::move(*content);
    res.prepare_payload();
  }
  return res;
}

} // namespace herald
