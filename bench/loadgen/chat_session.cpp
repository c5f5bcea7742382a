#include "bench/loadgen/chat_session.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "bench/loadgen/connection.hpp"
#include "bench/loadgen/http_reader.hpp"
#include "bench/loadgen/payload.hpp"
#include "bench/loadgen/websocket_codec.hpp"

namespace herald::bench {

namespace {

constexpr std::string_view ws_key = "dGhlIHNhbXBsZSBub25jZQ=="; // any 16 bytes of base64 do

// nchan message ids of a multiplexed channel look like "1795271180:[1],0": percent-encode
// everything but unreserved characters for the query string.
std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '-'
        || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

} // namespace

/// One WebSocket of a session: the upgrade, then frames. It reports to its session until the
/// session lets go of it (churn), after which its close says nothing.
class chat_session::link : public connection {
public:
  explicit link(chat_session& session) : session_(&session) {}

  void release() { session_ = nullptr; }
  void send_text(std::string_view text) {
    std::string frame;
    append_ws_frame(frame, ws_opcode::text, text);
    send(frame);
  }

  // http_reader sink (only the 101 is read as HTTP)
  bool on_head(const http_head& head) {
    if (head.status != 101) {
      close("upgrade answered " + std::to_string(head.status));
      return false;
    }
    upgraded_ = true;
    if (session_ != nullptr)
      session_->on_upgraded();
    return false;
  }
  void on_body(std::string_view) {}
  void on_end() {}

  // ws_reader sink
  void on_ws_message(ws_opcode opcode, std::string_view payload) {
    if (opcode == ws_opcode::text) {
      if (session_ != nullptr)
        session_->on_text(payload);
    } else if (opcode == ws_opcode::ping) {
      std::string frame;
      append_ws_frame(frame, ws_opcode::pong, payload);
      send(frame);
    } else if (opcode == ws_opcode::close) {
      close("websocket closed by the server");
    }
  }

private:
  void on_connected() override {
    if (session_ != nullptr)
      send(session_->upgrade_request());
  }

  void on_input() override {
    if (!upgraded_) {
      const auto result = http_.read(in_, in_pos_, *this);
      if (!is_open())
        return;
      if (result == http_reader::status::error) {
        close("http: " + http_.error_text());
        return;
      }
      if (!upgraded_)
        return;
    }
    // Frames of this socket may come before the session is told of a close it caused.
    if (ws_.read(in_, in_pos_, *this) == ws_reader::status::error && is_open())
      close("websocket: " + ws_.error_text());
  }

  void on_closed(std::string_view why) override {
    auto* session = std::exchange(session_, nullptr); // frames still buffered go nowhere
    if (session != nullptr)
      session->on_link_closed(why);
  }

  chat_session* session_;
  http_reader http_;
  ws_reader ws_;
  bool upgraded_ = false;
};

chat_session::chat_session(chat_context& context, uint32_t index)
    : context_(context), index_(index), room_channel_(context.layout.room_of(index)),
      user_channel_(context.layout.user_channel(index)) {}

chat_session::~chat_session() {
  // Closing here must not call back into a half-destroyed session.
  if (link_)
    link_->release();
}

void chat_session::open() {
  ++context_.handshaking;
  connect();
}

void chat_session::connect() {
  retired_ = std::move(link_);
  link_ = std::make_unique<link>(*this);
  link_->open(context_.epoll_fd, context_.address);
}

void chat_session::churn() {
  if (state_ != state::streaming)
    return;
  churned_at_ns_ = now_ns();
  state_ = state::resuming;
  link_->release();
  link_->close("churn");
  connect();
}

std::string chat_session::upgrade_request() const {
  std::string target;
  std::string protocol;
  if (context_.opts.dialect == server_dialect::herald) {
    target = "/v1/ws";
    protocol = "herald.v1";
  } else {
    // ws+meta.nchan prefixes each message with its id, the resume point.
    target = "/chat?user=" + context_.channel_names[user_channel_]
             + "&room=" + context_.channel_names[room_channel_];
    if (!last_id_.empty())
      target += "&last_event_id=" + url_encode(last_id_);
    protocol = "ws+meta.nchan";
  }
  return "GET " + target + " HTTP/1.1\r\nHost: " + context_.host_header
         + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
         + std::string(ws_key)
         + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n";
}

void chat_session::on_upgraded() {
  if (context_.opts.dialect == server_dialect::nchan) {
    subscribed();
    return;
  }
  if (session_.empty()) {
    link_->send_text(R"({"id":1,"method":"enter","params":{"user":")"
                     + context_.channel_names[user_channel_] + R"(","groups":[")"
                     + context_.channel_names[room_channel_] + R"("]}})");
  } else {
    link_->send_text(R"({"id":2,"method":"attach","params":{"session":")" + session_
                     + R"(","cursor":)" + std::to_string(last_eid_) + "}}");
  }
}

