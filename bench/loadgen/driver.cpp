#include "bench/loadgen/driver.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/loadgen/chat_layout.hpp"
#include "bench/loadgen/payload.hpp"

namespace herald::bench {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

int64_t seconds_to_ns(double s) {
  return static_cast<int64_t>(s * 1e9);
}

std::string host_header(const options& opts) {
  return opts.host + ":" + std::to_string(opts.port);
}

// A JSON string literal of `text` (error messages only: ASCII control characters are dropped).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out + "\"";
}

double cpu_seconds_of_this_process() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
         + static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

} // namespace

driver::driver(const options& opts, const sockaddr_in& address)
    : opts_(opts), address_(address), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      channel_names_(make_channel_names(opts)),
      sub_context_{opts, stats_, channel_names_, host_header(opts), 0, 0, 0, 0, {}},
      pub_context_{opts, channel_names_, host_header(opts), chat_layout(opts), 0, 0, 0, {}, {}},
      chat_context_(opts, stats_, channel_names_, host_header(opts), epoll_fd_, address),
      next_seq_(opts.channels, 1), final_seq_(opts.channels, 0) {}

driver::~driver() {
  sessions_.clear();
  subscribers_.clear();
  publishers_.clear();
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

int driver::run() {
  if (epoll_fd_ < 0) {
    std::fprintf(stderr, "herald-loadgen: epoll_create1: %s\n", std::strerror(errno));
    return 2;
  }
  const bool subscribes = opts_.role != run_role::pub;
  const bool publishes = opts_.role != run_role::sub && !opts_.idle;
  if (subscribes && !(chat() ? setup_chat_sessions() : setup_subscribers()))
    error_ = "not every subscriber became ready: "
             + (chat() ? chat_context_.first_error : sub_context_.first_error);
  if (subscribes) {
    std::fprintf(stderr,
                 "{\"event\":\"ready\",\"proc\":%u,\"ready\":%u,\"failed\":%u,\"setup_s\":%.3f}\n",
                 opts_.proc, chat() ? chat_context_.ready : sub_context_.ready,
                 chat() ? chat_context_.failed : sub_context_.failed,
                 static_cast<double>(setup_end_ - setup_start_) / 1e9);
    std::fflush(stderr);
  }
  if (opts_.idle) {
    hold_idle();
  } else if (publishes) {
    if (!connect_publishers() || !wait_for_nchan_subscribers()) {
      report();
      return 2;
    }
    // Subscriber processes churn from this file on (the ready line came before publishing).
    if (chat() && opts_.role == run_role::pub)
      std::ofstream(opts_.final_file + ".start") << "start\n";
    publish_phase();
    churn_.stop();
    for (uint32_t k = 0; k < opts_.channels; ++k)
      final_seq_[k] = next_seq_[k] - 1;
    final_known_ = true;
    if (opts_.role == run_role::pub && !write_final_file())
      error_ = "cannot write " + opts_.final_file;
    if (subscribes)
      drain();
  } else {
    if (wait_for_final_file())
      drain();
    else
      error_ = "no final file " + opts_.final_file + " in time";
  }
  if (!opts_.last_out.empty() && subscribes && !stats_.write_last(opts_.last_out))
    error_ = "cannot write " + opts_.last_out;
  report();
  return 0;
}

void driver::poll(int timeout_ms) {
  churn_.tick(sessions_, now_ns());
  epoll_event events[1024];
  const int n = ::epoll_wait(epoll_fd_, events, 1024, timeout_ms);
  for (int i = 0; i < n; ++i)
    static_cast<connection*>(events[i].data.ptr)->handle_events(events[i].events);
}

bool driver::setup_subscribers() {
  std::vector<uint32_t> per_channel(opts_.channels, 0);
  subscribers_.reserve(opts_.subscribers);
  for (uint32_t i = 0; i < opts_.subscribers; ++i) {
    const uint32_t global = opts_.first_index + i;
    subscribers_.push_back(
        std::make_unique<subscriber>(sub_context_, global, global % opts_.channels));
  }
  setup_start_ = now_ns();
  const int64_t deadline = setup_start_ + seconds_to_ns(opts_.setup_timeout_s);
  std::size_t next = 0;
  while (sub_context_.ready + sub_context_.failed < opts_.subscribers && now_ns() < deadline) {
    while (next < subscribers_.size() && sub_context_.handshaking < opts_.connect_concurrency) {
      ++sub_context_.handshaking;
      subscribers_[next++]->open(epoll_fd_, address_);
    }
    poll(5);
  }
  setup_end_ = now_ns();
  for (const auto& sub : subscribers_)
    if (sub->is_ready())
      ++per_channel[sub->channel()];
  stats_.start(std::move(per_channel));
  return sub_context_.ready == opts_.subscribers;
}

bool driver::setup_chat_sessions() {
  std::vector<uint32_t> per_channel(opts_.channels, 0);
  sessions_.reserve(opts_.subscribers);
  for (uint32_t i = 0; i < opts_.subscribers; ++i)
    sessions_.push_back(std::make_unique<chat_session>(chat_context_, opts_.first_index + i));
  setup_start_ = now_ns();
  const int64_t deadline = setup_start_ + seconds_to_ns(opts_.setup_timeout_s);
  std::size_t next = 0;
  while (chat_context_.ready + chat_context_.failed < opts_.subscribers && now_ns() < deadline) {
    while (next < sessions_.size() && chat_context_.handshaking < opts_.connect_concurrency)
      sessions_[next++]->open();
    poll(5);
  }
  setup_end_ = now_ns();
  for (const auto& session : sessions_)
    if (session->is_ready()) {
      ++per_channel[session->room_channel()];
      ++per_channel[session->user_channel()];
    }
  stats_.start(std::move(per_channel));
  return chat_context_.ready == opts_.subscribers;
}

// Each process churns its share of the total rate, so that N processes add up to it.
void driver::start_churn() {
  const double share = static_cast<double>(opts_.subscribers) / opts_.chat_sessions;
  churn_.start(opts_.churn_rate * share, now_ns());
}

bool driver::connect_publishers() {
  for (uint32_t i = 0; i < opts_.pub_connections; ++i) {
    publishers_.push_back(std::make_unique<publisher>(pub_context_));
    publishers_.back()->open(epoll_fd_, address_);
  }
  publisher_channel_cursor_.assign(opts_.pub_connections, 0);
  const int64_t deadline = now_ns() + 10 * ns_per_s;
  while (now_ns() < deadline) {
    const bool all = std::all_of(publishers_.begin(), publishers_.end(),
                                 [](const auto& p) { return p->is_connected() || !p->is_open(); });
    if (all)
      break;
    poll(5);
  }
  for (const auto& p : publishers_)
    if (!p->is_connected() || !p->is_open()) {
      error_ = "publisher connection failed: " + pub_context_.first_error;
      return false;
    }
  return true;
}

// nchan answers a long-poll subscriber only with a message, so the subscribers cannot tell
// when they are subscribed; its status page can. Blocking is fine: nothing is published yet.
bool driver::wait_for_nchan_subscribers() {
  if (opts_.dialect != server_dialect::nchan || opts_.expect_subscribers == 0)
    return true;
  const int64_t deadline = now_ns() + seconds_to_ns(opts_.setup_timeout_s);
  long seen = -1;
  while (now_ns() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string answer;
    if (fd >= 0
        && ::connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) == 0) {
      const std::string request = "GET /nchan_status HTTP/1.1\r\nHost: " + sub_context_.host_header
                                  + "\r\nConnection: close\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) > 0) {
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
          answer.append(buffer, static_cast<std::size_t>(n));
      }
    }
    if (fd >= 0)
      ::close(fd);
    if (const auto at = answer.find("subscribers: "); at != std::string::npos) {
      seen = std::strtol(answer.c_str() + at + 13, nullptr, 10);
      if (seen >= static_cast<long>(opts_.expect_subscribers))
        return true;
    }
    poll(50); // keeps this process's own subscribers served meanwhile
  }
  error_ = "nchan_status counted " + std::to_string(seen) + " subscribers, expected "
           + std::to_string(opts_.expect_subscribers);
  return false;
}

