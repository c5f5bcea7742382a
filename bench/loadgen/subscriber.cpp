#include "bench/loadgen/subscriber.hpp"

#include <charconv>

#include "bench/loadgen/payload.hpp"

namespace herald::bench {

namespace {

constexpr std::string_view ws_key = "dGhlIHNhbXBsZSBub25jZQ=="; // any 16 bytes of base64 do

uint64_t parse_cursor_after(std::string_view text, std::string_view key) {
  const auto at = text.rfind(key);
  if (at == std::string_view::npos)
    return 0;
  uint64_t value = 0;
  const char* begin = text.data() + at + key.size();
  std::from_chars(begin, text.data() + text.size(), value);
  return value;
}

} // namespace

subscriber::subscriber(subscriber_context& context, uint32_t global_index, uint32_t channel)
    : context_(context), index_(global_index), channel_(channel) {}

void subscriber::on_connected() {
  const auto& opts = context_.opts;
  const std::string& name = context_.channel_names[channel_];
  const std::string user = opts.user_prefix + "-" + std::to_string(index_);
  std::string request;
  if (opts.dialect == server_dialect::herald) {
    switch (opts.transport) {
      case sub_transport::ws:
        request = "GET /v1/ws HTTP/1.1\r\nHost: " + context_.host_header
                  + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                  + std::string(ws_key)
                  + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: herald.v1\r\n\r\n";
        phase_ = phase::upgrading;
        break;
      case sub_transport::sse:
        request = "GET /v1/sse?user=" + user + "&groups=" + name + " HTTP/1.1\r\nHost: "
                  + context_.host_header + "\r\nAccept: text/event-stream\r\n\r\n";
        phase_ = phase::streaming;
        break;
      case sub_transport::longpoll: {
        const std::string body = R"({"id":1,"method":"enter","params":{"user":")" + user
                                 + R"(","groups":[")" + name + R"("]}})";
        request = "POST /v1/rpc HTTP/1.1\r\nHost: " + context_.host_header
                  + "\r\nContent-Type: application/json\r\nContent-Length: "
                  + std::to_string(body.size()) + "\r\n\r\n" + body;
        phase_ = phase::entering;
        break;
      }
    }
  } else if (opts.dialect == server_dialect::centrifugo) {
    // WebSocket only (options refuse other transports); JSON protocol, its default.
    request = "GET /connection/websocket HTTP/1.1\r\nHost: " + context_.host_header
              + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
              + std::string(ws_key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    phase_ = phase::upgrading;
  } else {
    request = "GET /sub?id=" + name + " HTTP/1.1\r\nHost: " + context_.host_header + "\r\n";
    switch (opts.transport) {
      case sub_transport::ws:
        request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                   + std::string(ws_key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
        phase_ = phase::upgrading;
        break;
      case sub_transport::sse:
        request += "Accept: text/event-stream\r\n\r\n";
        phase_ = phase::streaming;
        break;
      case sub_transport::longpoll:
        request += "\r\n";
        phase_ = phase::polling;
        break;
    }
  }
  send(request);
  // nchan answers a long-poll only with a message: the subscription exists once the request
  // is read, which the publisher side checks with /nchan_status (--expect-subscribers).
  if (opts.dialect == server_dialect::nchan && opts.transport == sub_transport::longpoll)
    become_ready();
}

void subscriber::on_input() {
  for (;;) {
    if (phase_ == phase::streaming && context_.opts.transport == sub_transport::ws) {
      if (ws_.read(in_, in_pos_, *this) == ws_reader::status::error)
        fail("websocket: " + ws_.error_text());
      return;
    }
    const auto result = http_.read(in_, in_pos_, *this);
    if (!is_open())
      return;
    if (result == http_reader::status::error) {
      fail("http: " + http_.error_text());
      return;
    }
    if (result == http_reader::status::more)
      return;
    // stopped: a 101 switched the connection to WebSocket frames; read them now.
  }
}

bool subscriber::on_head(const http_head& head) {
  status_ = head.status;
  if (phase_ == phase::upgrading) {
    if (head.status != 101) {
      fail("upgrade answered " + std::to_string(head.status));
      return false;
    }
    phase_ = phase::streaming;
    if (context_.opts.dialect == server_dialect::herald) {
      std::string frame;
      const std::string user = context_.opts.user_prefix + "-" + std::to_string(index_);
      append_ws_frame(frame, ws_opcode::text,
                      R"({"id":1,"method":"enter","params":{"user":")" + user + R"(","groups":[")"
                          + context_.channel_names[channel_] + R"("]}})");
      send(frame);
    } else if (context_.opts.dialect == server_dialect::centrifugo) {
      std::string frame;
      append_ws_frame(frame, ws_opcode::text, R"({"id":1,"connect":{}})");
      send(frame);
    } else {
      become_ready();
    }
    return false;
  }
  if (phase_ == phase::streaming) {
    if (head.status != 200) {
      fail("stream answered " + std::to_string(head.status));
      return false;
    }
    if (context_.opts.dialect == server_dialect::nchan)
      become_ready(); // herald: on its "session" event
    return true;
  }
  if (phase_ == phase::polling && context_.opts.dialect == server_dialect::nchan) {
    if (!head.etag.empty())
      etag_ = head.etag;
    if (!head.last_modified.empty())
      last_modified_ = head.last_modified;
  }
  body_.clear();
  return true;
}

