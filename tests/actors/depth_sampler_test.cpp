#include "actors/depth_sampler.hpp"

#include <memory>
#include <optional>

#include "actors/directory_actor.hpp"
#include "actors/messages.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;

class DepthSampler : public testing::actor_fixture {
protected:
  DepthSampler() : asker_(spawn_recorder()) {
    config_.queue_max = 10;
    directory_ = keep(spawn_directory_actor(sys_, std::make_shared<const settings>(config_)));
  }

  session_ref create(const std::string& user) {
    asker_.clear();
    caf::send_as(asker_.handle, directory_,
                 caf::make_message(create_atom::value, user, false, std::int64_t{0}));
    run();
    return asker_.log->back().get_as<session_ref>(0);
  }

  group_ref group(const std::string& name) {
    asker_.clear();
    caf::send_as(asker_.handle, directory_, caf::make_message(group_atom::value, name));
    run();
    return asker_.log->back().get_as<group_ref>(0);
  }

  std::optional<depth_sample> sample() {
    auto result = std::make_shared<std::optional<depth_sample>>();
    keep(spawn_depth_sampler(sys_, directory_, 2000ms,
                             [result](depth_sample s) { *result = std::move(s); }));
    run();
    return *result;
  }

  settings config_;
  testing::recorder asker_;
  caf::actor directory_;
};

TEST_F(DepthSampler, AnEmptyNodeAnswersAtOnceWithNothing) {
  auto s = sample();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->session_queue.total, 0u);
  EXPECT_EQ(s->group_mailbox.total, 0u);
  EXPECT_EQ(s->unanswered, 0u);
}

TEST_F(DepthSampler, CountsEverySessionsQueueAndEveryGroup) {
  auto busy = create("busy");
  create("idle");
  group("lobby");
  for (int i = 0; i < 4; ++i)
    caf::anon_send(busy.handle, event_atom::value,
                   make_direct_event("a", "busy", std::to_string(i), now_ms()));
  run();
  auto s = sample();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->session_queue.total, 2u);
  EXPECT_EQ(s->session_queue.sum, 4u);
  EXPECT_EQ(s->session_queue.max, 4u);
  EXPECT_EQ(s->session_mailbox.total, 2u);
  EXPECT_EQ(s->group_mailbox.total, 1u);
  EXPECT_EQ(s->unanswered, 0u);
}

// Stands in for the directory, listing one group that never answers. A plain
// function with the handle as argument: CAF 0.17 spawning a capturing lambda
// without arguments binds a null reference (UBSan reports it).
caf::behavior directory_listing(caf::event_based_actor*, caf::actor listed_group) {
  return {[listed_group](sample_atom) {
    return caf::make_message(std::vector<caf::actor>{}, std::vector<caf::actor>{listed_group},
                             std::uint64_t{0});
  }};
}

TEST_F(DepthSampler, AnActorThatDoesNotAnswerIsCountedAtTheDeadline) {
  // A recorder never answers a sample: it stands for a group too busy to
  // answer in time.
  auto silent = spawn_recorder();
  auto fake_directory = keep(sys_.spawn(directory_listing, silent.handle));
  auto result = std::make_shared<std::optional<depth_sample>>();
  keep(spawn_depth_sampler(sys_, fake_directory, 2000ms,
                           [result](depth_sample s) { *result = std::move(s); }));
  run();
  EXPECT_FALSE(result->has_value()) << "it must wait for the silent actor";
  advance(2000ms);
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ((*result)->unanswered, 1u);
  EXPECT_EQ((*result)->group_mailbox.total, 0u);
}

} // namespace
} // namespace herald
