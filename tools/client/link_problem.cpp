#include "tools/client/link_problem.hpp"

namespace herald::client {

const char* to_string(problem_kind kind) {
  switch (kind) {
    case problem_kind::lost: return "lost";
    case problem_kind::reconnect: return "reconnect";
    case problem_kind::refused: return "refused";
    case problem_kind::unknown_session: return "unknown_session";
    case problem_kind::superseded: return "superseded";
    case problem_kind::failed: return "failed";
  }
  return "unknown";
}

std::optional<std::uint64_t> read_unsigned(const json& value) {
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

link_problem make_problem(problem_kind kind, std::string message) {
  link_problem problem;
  problem.kind = kind;
  problem.message = std::move(message);
  return problem;
}

link_problem problem_from_error(const json& error, int http_status) {
  link_problem problem;
  problem.http_status = http_status;
  if (error.is_object()) {
    if (auto code = error.find("code"); code != error.end() && code->is_string())
      problem.code = code->get<std::string>();
    if (auto message = error.find("message"); message != error.end() && message->is_string())
      problem.message = message->get<std::string>();
  }
  if (problem.message.empty())
    problem.message = problem.code.empty() ? "the server answered with an error" : problem.code;
  if (problem.code == "unknown_session")
    problem.kind = problem_kind::unknown_session;
  else if (problem.code == "unavailable" || problem.code == "rate_limited"
           || problem.code == "internal")
    // Draining nodes, momentary overload and server faults pass: retrying is right.
    problem.kind = problem_kind::lost;
  else
    problem.kind = problem_kind::refused;
  return problem;
}

} // namespace herald::client