void chat_session::on_text(std::string_view text) {
  if (context_.opts.dialect == server_dialect::herald)
    on_herald_text(text);
  else
    on_nchan_text(text);
}

void chat_session::on_herald_text(std::string_view text) {
  if (text.substr(0, 6) == R"({"id":)") {
    if (text.find(R"("result")") == std::string_view::npos) {
      fail("enter/attach failed: " + std::string(text.substr(0, 200)));
      return;
    }
    if (session_.empty()) {
      constexpr std::string_view key = R"("session":")";
      const auto at = text.find(key);
      const auto end = at == std::string_view::npos ? at : text.find('"', at + key.size());
      if (end == std::string_view::npos) {
        fail("enter reply without a session: " + std::string(text.substr(0, 200)));
        return;
      }
      session_ = text.substr(at + key.size(), end - at - key.size());
    }
    subscribed();
    return;
  }
  // Events come one per frame: {"type":…,"eid":N,…,"data":"<payload>",…}.
  if (text.find(R"("type":"error")") != std::string_view::npos
      || text.find(R"("type":"end")") != std::string_view::npos) {
    fail("stream ended: " + std::string(text.substr(0, 200)));
    return;
  }
  constexpr std::string_view eid_key = R"("eid":)";
  if (const auto at = text.find(eid_key); at != std::string_view::npos) {
    uint64_t eid = 0;
    std::from_chars(text.data() + at + eid_key.size(), text.data() + text.size(), eid);
    last_eid_ = std::max(last_eid_, eid);
  }
  constexpr std::string_view data_key = R"("data":")";
  if (const auto at = text.find(data_key); at != std::string_view::npos)
    record_payload(text.substr(at + data_key.size()));
}

// ws+meta.nchan: "id: <msgid>\ncontent-type: …\n\n<data>".
void chat_session::on_nchan_text(std::string_view text) {
  const auto body = text.find("\n\n");
  if (text.substr(0, 4) != "id: " || body == std::string_view::npos) {
    context_.stats.record_malformed();
    return;
  }
  last_id_ = text.substr(4, text.find('\n') - 4);
  record_payload(text.substr(body + 2));
}

void chat_session::record_payload(std::string_view text) {
  const int64_t now = now_ns();
  const auto fields = parse_payload(text);
  if (!fields || (fields->channel != room_channel_ && fields->channel != user_channel_)) {
    context_.stats.record_malformed();
    return;
  }
  auto& tracker = fields->channel == room_channel_ ? room_ : user_;
  context_.stats.record(tracker, fields->channel, *fields, now);
}

void chat_session::subscribed() {
  if (state_ == state::resuming) {
    ++context_.reconnects;
    context_.reconnect_ns.record(now_ns() - churned_at_ns_);
  } else if (state_ == state::connecting) {
    ever_ready_ = true;
    ++context_.ready;
    --context_.handshaking;
  }
  state_ = state::streaming;
}

void chat_session::fail(std::string_view why) {
  if (context_.first_error.empty())
    context_.first_error = "session " + std::to_string(index_) + ": " + std::string(why);
  give_up();
  link_->release();
  link_->close(why);
}

void chat_session::give_up() {
  switch (state_) {
    case state::connecting:
      ++context_.failed;
      --context_.handshaking;
      break;
    case state::resuming:
    case state::streaming: ++context_.lost; break;
    case state::lost: break;
  }
  state_ = state::lost;
}

void chat_session::on_link_closed(std::string_view why) {
  if (state_ == state::streaming) {
    // A client resumes whatever closed its socket (the protocol's slow-consumer cut-off,
    // for one): count it and resume like a churn.
    ++context_.server_closes;
    churned_at_ns_ = now_ns();
    state_ = state::resuming;
    connect();
    return;
  }
  if (context_.first_error.empty())
    context_.first_error = "session " + std::to_string(index_) + ": " + std::string(why);
  give_up();
}

} // namespace herald::bench
