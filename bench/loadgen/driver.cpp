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

#include "bench/loadgen/payload.hpp"

namespace herald::bench {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;

int64_t seconds_to_ns(double s) {
  return static_cast<int64_t>(s * 1e9);
}

std::vector<std::string> make_channel_names(const options& opts) {
  std::vector<std::string> names;
  names.reserve(opts.channels);
  for (uint32_t k = 0; k < opts.channels; ++k)
    names.push_back(opts.channel_prefix + "-" + std::to_string(k));
  return names;
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
      sub_context_{opts, stats_, make_channel_names(opts), host_header(opts), 0, 0, 0, 0, {}},
      pub_context_{opts, make_channel_names(opts), host_header(opts), 0, 0, 0, {}},
      next_seq_(opts.channels, 1), final_seq_(opts.channels, 0) {}

driver::~driver() {
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
  if (subscribes && !setup_subscribers())
    error_ = "not every subscriber became ready: " + sub_context_.first_error;
  if (subscribes) {
    std::fprintf(stderr,
                 "{\"event\":\"ready\",\"proc\":%u,\"ready\":%u,\"failed\":%u,\"setup_s\":%.3f}\n",
                 opts_.proc, sub_context_.ready, sub_context_.failed,
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
    publish_phase();
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
  if (opts_.rate > 0) {
    const auto due = static_cast<uint64_t>(
        std::floor(opts_.rate * static_cast<double>(now - publish_start_) / 1e9));
    while (sent_ < due) {
      const auto channel = static_cast<uint32_t>(sent_ % channels);
      auto& pub = *publishers_[channel % connections];
      if (!pub.can_send())
        break;
      pub.publish(channel, next_seq_[channel]++, warmup);
      ++sent_;
    }
    max_backlog_ = std::max(max_backlog_, due - sent_);
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
  struct stat info {};
  while (now_ns() < deadline) {
    if (::stat(opts_.final_file.c_str(), &info) == 0)
      return read_final_file();
    poll(20);
  }
  return false;
}

bool driver::all_delivered() const {
  return std::all_of(subscribers_.begin(), subscribers_.end(), [&](const auto& sub) {
    return !sub->is_ready() || !sub->is_open() || sub->tracker().next > final_seq_[sub->channel()];
  });
}

void driver::drain() {
  const int64_t deadline = now_ns() + seconds_to_ns(opts_.drain_s);
  while (!(drained_ = all_delivered()) && now_ns() < deadline)
    poll(10);
}

void driver::hold_idle() {
  const int64_t end = now_ns() + seconds_to_ns(opts_.duration_s);
  while (now_ns() < end)
    poll(100);
}

void driver::report() const {
  uint64_t expected = 0, unique = 0, duplicates = 0, gaps = 0;
  for (const auto& sub : subscribers_) {
    if (!sub->is_ready())
      continue;
    expected += final_seq_[sub->channel()];
    unique += sub->tracker().unique;
    duplicates += sub->tracker().duplicates;
    gaps += sub->tracker().gaps;
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
  if (error.empty() && !pub_context_.first_error.empty())
    error = pub_context_.first_error;

  std::ostringstream out;
  out.precision(6);
  out << "{\"role\":\"" << to_string(opts_.role) << "\",\"dialect\":\"" << to_string(opts_.dialect)
      << "\",\"transport\":\"" << to_string(opts_.transport) << "\",\"proc\":" << opts_.proc
      << ",\"subscribers\":" << (opts_.role == run_role::pub ? 0 : opts_.subscribers)
      << ",\"ready\":" << sub_context_.ready << ",\"failed\":" << sub_context_.failed
      << ",\"disconnected\":" << sub_context_.disconnected << ",\"setup_s\":" << setup_s
      << ",\"setup_rate\":" << (setup_s > 0 ? sub_context_.ready / setup_s : 0.0)
      << ",\"channels\":" << opts_.channels << ",\"rate\":" << opts_.rate << ",\"sent\":" << sent_
      << ",\"published\":" << pub_context_.published
      << ",\"publish_errors\":" << pub_context_.errors << ",\"publish_s\":" << publish_s
      << ",\"publish_rate\":" << (publish_s > 0 ? pub_context_.published / publish_s : 0.0)
      << ",\"max_backlog\":" << max_backlog_ << ",\"expected\":" << expected
      << ",\"delivered\":" << stats_.delivered() << ",\"unique\":" << unique
      << ",\"missing\":" << missing << ",\"duplicates\":" << duplicates << ",\"gaps\":" << gaps
      << ",\"malformed\":" << stats_.malformed() << ",\"drained\":" << (drained_ ? "true" : "false")
      << ",\"deliveries_per_s\":" << deliveries_per_s
      << ",\"loadgen_cpu_s\":" << cpu_seconds_of_this_process()
      << ",\"latency_ns\":" << stats_.latency().to_json()
      << ",\"last_ns\":" << stats_.last_subscriber().to_json()
      << ",\"error\":" << (error.empty() ? "null" : json_string(error)) << "}\n";
  std::fputs(out.str().c_str(), stdout);
  std::fflush(stdout);
}

} // namespace herald::bench
