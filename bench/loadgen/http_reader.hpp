#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

/// The head of one HTTP/1.1 response, with the few headers the load generator needs.
struct http_head {
  int status = 0;
  int64_t content_length = -1; // -1: none given
  bool chunked = false;
  std::string etag;          // nchan long-poll resume
  std::string last_modified; // nchan long-poll resume
};

/// An incremental HTTP/1.1 response reader for a client that sends its requests in order on
/// one connection (keep-alive, pipelined or streaming). Feed it bytes; it reports each
/// response's head, body pieces and end through the `sink`:
///   bool on_head(const http_head&)     false stops reading (e.g. after a 101 upgrade)
///   void on_body(std::string_view)     a piece of the decoded (de-chunked) body
///   void on_end()                      the response is complete
class http_reader {
public:
  enum class status { more, stopped, error };

  /// Consumes what it can of `in` from `pos` (advancing `pos`). Returns `stopped` when
  /// `on_head` returned false (the rest of `in` belongs to another protocol), `error` on
  /// malformed input (then `error_text()` says why), else `more`.
  template <class Sink>
  status read(const std::string& in, std::size_t& pos, Sink& sink);

  const std::string& error_text() const { return error_; }

  /// A response body that ends with the connection (no length, not chunked) is complete.
  template <class Sink>
  void on_eof(Sink& sink) {
    if (state_ == state::body_to_eof)
      sink.on_end();
    state_ = state::head;
  }

private:
  enum class state { head, body_length, chunk_size, chunk_data, chunk_crlf, trailer, body_to_eof };

  bool parse_head(std::string_view text);

  state state_ = state::head;
  http_head head_;
  int64_t remaining_ = 0;
  std::string error_;
};

template <class Sink>
http_reader::status http_reader::read(const std::string& in, std::size_t& pos, Sink& sink) {
  for (;;) {
    const std::string_view rest(in.data() + pos, in.size() - pos);
    switch (state_) {
      case state::head: {
        const auto end = rest.find("\r\n\r\n");
        if (end == std::string_view::npos) {
          if (rest.size() > 65536) {
            error_ = "response head over 64 KiB";
            return status::error;
          }
          return status::more;
        }
        if (!parse_head(rest.substr(0, end + 2)))
          return status::error;
        pos += end + 4;
        const bool keep_reading = sink.on_head(head_);
        if (head_.status == 101 || !keep_reading)
          return status::stopped;
        if (head_.chunked) {
          state_ = state::chunk_size;
        } else if (head_.content_length > 0) {
          state_ = state::body_length;
          remaining_ = head_.content_length;
        } else if (head_.content_length == 0 || head_.status == 204 || head_.status == 304) {
          sink.on_end();
        } else {
          state_ = state::body_to_eof;
        }
        break;
      }
      case state::body_length: {
        if (rest.empty())
          return status::more;
        const auto n = std::min<std::size_t>(rest.size(), static_cast<std::size_t>(remaining_));
        sink.on_body(rest.substr(0, n));
        pos += n;
        remaining_ -= static_cast<int64_t>(n);
        if (remaining_ == 0) {
          state_ = state::head;
          sink.on_end();
        }
        break;
      }
      case state::chunk_size: {
        const auto end = rest.find("\r\n");
        if (end == std::string_view::npos)
          return status::more;
        int64_t size = 0;
        std::size_t i = 0;
        for (; i < end; ++i) {
          const char c = rest[i];
          const int digit = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
          if (digit < 0)
            break;
          size = size * 16 + digit;
          if (size > (int64_t{1} << 40)) {
            error_ = "chunk size too large";
            return status::error;
          }
        }
        if (i == 0) {
          error_ = "bad chunk size line";
          return status::error;
        }
        pos += end + 2;
        remaining_ = size;
        state_ = size == 0 ? state::trailer : state::chunk_data;
        break;
      }
      case state::chunk_data: {
        if (rest.empty())
          return status::more;
        const auto n = std::min<std::size_t>(rest.size(), static_cast<std::size_t>(remaining_));
        sink.on_body(rest.substr(0, n));
        pos += n;
        remaining_ -= static_cast<int64_t>(n);
        if (remaining_ == 0)
          state_ = state::chunk_crlf;
        break;
      }
      case state::chunk_crlf: {
        if (rest.size() < 2)
          return status::more;
        if (rest.substr(0, 2) != "\r\n") {
          error_ = "chunk not followed by CRLF";
          return status::error;
        }
        pos += 2;
        state_ = state::chunk_size;
        break;
      }
      case state::trailer: {
        const auto end = rest.find("\r\n");
        if (end == std::string_view::npos)
          return status::more;
        pos += end + 2;
        if (end == 0) {
          state_ = state::head;
          sink.on_end();
        }
        break;
      }
      case state::body_to_eof: {
        if (rest.empty())
          return status::more;
        sink.on_body(rest);
        pos += rest.size();
        break;
      }
    }
  }
}

} // namespace herald::bench