void driver::publish_phase() {
  publish_start_ = now_ns();
  if (chat() && opts_.role == run_role::both)
    start_churn();
  const int64_t warmup_end = publish_start_ + seconds_to_ns(opts_.warmup_s);
  const int64_t end = warmup_end + seconds_to_ns(opts_.duration_s);
  for (int64_t now = publish_start_; now < end; now = now_ns()) {
    pump_publishers(now);
    poll(opts_.rate > 0 ? 1 : 0);
  }
  publish_end_ = now_ns();
  // Wait for the answers to what is in flight.
  const int64_t deadline = publish_end_ + seconds_to_ns(std::max(opts_.drain_s, 1.0));
  while (now_ns() < deadline) {
    const bool idle = std::all_of(publishers_.begin(), publishers_.end(), [](const auto& p) {
      return p->in_flight() == 0 || !p->is_open();
    });
    if (idle)
      break;
    poll(5);
  }
}

void driver::pump_publishers(int64_t now) {
  const bool warmup = now < publish_start_ + seconds_to_ns(opts_.warmup_s);
  const auto channels = opts_.channels;
  const auto connections = static_cast<uint32_t>(publishers_.size());
  if (chat()) {
    const chat_layout& layout = pub_context_.layout;
    publish_due(opts_.rate, room_sent_, 0, layout.rooms, warmup, now);
    publish_due(opts_.user_rate, user_sent_, layout.rooms, layout.sessions, warmup, now);
  } else if (opts_.rate > 0) {
    const auto due = static_cast<uint64_t>(
        std::floor(opts_.rate * static_cast<double>(now - publish_start_) / 1e9));
    while (sent_ < due) {
      const auto channel = static_cast<uint32_t>(sent_ % channels);
      publisher* pub = sender_for(channel);
      if (pub == nullptr)
        break;
      pub->publish(channel, next_seq_[channel]++, warmup);
      ++sent_;
    }
    max_backlog_ = std::max(max_backlog_, due - sent_);
  } else if (opts_.spread) {
    // Flat out, spread: every free slot of every connection takes the next message, channels
    // round-robin.
    for (publisher* pub = sender_for(0); pub != nullptr; pub = sender_for(0)) {
      const auto channel = static_cast<uint32_t>(sent_ % channels);
      pub->publish(channel, next_seq_[channel]++, warmup);
      ++sent_;
    }
  } else {
    // Flat out: every connection keeps its pipeline full, cycling over its own channels
    // (k % connections == its index), so that each channel's order is one connection's order.
    for (uint32_t p = 0; p < connections; ++p) {
      auto& pub = *publishers_[p];
      if (p >= channels)
        break;
      while (pub.can_send()) {
        auto& cursor = publisher_channel_cursor_[p];
        const uint32_t channel = p + cursor * connections;
        cursor = channel + connections < channels ? cursor + 1 : 0;
        pub.publish(channel, next_seq_[channel]++, warmup);
        ++sent_;
      }
    }
  }
  for (auto& pub : publishers_)
    pub->flush_requests();
}

