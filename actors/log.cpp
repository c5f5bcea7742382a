#include "actors/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace herald::log {

namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::mutex write_mutex;

const char* name_of(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = ms / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string quote(std::string_view s) {
  return nlohmann::json(std::string{s})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

void set_level(log_level level) {
  min_level = static_cast<int>(level);
}

bool enabled(log_level level) {
  return static_cast<int>(level) >= min_level.load();
}

void write(log_level level, std::string_view message, std::initializer_list<field> fields) {
  if (!enabled(level))
    return;
  std::string line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + name_of(level)
                     + "\",\"msg\":" + quote(message);
  for (const auto& [key, value] : fields) {
    line += ',';
    line += quote(key);
    line += ':';
    line += quote(value);
  }
  line += "}\n";
  std::lock_guard<std::mutex> guard{write_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

} // namespace herald::log
