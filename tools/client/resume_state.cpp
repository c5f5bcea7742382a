#include "tools/client/resume_state.hpp"

namespace herald::client {

std::optional<group_position> read_position(const json& value) {
  if (!value.is_object())
    return std::nullopt;
  auto seq = value.find("seq");
  auto epoch = value.find("epoch");
  if (seq == value.end() || epoch == value.end() || !epoch->is_string())
    return std::nullopt;
  auto number = read_unsigned(*seq);
  if (!number)
    return std::nullopt;
  return group_position{*number, epoch->get<std::string>()};
}

void resume_state::begin_session(std::string session) {
  session_ = std::move(session);
  last_eid_ = 0;
}

resume_state::verdict resume_state::admit(const json& event) {
  auto eid = event.find("eid");
  auto number = eid == event.end() ? std::nullopt : read_unsigned(*eid);
  if (!number)
    return verdict::fresh;
  auto value = *number;
  if (value <= last_eid_)
    return verdict::duplicate;
  last_eid_ = value;
  if (event.value("type", "") != "message")
    return verdict::fresh;
  auto group = event.find("group");
  auto position = read_position(event);
  if (group == event.end() || !group->is_string() || !position)
    return verdict::fresh;
  auto known = groups_.find(group->get<std::string>());
  if (known == groups_.end())
    return verdict::fresh; // not (or no longer) joined: nothing to compare with
  if (known->second.epoch == position->epoch && position->seq <= known->second.seq)
    return verdict::duplicate;
  known->second = *position;
  return verdict::fresh;
}

void resume_state::joined(const json& join_result) {
  auto group = join_result.find("group");
  auto position = read_position(join_result);
  if (group == join_result.end() || !group->is_string() || !position)
    return;
  auto [it, inserted] = groups_.try_emplace(group->get<std::string>(), *position);
  if (!inserted && it->second.epoch != position->epoch)
    it->second = *position;
}

void resume_state::rejoined(const std::string& group, const json& join_result, bool recovered) {
  auto position = read_position(join_result);
  if (!position)
    return;
  auto [it, inserted] = groups_.try_emplace(group, *position);
  if (!inserted && !recovered)
    it->second = *position;
}

void resume_state::entered(const json& enter_result) {
  auto groups = enter_result.find("groups");
  if (groups == enter_result.end() || !groups->is_object())
    return;
  for (const auto& [name, value] : groups->items())
    if (auto position = read_position(value))
      groups_[name] = *position;
}

} // namespace herald::client