// The connection that sends the next message of `channel`, or nullptr when it cannot send now:
// connection k % P, so that each channel's order is one connection's order; with --spread the
// next free connection after the last one used.
publisher* driver::sender_for(uint32_t channel) {
  const auto connections = static_cast<uint32_t>(publishers_.size());
  if (!opts_.spread) {
    publisher& pub = *publishers_[channel % connections];
    return pub.can_send() ? &pub : nullptr;
  }
  for (uint32_t i = 0; i < connections; ++i) {
    spread_cursor_ = (spread_cursor_ + 1) % connections;
    if (publishers_[spread_cursor_]->can_send())
      return publishers_[spread_cursor_].get();
  }
  return nullptr;
}

// Sends what is due at `rate` over channels [first, first + count), round-robin, each over
// the connection sender_for picks.
void driver::publish_due(double rate, uint64_t& sent, uint32_t first, uint32_t count, bool warmup,
                         int64_t now) {
  if (rate <= 0 || count == 0)
    return;
  const auto due
      = static_cast<uint64_t>(std::floor(rate * static_cast<double>(now - publish_start_) / 1e9));
  while (sent < due) {
    const auto channel = first + static_cast<uint32_t>(sent % count);
    publisher* pub = sender_for(channel);
    if (pub == nullptr)
      break;
    pub->publish(channel, next_seq_[channel]++, warmup);
    ++sent;
    ++sent_;
  }
  max_backlog_ = std::max(max_backlog_, due - sent);
}

