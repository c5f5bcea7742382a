#include "tools/cli/text_command.hpp"

#include <charconv>

namespace herald::cli {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

// Takes the first word off `rest` and returns it.
std::string_view next_word(std::string_view& rest) {
  rest = trim(rest);
  std::size_t end = 0;
  while (end < rest.size() && !is_blank(rest[end]))
    ++end;
  auto word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

text_command invalid(std::string error) {
  text_command command;
  command.what = text_command::kind::invalid;
  command.error = std::move(error);
  return command;
}

text_command call(std::string method, client::json params) {
  text_command command;
  command.what = text_command::kind::call;
  command.method = std::move(method);
  command.params = std::move(params);
  return command;
}

} // namespace

text_command parse_text_command(std::string_view line) {
  auto rest = trim(line);
  if (rest.empty() || rest.front() == '#')
    return {};
  auto verb = next_word(rest);
  if (verb == "quit" || verb == "exit") {
    text_command command;
    command.what = text_command::kind::quit;
    return command;
  }
  if (verb == "help") {
    text_command command;
    command.what = text_command::kind::help;
    return command;
  }
  if (verb == "say" || verb == "send") {
    auto target = next_word(rest);
    if (target.empty() || rest.empty())
      return invalid(std::string{verb} + " needs " + (verb == "say" ? "a group" : "a user")
                     + " and a text, e.g. '" + std::string{verb} + " "
                     + (verb == "say" ? "lobby" : "alice") + " hello'");
    client::json data = {{"text", std::string{rest}}};
    if (verb == "say")
      return call("speak", {{"group", std::string{target}}, {"data", std::move(data)}});
    return call("send", {{"to", std::string{target}}, {"data", std::move(data)}});
  }
  if (verb == "join" || verb == "leave" || verb == "who" || verb == "history") {
    auto group = next_word(rest);
    if (group.empty())
      return invalid(std::string{verb} + " needs a group, e.g. '" + std::string{verb} + " lobby'");
    client::json params = {{"group", std::string{group}}};
    if (verb == "history" && !rest.empty()) {
      auto limit_text = next_word(rest);
      unsigned limit = 0;
      auto [end, ec]
          = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
      if (ec != std::errc{} || end != limit_text.data() + limit_text.size())
        return invalid("history: the limit must be a number, not '" + std::string{limit_text}
                       + "'");
      params["limit"] = limit;
    }
    if (!rest.empty())
      return invalid(std::string{verb} + " takes one group; unexpected '" + std::string{rest}
                     + "'");
    return call(verb == "who" ? "presence" : std::string{verb}, std::move(params));
  }
  if (verb == "call") {
    auto method = next_word(rest);
    if (method.empty())
      return invalid("call needs a method, e.g. 'call ping'");
    if (method == "enter" || method == "attach" || method == "listen" || method == "exit")
      return invalid("call: " + std::string{method}
                     + " is the client's own business (to leave, type 'quit')");
    auto params = rest.empty() ? client::json::object() : client::json::parse(rest, nullptr, false);
    if (params.is_discarded() || !params.is_object())
      return invalid("call: the params must be a JSON object, e.g. "
                     "'call history {\"group\":\"lobby\",\"limit\":5}'");
    return call(std::string{method}, std::move(params));
  }
  return invalid("unknown command '" + std::string{verb} + "'; type 'help' for the list");
}

const char* text_command_help() {
  return "commands: say GROUP TEXT | send USER TEXT | join GROUP | leave GROUP | who GROUP |"
         " history GROUP [N] | call METHOD [JSON] | quit";
}

} // namespace herald::cli
