#include "actors/event.hpp"

#include "metrics/node_metrics.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace herald {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string json_quote(std::string_view s) {
  return nlohmann::json(std::string{s})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

std::string time_suffix(std::int64_t time) {
  return ",\"time\":" + std::to_string(time) + "}";
}

} // namespace

event make_message_event(std::string_view group, std::uint64_t seq, std::string_view epoch,
                         std::string_view from, std::string_view data_json, std::int64_t time) {
  std::string tail;
  tail.reserve(64 + group.size() + epoch.size() + from.size() + data_json.size());
  tail += "\"group\":";
  tail += json_quote(group);
  tail += ",\"seq\":";
  tail += std::to_string(seq);
  tail += ",\"epoch\":";
  tail += json_quote(epoch);
  tail += ",\"from\":";
  tail += json_quote(from);
  tail += ",\"data\":";
  tail += data_json;
  tail += time_suffix(time);
  return event{"message", std::move(tail), now_ns(), seq};
}

event make_direct_event(std::string_view from, std::string_view to, std::string_view data_json,
                        std::int64_t time) {
  std::string tail = "\"from\":" + json_quote(from) + ",\"to\":" + json_quote(to)
                     + ",\"data\":" + std::string{data_json} + time_suffix(time);
  return event{"direct", std::move(tail), now_ns()};
}

event make_join_event(std::string_view group, std::string_view user, std::int64_t time) {
  return event{"join", "\"group\":" + json_quote(group) + ",\"user\":" + json_quote(user)
                           + time_suffix(time)};
}

event make_leave_event(std::string_view group, std::string_view user, std::string_view reason,
                       std::int64_t time) {
  return event{"leave", "\"group\":" + json_quote(group) + ",\"user\":" + json_quote(user)
                            + ",\"reason\":" + json_quote(reason) + time_suffix(time)};
}

void append_with_eid(std::string& out, const event& e, std::uint64_t eid) {
  out += "{\"type\":\"";
  out += e.type;
  out += "\",\"eid\":";
  out += std::to_string(eid);
  out += ',';
  out += e.tail;
}

std::string render_with_eid(const event& e, std::uint64_t eid) {
  std::string out;
  out.reserve(32 + e.tail.size());
  append_with_eid(out, e, eid);
  return out;
}

std::string render_without_eid(const event& e) {
  return "{\"type\":\"" + e.type + "\"," + e.tail;
}

std::string render_overflow(std::uint64_t eid, std::uint64_t dropped, std::int64_t time) {
  return "{\"type\":\"overflow\",\"eid\":" + std::to_string(eid)
         + ",\"dropped\":" + std::to_string(dropped) + ",\"time\":" + std::to_string(time) + "}";
}

} // namespace herald