bool driver::write_final_file() const {
  const std::string temp = opts_.final_file + ".tmp";
  {
    std::ofstream out(temp);
    out << "start " << publish_start_ << "\nend " << publish_end_ << "\n";
    for (uint32_t k = 0; k < opts_.channels; ++k)
      out << "channel " << k << " " << final_seq_[k] << "\n";
    if (!out)
      return false;
  }
  return std::rename(temp.c_str(), opts_.final_file.c_str()) == 0;
}

bool driver::read_final_file() {
  std::ifstream in(opts_.final_file);
  if (!in)
    return false;
  std::string key;
  while (in >> key) {
    if (key == "start") {
      in >> publish_start_;
    } else if (key == "end") {
      in >> publish_end_;
    } else if (key == "channel") {
      uint32_t k = 0;
      uint64_t seq = 0;
      in >> k >> seq;
      if (k < final_seq_.size())
        final_seq_[k] = seq;
    }
  }
  final_known_ = true;
  return true;
}

bool driver::wait_for_final_file() {
  const int64_t deadline
      = now_ns() + seconds_to_ns(opts_.warmup_s + opts_.duration_s + opts_.setup_timeout_s + 60);
  const std::string start_file = opts_.final_file + ".start";
  bool churn_started = false;
  struct stat info {};
  while (now_ns() < deadline) {
    if (::stat(opts_.final_file.c_str(), &info) == 0) {
      churn_.stop();
      return read_final_file();
    }
    if (chat() && !churn_started && ::stat(start_file.c_str(), &info) == 0) {
      churn_started = true;
      start_churn();
    }
    poll(20);
  }
  churn_.stop();
  return false;
}

bool driver::all_delivered() const {
  if (chat())
    return std::all_of(sessions_.begin(), sessions_.end(), [&](const auto& session) {
      return !session->is_ready() || session->is_lost()
             || (session->room().next > final_seq_[session->room_channel()]
                 && session->user().next > final_seq_[session->user_channel()]);
    });
  return std::all_of(subscribers_.begin(), subscribers_.end(), [&](const auto& sub) {
    return !sub->is_ready() || !sub->is_open() || sub->tracker().next > final_seq_[sub->channel()];
  });
}

// A server with a backlog is still delivering: what arrives late is late, not lost (the
// latency histogram shows it). Only a stall of --drain seconds, or --drain-max, ends the wait.
void driver::drain() {
  const int64_t start = now_ns();
  const int64_t hard_deadline = start + seconds_to_ns(opts_.drain_max_s);
  int64_t stall_deadline = start + seconds_to_ns(opts_.drain_s);
  uint64_t delivered = stats_.delivered();
  while (!(drained_ = all_delivered())) {
    const int64_t now = now_ns();
    if (now >= stall_deadline || now >= hard_deadline)
      break;
    poll(10);
    if (stats_.delivered() != delivered) {
      delivered = stats_.delivered();
      stall_deadline = now_ns() + seconds_to_ns(opts_.drain_s);
    }
  }
}

void driver::hold_idle() {
  const int64_t end = now_ns() + seconds_to_ns(opts_.duration_s);
  while (now_ns() < end)
    poll(100);
}

