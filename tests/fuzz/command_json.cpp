// Fuzz target: the body of POST /v1/rpc through http/rpc_parser.hpp parse_rpc_body(), under
// the default settings and under a second set (authentication on, so `user` is optional, and
// undeclared groups refused). Properties: every failure carries a code and a message, a batch
// holds 1..max-batch outcomes, invalid UTF-8 is refused as a whole, accepted data is JSON
// that nests within max_data_depth and fits max-data.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/names.hpp"
#include "actors/settings.hpp"
#include "http/rpc_parser.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;

herald::settings strict_settings() {
  herald::settings s;
  s.jwt_hs256_secret = "fuzz-secret";
  s.allow_undeclared_groups = false;
  s.groups.push_back(herald::declared_group{"room", 1, "Room", true, 100});
  return s;
}

void check_failure(const herald::reply& r) {
  require(!r.error_code.empty(), "a failure has an error code");
  require(!r.error_message.empty(), "a failure has a message");
  require(herald::status_of(r.error_code) >= 400, "a failure maps to an HTTP error status");
}

void check_command(const herald::parse_outcome& outcome, const herald::settings& s) {
  if (outcome.failure) {
    check_failure(*outcome.failure);
    return;
  }
  const auto& p = outcome.cmd.params;
  if (!p.data.empty()) {
    require(p.data.size() <= s.max_data, "accepted data fits max-data");
    auto data = nlohmann::json::parse(p.data, nullptr, false);
    require(!data.is_discarded(), "accepted data is JSON");
    require(herald::nests_within(data, herald::max_data_depth), "accepted data nests within 64");
  }
  if (outcome.cmd.verb == herald::method::enter && !s.authentication_on())
    require(herald::is_valid_user_name(p.user), "enter without auth has a valid user");
  for (const auto& group : p.groups)
    require(herald::is_valid_group_name(group), "accepted groups have valid names");
  if (!s.allow_undeclared_groups)
    for (const auto& group : p.groups)
      require(s.find_declared(group) != nullptr, "only declared groups pass when refused");
}

void check_body(std::string_view body, const herald::settings& s) {
  auto outcome = herald::parse_rpc_body(body, s);
  if (outcome.failure) {
    check_failure(*outcome.failure);
    return;
  }
  require(herald::is_valid_utf8(body), "invalid UTF-8 is refused as a whole");
  require(outcome.batch || outcome.commands.size() == 1, "a single frame gives one outcome");
  require(!outcome.commands.empty() && outcome.commands.size() <= s.max_batch,
          "a batch gives 1..max-batch outcomes");
  for (const auto& command : outcome.commands)
    check_command(command, s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const herald::settings defaults;
  static const herald::settings strict = strict_settings();
  std::string_view body{reinterpret_cast<const char*>(data), size};
  check_body(body, defaults);
  check_body(body, strict);
  return 0;
}