void subscriber::on_body(std::string_view piece) {
  if (phase_ == phase::streaming)
    handle_sse_bytes(piece);
  else
    body_.append(piece);
}

void subscriber::on_end() {
  if (phase_ == phase::streaming) {
    fail("the event stream ended");
    return;
  }
  if (phase_ == phase::entering) {
    const auto key = std::string_view(R"("session":")");
    const auto at = body_.find(key);
    if (status_ != 200 || at == std::string::npos) {
      fail("enter answered " + std::to_string(status_) + ": " + body_.substr(0, 200));
      return;
    }
    const auto end = body_.find('"', at + key.size());
    session_ = body_.substr(at + key.size(), end - at - key.size());
    phase_ = phase::polling;
    become_ready();
    send_listen();
    return;
  }
  // phase::polling
  if (context_.opts.dialect == server_dialect::herald) {
    if (status_ != 200) {
      fail("listen answered " + std::to_string(status_) + ": " + body_.substr(0, 200));
      return;
    }
    record_herald_events(body_);
    cursor_ = std::max(cursor_, parse_cursor_after(body_, R"("cursor":)"));
  } else if (status_ == 200) {
    record_payload(body_);
  } else if (status_ != 304 && status_ != 408) {
    fail("nchan long-poll answered " + std::to_string(status_));
    return;
  }
  send_listen();
}

void subscriber::send_listen() {
  std::string request;
  if (context_.opts.dialect == server_dialect::herald) {
    request = "GET /v1/listen?session=" + session_ + "&cursor=" + std::to_string(cursor_)
              + "&timeout=60 HTTP/1.1\r\nHost: " + context_.host_header + "\r\n\r\n";
  } else {
    request = "GET /sub?id=" + context_.channel_names[channel_]
              + " HTTP/1.1\r\nHost: " + context_.host_header + "\r\n";
    if (!last_modified_.empty())
      request += "If-Modified-Since: " + last_modified_ + "\r\n";
    if (!etag_.empty())
      request += "If-None-Match: " + etag_ + "\r\n";
    request += "\r\n";
  }
  send(request);
}

void subscriber::on_ws_message(ws_opcode opcode, std::string_view payload) {
  switch (opcode) {
    case ws_opcode::text:
      if (context_.opts.dialect == server_dialect::centrifugo) {
        handle_centrifugo_frame(payload);
      } else if (context_.opts.dialect == server_dialect::nchan) {
        record_payload(payload);
      } else if (payload.substr(0, 6) == R"({"id":)") {
        if (payload.find(R"("result")") == std::string_view::npos) {
          fail("enter failed: " + std::string(payload.substr(0, 200)));
          return;
        }
        become_ready();
      } else {
        record_herald_events(payload);
      }
      break;
    case ws_opcode::ping: {
      std::string frame;
      append_ws_frame(frame, ws_opcode::pong, payload);
      send(frame);
      break;
    }
    case ws_opcode::close: fail("websocket closed by the server"); break;
    default: break;
  }
}

