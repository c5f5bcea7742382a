#include "bench/loadgen/publisher.hpp"

#include "bench/loadgen/payload.hpp"

namespace herald::bench {

void publisher::publish(uint32_t channel, uint64_t seq, bool warmup) {
  char payload[payload_size];
  const int64_t send_ns = now_ns();
  write_payload(payload, payload_fields{seq, send_ns, channel, warmup});
  const std::string_view data(payload, payload_size);
  const std::string& name = context_.channel_names[channel];
  request_.clear();
  if (context_.opts.dialect == server_dialect::herald) {
    // {"group":"<name>","data":"<payload>"} or {"user":"<name>","data":"<payload>"}
    const std::string_view key = context_.layout.is_user_channel(channel) ? "user" : "group";
    const std::size_t length = 17 + key.size() + name.size() + payload_size;
    request_ += "POST /v1/publish HTTP/1.1\r\nHost: ";
    request_ += context_.host_header;
    request_ += "\r\nContent-Type: application/json\r\n";
    if (!context_.opts.api_key.empty())
      request_ += "Authorization: Bearer " + context_.opts.api_key + "\r\n";
    request_ += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
    request_ += R"({")";
    request_ += key;
    request_ += R"(":")";
    request_ += name;
    request_ += R"(","data":")";
    request_ += data;
    request_ += R"("})";
  } else if (context_.opts.dialect == server_dialect::centrifugo) {
    // {"channel":"<name>","data":"<payload>"}: the payload is a JSON string, valid JSON data.
    const std::size_t length = 24 + name.size() + payload_size;
    request_ += "POST /api/publish HTTP/1.1\r\nHost: ";
    request_ += context_.host_header;
    request_ += "\r\nContent-Type: application/json\r\nX-API-Key: ";
    request_ += context_.opts.api_key;
    request_ += "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
    request_ += R"({"channel":")";
    request_ += name;
    request_ += R"(","data":")";
    request_ += data;
    request_ += R"("})";
  } else {
    request_ += "POST /pub?id=";
    request_ += name;
    request_ += " HTTP/1.1\r\nHost: ";
    request_ += context_.host_header;
    request_ += "\r\nContent-Length: " + std::to_string(payload_size) + "\r\n\r\n";
    request_ += data;
  }
  ++in_flight_;
  sent_.push_back({send_ns, warmup});
  queue(request_);
}

void publisher::on_input() {
  if (http_.read(in_, in_pos_, *this) == http_reader::status::error) {
    if (context_.first_error.empty())
      context_.first_error = "publisher: " + http_.error_text();
    close("bad response");
  }
}

bool publisher::on_head(const http_head& head) {
  status_ = head.status;
  body_.clear();
  return true;
}

void publisher::on_body(std::string_view piece) {
  if (context_.opts.dialect == server_dialect::centrifugo && body_.size() < 512)
    body_.append(piece);
}

void publisher::on_end() {
  if (in_flight_ > 0)
    --in_flight_;
  if (!sent_.empty()) {
    if (!sent_.front().warmup)
      context_.round_trip.record(now_ns() - sent_.front().send_ns);
    sent_.pop_front();
  }
  if (body_.find(R"("error")") != std::string::npos)
    status_ = 502; // Centrifugo's API error inside a 200
  if (status_ >= 200 && status_ < 300) {
    ++context_.published;
  } else {
    ++context_.errors;
    if (context_.first_error.empty())
      context_.first_error = "publish answered " + std::to_string(status_) + " " + body_;
  }
}

void publisher::on_closed(std::string_view why) {
  ++context_.closed;
  if (context_.first_error.empty())
    context_.first_error = "publisher closed: " + std::string(why);
}

} // namespace herald::bench
