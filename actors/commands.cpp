#include "actors/commands.hpp"

namespace herald {

const char* to_string(method m) {
  switch (m) {
    case method::enter: return "enter";
    case method::exit: return "exit";
    case method::join: return "join";
    case method::leave: return "leave";
    case method::speak: return "speak";
    case method::send: return "send";
    case method::listen: return "listen";
    case method::presence: return "presence";
    case method::history: return "history";
    case method::attach: return "attach";
    case method::ping: return "ping";
  }
  return "unknown";
}

std::string render_reply_frame(const nlohmann::json& id, bool has_id, const reply& r) {
  std::string out = "{";
  if (has_id) {
    out += "\"id\":";
    out += id.dump();
    out += ',';
  }
  if (r.ok()) {
    out += "\"result\":";
    out += r.result_json.empty() ? std::string{"{}"} : r.result_json;
  } else {
    out += "\"error\":{\"code\":";
    out += nlohmann::json(r.error_code).dump();
    out += ",\"message\":";
    out += nlohmann::json(r.error_message)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '}';
  }
  out += '}';
  return out;
}

unsigned status_of(const std::string& code) {
  if (code.empty())
    return 200;
  if (code == "bad_request")
    return 400;
  if (code == "unauthorized")
    return 401;
  if (code == "forbidden")
    return 403;
  if (code == "unknown_session" || code == "not_found")
    return 404;
  if (code == "too_large")
    return 413;
  if (code == "rate_limited")
    return 429;
  if (code == "unavailable")
    return 503;
  return 500;
}

} // namespace herald