// A Centrifugo frame holds one or more replies or pushes, one JSON object per line:
// {"id":1,"connect":{…}} → subscribe; {"id":2,"subscribe":{…}} → ready; {} is a ping that
// wants a {} back; {"push":{"channel":…,"pub":{"data":"<payload>",…}}} is a message.
void subscriber::handle_centrifugo_frame(std::string_view frame) {
  while (!frame.empty() && is_open()) {
    const auto end = frame.find('\n');
    const std::string_view line = frame.substr(0, end);
    frame = end == std::string_view::npos ? std::string_view{} : frame.substr(end + 1);
    if (line == "{}") {
      std::string pong;
      append_ws_frame(pong, ws_opcode::text, "{}");
      send(pong);
    } else if (line.substr(0, 7) == R"({"id":1)" || line.substr(0, 7) == R"({"id":2)") {
      const bool connect = line[6] == '1';
      if (line.find(connect ? R"("connect")" : R"("subscribe")") == std::string_view::npos) {
        fail(std::string(connect ? "connect" : "subscribe")
             + " failed: " + std::string(line.substr(0, 200)));
        return;
      }
      if (connect) {
        std::string subscribe;
        append_ws_frame(subscribe, ws_opcode::text,
                        R"({"id":2,"subscribe":{"channel":")" + context_.channel_names[channel_]
                            + R"("}})");
        send(subscribe);
      } else {
        become_ready();
      }
    } else {
      record_herald_events(line);
    }
  }
}

void subscriber::handle_sse_bytes(std::string_view bytes) {
  sse_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    const auto end = sse_.find('\n', start);
    if (end == std::string::npos)
      break;
    std::string_view line(sse_.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty()) {
      handle_sse_event();
      if (!is_open())
        return;
      continue;
    }
    if (line.front() == ':')
      continue;
    const auto colon = line.find(':');
    const auto field = line.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    if (field == "event") {
      sse_event_ = value;
    } else if (field == "data") {
      if (!sse_data_.empty())
        sse_data_ += '\n';
      sse_data_ += value;
    }
  }
  sse_.erase(0, start);
}

void subscriber::handle_sse_event() {
  if (context_.opts.dialect == server_dialect::nchan) {
    if (!sse_data_.empty())
      record_payload(sse_data_);
  } else if (sse_event_ == "session") {
    become_ready();
  } else if (sse_event_ == "message") {
    record_herald_events(sse_data_);
  } else if (sse_event_ == "error" || sse_event_ == "superseded") {
    fail("sse " + sse_event_ + ": " + sse_data_.substr(0, 200));
  }
  sse_event_.clear();
  sse_data_.clear();
}

void subscriber::record_herald_events(std::string_view text) {
  constexpr std::string_view key = R"("data":")";
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    at += key.size();
    record_payload(text.substr(at));
  }
}

void subscriber::record_payload(std::string_view text) {
  const int64_t now = now_ns();
  if (auto fields = parse_payload(text))
    context_.stats.record(tracker_, channel_, *fields, now);
  else
    context_.stats.record_malformed();
}

void subscriber::become_ready() {
  if (ready_)
    return;
  ready_ = true;
  ++context_.ready;
  --context_.handshaking;
}

void subscriber::fail(std::string_view why) {
  if (context_.first_error.empty())
    context_.first_error = "subscriber " + std::to_string(index_) + ": " + std::string(why);
  close(why);
}

void subscriber::on_closed(std::string_view why) {
  if (ready_) {
    ++context_.disconnected;
  } else {
    ++context_.failed;
    --context_.handshaking;
  }
  if (context_.first_error.empty())
    context_.first_error = "subscriber " + std::to_string(index_) + ": " + std::string(why);
}

} // namespace herald::bench