void driver::report() const {
  uint64_t expected = 0, unique = 0, duplicates = 0, gaps = 0, reordered = 0;
  const auto add = [&](const seq_tracker& tracker, uint32_t channel) {
    expected += final_seq_[channel];
    unique += tracker.unique;
    duplicates += tracker.duplicates;
    gaps += tracker.gaps;
    reordered += tracker.reordered;
  };
  for (const auto& sub : subscribers_)
    if (sub->is_ready())
      add(sub->tracker(), sub->channel());
  // A chat session counts both its channels, across every reconnect (and if it was lost).
  for (const auto& session : sessions_)
    if (session->is_ready()) {
      add(session->room(), session->room_channel());
      add(session->user(), session->user_channel());
    }
  const uint64_t missing = final_known_ && expected > unique ? expected - unique : 0;
  const int64_t measure_start = publish_start_ + seconds_to_ns(opts_.warmup_s);
  const int64_t window = stats_.last_delivery_ns() - measure_start;
  const double deliveries_per_s
      = window > 0 ? static_cast<double>(stats_.latency().count()) * 1e9 / window : 0.0;
  const double publish_s = static_cast<double>(publish_end_ - publish_start_) / 1e9;
  const double setup_s = static_cast<double>(setup_end_ - setup_start_) / 1e9;
  std::string error = error_;
  if (error.empty() && !sub_context_.first_error.empty() && sub_context_.disconnected > 0)
    error = sub_context_.first_error;
  if (error.empty() && chat_context_.lost > 0)
    error = chat_context_.first_error;
  const uint32_t ready = chat() ? chat_context_.ready : sub_context_.ready;
  const uint32_t failed = chat() ? chat_context_.failed : sub_context_.failed;
  const uint32_t disconnected = chat() ? chat_context_.lost : sub_context_.disconnected;
  if (error.empty() && !pub_context_.first_error.empty())
    error = pub_context_.first_error;

  std::ostringstream out;
  out.precision(6);
  out << "{\"role\":\"" << to_string(opts_.role) << "\",\"dialect\":\"" << to_string(opts_.dialect)
      << "\",\"transport\":\"" << to_string(opts_.transport) << "\",\"proc\":" << opts_.proc
      << ",\"subscribers\":" << (opts_.role == run_role::pub ? 0 : opts_.subscribers)
      << ",\"ready\":" << ready << ",\"failed\":" << failed << ",\"disconnected\":" << disconnected
      << ",\"setup_s\":" << setup_s << ",\"setup_rate\":" << (setup_s > 0 ? ready / setup_s : 0.0)
      << ",\"channels\":" << opts_.channels << ",\"rate\":" << opts_.rate << ",\"sent\":" << sent_
      << ",\"published\":" << pub_context_.published
      << ",\"publish_errors\":" << pub_context_.errors << ",\"publish_s\":" << publish_s
      << ",\"publish_rate\":" << (publish_s > 0 ? pub_context_.published / publish_s : 0.0)
      << ",\"max_backlog\":" << max_backlog_
      << ",\"publish_round_trip_ns\":" << pub_context_.round_trip.to_json()
      << ",\"expected\":" << expected << ",\"delivered\":" << stats_.delivered()
      << ",\"unique\":" << unique << ",\"missing\":" << missing << ",\"duplicates\":" << duplicates
      << ",\"gaps\":" << gaps << ",\"reordered\":" << reordered
      << ",\"malformed\":" << stats_.malformed() << ",\"drained\":" << (drained_ ? "true" : "false")
      << ",\"deliveries_per_s\":" << deliveries_per_s
      << ",\"loadgen_cpu_s\":" << cpu_seconds_of_this_process()
      << ",\"latency_ns\":" << stats_.latency().to_json()
      << ",\"last_ns\":" << stats_.last_subscriber().to_json() << chat_json()
      << ",\"error\":" << (error.empty() ? "null" : json_string(error)) << "}\n";
  std::fputs(out.str().c_str(), stdout);
  std::fflush(stdout);
}

// The chat mix's own fields (none otherwise): what was sent of each kind and the churn.
std::string driver::chat_json() const {
  if (!chat())
    return {};
  std::ostringstream out;
  out << ",\"chat\":{\"room_size\":" << opts_.chat_room_size
      << ",\"sessions\":" << opts_.chat_sessions << ",\"rooms\":" << chat_context_.layout.rooms
      << ",\"room_messages\":" << room_sent_ << ",\"user_messages\":" << user_sent_
      << ",\"reconnects\":" << chat_context_.reconnects
      << ",\"server_closes\":" << chat_context_.server_closes
      << ",\"lost_sessions\":" << chat_context_.lost
      << ",\"reconnect_ns\":" << chat_context_.reconnect_ns.to_json() << "}";
  return out.str();
}

} // namespace herald::bench
