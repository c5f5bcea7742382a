#include "http/command_line.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;

namespace {

using environment = std::map<std::string, std::string>;

/// Runs load_settings on `args` (the program name is added) with `env` as the
/// whole environment.
load_outcome load(const std::vector<std::string>& args, const environment& env = {}) {
  std::vector<const char*> argv{"herald"};
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  return load_settings(static_cast<int>(argv.size()), argv.data(),
                       [&env](const char* name) -> const char* {
                         auto found = env.find(name);
                         return found == env.end() ? nullptr : found->second.c_str();
                       });
}

/// Returns the settings `args` load to; fails the test on help or error.
settings values_of(const std::vector<std::string>& args, const environment& env = {}) {
  auto outcome = load(args, env);
  EXPECT_FALSE(outcome.show_help);
  EXPECT_EQ(outcome.error, "");
  return outcome.values;
}

/// Returns the error `args` load to.
std::string error_of(const std::vector<std::string>& args, const environment& env = {}) {
  return load(args, env).error;
}

// Each test gets its own directory for config files, removed afterwards. The
// class names the test suite, hence CamelCase as in every GoogleTest name.
class CommandLine : public ::testing::Test { // NOLINT(readability-identifier-naming)
protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "herald_cl_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    std::error_code ignored; // a leftover temp dir must not fail the test
    std::filesystem::remove_all(dir_, ignored);
  }

  /// Writes `text` to a file in the test's directory and returns its path.
  std::string write(const std::string& text, const std::string& name = "herald.json") {
    auto path = (dir_ / name).string();
    std::ofstream{path} << text;
    return path;
  }

  std::filesystem::path dir_;
};

} // namespace

// --- defaults, help ----------------------------------------------------------

TEST_F(CommandLine, DefaultsMatchTheContract) {
  auto s = values_of({});
  EXPECT_EQ(s.listen, "0.0.0.0:8080");
  EXPECT_EQ(s.lease, 100s);
  EXPECT_EQ(s.max_lease, 3600s);
  EXPECT_EQ(s.queue_max, 1000u);
  EXPECT_EQ(s.history, 100u);
  EXPECT_TRUE(s.notify_presence);
  EXPECT_EQ(s.notify_presence_max, 1000u);
  EXPECT_TRUE(s.allow_undeclared_groups);
  EXPECT_EQ(s.max_body, 1024u * 1024u);
  EXPECT_EQ(s.max_data, 64u * 1024u);
  EXPECT_EQ(s.heartbeat, 15s);
  EXPECT_EQ(s.listen_timeout, 30s);
  EXPECT_EQ(s.drain_timeout, 10s);
  EXPECT_FALSE(s.jsonp);
  EXPECT_EQ(s.log, log_level::info);
  EXPECT_TRUE(s.allow_origin.empty());
  EXPECT_TRUE(s.peers.empty());
  EXPECT_TRUE(s.groups.empty());
  EXPECT_EQ(s.config, "");
}

TEST_F(CommandLine, NodeDefaultsToTheHostNameAndFlagOverridesIt) {
  EXPECT_FALSE(values_of({}).node.empty());
  EXPECT_EQ(values_of({"--node", "alpha"}).node, "alpha");
}

TEST_F(CommandLine, HelpWinsOverEverythingElse) {
  EXPECT_TRUE(load({"--help"}).show_help);
  EXPECT_TRUE(load({"-h"}).show_help);
  EXPECT_TRUE(load({"--queue-max", "abc", "--nonsense", "--help"}).show_help);
  EXPECT_FALSE(load({"--api-key", "-h"}).show_help); // there "-h" is the key
}

TEST_F(CommandLine, HelpListsEveryFlagWithItsDefault) {
  auto text = help_text();
  for (const char* line : {"--listen ADDR:PORT",
                           "[0.0.0.0:8080]",
                           "--lease",
                           "[100s]",
                           "--max-lease",
                           "[3600s]",
                           "--queue-max",
                           "[1000]",
                           "--history",
                           "--notify-presence",
                           "--notify-presence-max",
                           "--undeclared-groups",
                           "[allow]",
                           "--max-body",
                           "[1MiB]",
                           "--max-data",
                           "[64KiB]",
                           "--heartbeat",
                           "[15s]",
                           "--listen-timeout",
                           "[30s]",
                           "--drain-timeout",
                           "[10s]",
                           "--node",
                           "--cluster-listen",
                           "--peers",
                           "--peers-dns",
                           "--config",
                           "--allow-origin",
                           "--api-key",
                           "--jsonp",
                           "--log-level",
                           "[info]",
                           "--max-listen-timeout",
                           "--max-batch",
                           "--listen-batch",
                           "--max-groups-per-session",
                           "--max-sessions",
                           "--max-groups",
                           "--max-connections",
                           "--max-header",
                           "[8KiB]",
                           "--max-requests-per-connection",
                           "--keepalive-timeout",
                           "--request-timeout",
                           "--group-idle-timeout",
                           "--io-threads",
                           "--actor-threads",
                           "HERALD_",
                           "--help"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
  // The contract's flags come before the limits.
  EXPECT_LT(text.find("--drain-timeout"), text.find("Limits"));
  EXPECT_GT(text.find("--max-listen-timeout"), text.find("Limits"));
}

// --- value kinds -------------------------------------------------------------

TEST_F(CommandLine, FlagsTakeSpaceOrEqualsForm) {
  EXPECT_EQ(values_of({"--queue-max", "5"}).queue_max, 5u);
  EXPECT_EQ(values_of({"--queue-max=6"}).queue_max, 6u);
  EXPECT_EQ(values_of({"--api-key=--odd=key"}).api_key, "--odd=key");
  EXPECT_EQ(values_of({"--queue-max", "5", "--queue-max", "7"}).queue_max, 7u); // last wins
}

TEST_F(CommandLine, EveryFieldHasItsFlag) {
  auto s = values_of({"--listen=127.0.0.1:0",
                      "--node=n1",
                      "--cluster-listen=127.0.0.1:0",
                      "--peers=a:1,b:2",
                      "--peers-dns=herald.svc:7000",
                      "--allow-origin=*",
                      "--api-key=k",
                      "--jsonp",
                      "--log-level=debug",
                      "--lease=5",
                      "--max-lease=6",
                      "--queue-max=7",
                      "--history=8",
                      "--notify-presence=off",
                      "--notify-presence-max=9",
                      "--undeclared-groups=refuse",
                      "--max-body=1000",
                      "--max-data=999",
                      "--heartbeat=11",
                      "--listen-timeout=12",
                      "--drain-timeout=13",
                      "--max-listen-timeout=14",
                      "--max-batch=15",
                      "--listen-batch=16",
                      "--max-groups-per-session=17",
                      "--max-sessions=18",
                      "--max-groups=19",
                      "--max-connections=20",
                      "--max-header=21",
                      "--max-requests-per-connection=22",
                      "--keepalive-timeout=23",
                      "--request-timeout=24",
                      "--group-idle-timeout=25",
                      "--io-threads=26",
                      "--actor-threads=27"});
  EXPECT_EQ(s.listen, "127.0.0.1:0");
  EXPECT_EQ(s.node, "n1");
  EXPECT_EQ(s.cluster_listen, "127.0.0.1:0");
  EXPECT_EQ(s.peers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(s.peers_dns, "herald.svc:7000");
  EXPECT_EQ(s.allow_origin, std::vector<std::string>{"*"});
  EXPECT_EQ(s.api_key, "k");
  EXPECT_TRUE(s.jsonp);
  EXPECT_EQ(s.log, log_level::debug);
  EXPECT_EQ(s.lease, 5s);
  EXPECT_EQ(s.max_lease, 6s);
  EXPECT_EQ(s.queue_max, 7u);
  EXPECT_EQ(s.history, 8u);
  EXPECT_FALSE(s.notify_presence);
  EXPECT_EQ(s.notify_presence_max, 9u);
  EXPECT_FALSE(s.allow_undeclared_groups);
  EXPECT_EQ(s.max_body, 1000u);
  EXPECT_EQ(s.max_data, 999u);
  EXPECT_EQ(s.heartbeat, 11s);
  EXPECT_EQ(s.listen_timeout, 12s);
  EXPECT_EQ(s.drain_timeout, 13s);
  EXPECT_EQ(s.max_listen_timeout, 14s);
  EXPECT_EQ(s.max_batch, 15u);
  EXPECT_EQ(s.listen_batch, 16u);
  EXPECT_EQ(s.max_groups_per_session, 17u);
  EXPECT_EQ(s.max_sessions, 18u);
  EXPECT_EQ(s.max_groups, 19u);
  EXPECT_EQ(s.max_connections, 20u);
  EXPECT_EQ(s.max_header, 21u);
  EXPECT_EQ(s.max_requests_per_connection, 22u);
  EXPECT_EQ(s.keepalive_timeout, 23s);
  EXPECT_EQ(s.request_timeout, 24s);
  EXPECT_EQ(s.group_idle_timeout, 25s);
  EXPECT_EQ(s.io_threads, 26u);
  EXPECT_EQ(s.actor_threads, 27u);
}

TEST_F(CommandLine, BareBooleanFlagMeansOn) {
  EXPECT_TRUE(values_of({"--jsonp"}).jsonp);
  auto s = values_of({"--jsonp", "--queue-max", "5"});
  EXPECT_TRUE(s.jsonp);
  EXPECT_EQ(s.queue_max, 5u);
  EXPECT_TRUE(values_of({"--notify-presence=off", "--notify-presence"}).notify_presence);
}

TEST_F(CommandLine, BooleansTakeOnOffAndTheUsualSynonyms) {
  EXPECT_FALSE(values_of({"--notify-presence", "off"}).notify_presence);
  EXPECT_FALSE(values_of({"--jsonp=off"}).jsonp);
  EXPECT_TRUE(values_of({"--jsonp", "on"}).jsonp);
  for (const char* yes : {"on", "true", "1", "yes", "ON", "True"})
    EXPECT_TRUE(values_of({"--jsonp", yes}).jsonp) << yes;
  for (const char* no : {"off", "false", "0", "no", "OFF"})
    EXPECT_FALSE(values_of({"--notify-presence", no}).notify_presence) << no;
  EXPECT_EQ(error_of({"--jsonp", "maybe"}), "--jsonp: \"maybe\" is not on or off");
  EXPECT_EQ(error_of({"--jsonp="}), "--jsonp: \"\" is not on or off");
}

TEST_F(CommandLine, DurationsAreSecondsWithOptionalUnit) {
  EXPECT_EQ(values_of({"--lease", "100"}).lease, 100s);
  EXPECT_EQ(values_of({"--lease", "100s"}).lease, 100s);
  EXPECT_EQ(values_of({"--lease", "2m"}).lease, 120s);
  EXPECT_EQ(values_of({"--max-lease", "2h"}).max_lease, 7200s);
  EXPECT_EQ(values_of({"--group-idle-timeout", "0"}).group_idle_timeout, 0s);
  for (const char* bad : {"", "abc", "-1", "1.5", "10d", "s", " 5", "5 s", "+5"})
    EXPECT_EQ(error_of({"--heartbeat", bad}),
              "--heartbeat: \"" + std::string{bad}
                  + "\" is not a duration (seconds, or with suffix s, m or h)")
        << bad;
  // Timers add durations to now() in nanoseconds: absurd ones must not overflow there.
  EXPECT_EQ(error_of({"--heartbeat", "99999999999"}),
            "--heartbeat: \"99999999999\" is not a duration of at most 100000000 s");
}

TEST_F(CommandLine, SizesAreBytesWithOptionalBinaryUnit) {
  EXPECT_EQ(values_of({"--max-body", "1048576"}).max_body, 1048576u);
  EXPECT_EQ(values_of({"--max-body", "1M"}).max_body, 1048576u);
  EXPECT_EQ(values_of({"--max-body", "2MiB"}).max_body, 2u * 1048576u);
  EXPECT_EQ(values_of({"--max-body", "3MB"}).max_body, 3u * 1048576u);
  EXPECT_EQ(values_of({"--max-data", "64KiB"}).max_data, 65536u);
  EXPECT_EQ(values_of({"--max-data", "64k"}).max_data, 65536u);
  EXPECT_EQ(values_of({"--max-data", "64K"}).max_data, 65536u);
  EXPECT_EQ(values_of({"--max-data", "64kB"}).max_data, 65536u);
  for (const char* bad : {"", "abc", "-1", "1.5M", "1G", "KiB", "99999999999999999999"})
    EXPECT_EQ(error_of({"--max-header", bad}),
              "--max-header: \"" + std::string{bad}
                  + "\" is not a size (bytes, or with suffix KiB or MiB)")
        << bad;
}

TEST_F(CommandLine, CountsAreNonNegativeIntegers) {
  EXPECT_EQ(values_of({"--max-sessions", "0"}).max_sessions, 0u);
  EXPECT_EQ(values_of({"--io-threads", "8"}).io_threads, 8u);
  EXPECT_EQ(error_of({"--queue-max", "abc"}), "--queue-max: \"abc\" is not a non-negative integer");
  for (const char* bad : {"", "-1", "1.5", "+5", "5k", "0x10"})
    EXPECT_EQ(error_of({"--queue-max", bad}),
              "--queue-max: \"" + std::string{bad} + "\" is not a non-negative integer")
        << bad;
  // io-threads is an `unsigned`: one past its range is refused, not wrapped.
  EXPECT_EQ(error_of({"--io-threads", "4294967296"}),
            "--io-threads: \"4294967296\" is not a non-negative integer");
}

TEST_F(CommandLine, ListsAreCommaSeparatedAndTrimmed) {
  EXPECT_EQ(values_of({"--allow-origin", "https://a.example, https://b.example,,"}).allow_origin,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(values_of({"--peers", "10.0.0.1:7000,[::1]:7001,node-2:7002"}).peers,
            (std::vector<std::string>{"10.0.0.1:7000", "[::1]:7001", "node-2:7002"}));
  EXPECT_TRUE(values_of({"--allow-origin="}).allow_origin.empty());
}

TEST_F(CommandLine, LogLevelTakesFourNamesAndWarning) {
  EXPECT_EQ(values_of({"--log-level", "debug"}).log, log_level::debug);
  EXPECT_EQ(values_of({"--log-level", "info"}).log, log_level::info);
  EXPECT_EQ(values_of({"--log-level", "warn"}).log, log_level::warn);
  EXPECT_EQ(values_of({"--log-level", "warning"}).log, log_level::warn);
  EXPECT_EQ(values_of({"--log-level", "error"}).log, log_level::error);
  EXPECT_EQ(error_of({"--log-level", "loud"}),
            "--log-level: \"loud\" is not debug, info, warn or error");
}

TEST_F(CommandLine, UndeclaredGroupsTakeAllowOrRefuse) {
  EXPECT_FALSE(values_of({"--undeclared-groups", "refuse"}).allow_undeclared_groups);
  EXPECT_TRUE(values_of({"--undeclared-groups", "allow"}).allow_undeclared_groups);
  EXPECT_EQ(error_of({"--undeclared-groups", "off"}),
            "--undeclared-groups: \"off\" is not allow or refuse");
}

TEST_F(CommandLine, AddressesMustBeHostAndPort) {
  for (const char* good : {"0.0.0.0:0", "127.0.0.1:65535", "[::1]:8080", "[::]:0", "localhost:80"})
    EXPECT_EQ(values_of({"--listen", good}).listen, good);
  for (const char* bad : {"8080", "host", "host:", ":80", "host:65536", "host:-1", "::1:8080",
                          "[::1]8080", "[]:80", "a b:80", "host:80x"})
    EXPECT_TRUE(error_of({"--listen", bad})
                    .starts_with("--listen: \"" + std::string{bad} + "\" is not ADDR:PORT"))
        << bad;
  EXPECT_EQ(values_of({"--cluster-listen", ""}).cluster_listen, ""); // empty: no cluster
  EXPECT_NE(error_of({"--cluster-listen", "nope"}), "");
  EXPECT_NE(error_of({"--listen="}), ""); // a node must listen somewhere
  EXPECT_NE(error_of({"--peers", "a:1,b"}), "");
  EXPECT_NE(error_of({"--peers", "a:0"}), ""); // port 0 is for listening only
  EXPECT_NE(error_of({"--peers-dns", "herald"}), "");
}

// --- environment and precedence ---------------------------------------------

TEST_F(CommandLine, EnvironmentNamesAreUpperCaseWithUnderscores) {
  auto s = values_of({}, {{"HERALD_QUEUE_MAX", "5"},
                          {"HERALD_LOG_LEVEL", "error"},
                          {"HERALD_JSONP", "on"},
                          {"HERALD_MAX_GROUPS_PER_SESSION", "3"},
                          {"HERALD_UNDECLARED_GROUPS", "refuse"},
                          {"HERALD_ALLOW_ORIGIN", "https://x.example,https://y.example"},
                          {"queue_max", "9"}});
  EXPECT_EQ(s.queue_max, 5u);
  EXPECT_EQ(s.log, log_level::error);
  EXPECT_TRUE(s.jsonp);
  EXPECT_EQ(s.max_groups_per_session, 3u);
  EXPECT_FALSE(s.allow_undeclared_groups);
  EXPECT_EQ(s.allow_origin.size(), 2u);
}

TEST_F(CommandLine, EmptyEnvironmentVariableCountsAsUnset) {
  EXPECT_EQ(values_of({}, {{"HERALD_QUEUE_MAX", ""}}).queue_max, 1000u);
}

TEST_F(CommandLine, EnvironmentErrorNamesTheVariable) {
  EXPECT_EQ(error_of({}, {{"HERALD_LEASE", "soon"}}),
            "HERALD_LEASE: \"soon\" is not a duration (seconds, or with suffix s, m or h)");
}

TEST_F(CommandLine, NoEnvironmentFunctionReadsNoVariables) {
  const char* argv[] = {"herald", "--queue-max", "4"};
  auto outcome = load_settings(3, argv, {});
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.values.queue_max, 4u);
}

TEST_F(CommandLine, FlagsOverrideEnvironmentWhichOverridesFile) {
  auto path = write(R"({"queue-max": 11, "history": 12, "lease": 13, "heartbeat": 14})");
  auto s = values_of({"--config", path, "--queue-max", "31"},
                     {{"HERALD_QUEUE_MAX", "21"}, {"HERALD_HISTORY", "22"}});
  EXPECT_EQ(s.queue_max, 31u);   // flag over environment over file
  EXPECT_EQ(s.history, 22u);     // environment over file
  EXPECT_EQ(s.lease, 13s);       // file over default
  EXPECT_EQ(s.heartbeat, 14s);   // file over default
  EXPECT_EQ(s.max_lease, 3600s); // default
  EXPECT_EQ(s.config, path);
}

TEST_F(CommandLine, ConfigPathComesFromFlagOrEnvironment) {
  auto from_env = write(R"({"queue-max": 11})", "env.json");
  auto from_flag = write(R"({"queue-max": 12})", "flag.json");
  EXPECT_EQ(values_of({}, {{"HERALD_CONFIG", from_env}}).queue_max, 11u);
  auto s = values_of({"--config=" + from_flag}, {{"HERALD_CONFIG", from_env}});
  EXPECT_EQ(s.queue_max, 12u);
  EXPECT_EQ(s.config, from_flag);
}

TEST_F(CommandLine, FileTakesJsonValuesOrTheFlagStrings) {
  auto path = write(R"({
    "listen": "127.0.0.1:0", "allow-origin": ["https://a.example", "https://b.example"],
    "peers": "a:1,b:2", "jsonp": true, "notify-presence": "off", "lease": "2m",
    "max-lease": 7200, "max-body": "2MiB", "max-data": 1000, "queue-max": "50",
    "log-level": "warning", "undeclared-groups": "refuse", "io-threads": 3
  })");
  auto s = values_of({"--config", path});
  EXPECT_EQ(s.listen, "127.0.0.1:0");
  EXPECT_EQ(s.allow_origin, (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(s.peers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_TRUE(s.jsonp);
  EXPECT_FALSE(s.notify_presence);
  EXPECT_EQ(s.lease, 120s);
  EXPECT_EQ(s.max_lease, 7200s);
  EXPECT_EQ(s.max_body, 2u * 1048576u);
  EXPECT_EQ(s.max_data, 1000u);
  EXPECT_EQ(s.queue_max, 50u);
  EXPECT_EQ(s.log, log_level::warn);
  EXPECT_FALSE(s.allow_undeclared_groups);
  EXPECT_EQ(s.io_threads, 3u);
}

// --- declared groups ----------------------------------------------------------

TEST_F(CommandLine, DeclaredGroupsTakeTheirFieldsOrDefaults) {
  auto path = write(R"({"groups": [
    {"name": "lobby", "bit": 1, "title": "Group for SOne", "notify": false, "history": 5},
    {"name": "news"},
    {"name": "ops", "bit": 4, "notify": "on"}
  ]})");
  // A group without `history` takes the node's final history, flags included.
  auto s = values_of({"--config", path, "--history", "42"});
  ASSERT_EQ(s.groups.size(), 3u);
  EXPECT_EQ(s.groups[0].name, "lobby");
  EXPECT_EQ(s.groups[0].bit, 1u);
  EXPECT_EQ(s.groups[0].title, "Group for SOne");
  EXPECT_FALSE(s.groups[0].notify);
  EXPECT_EQ(s.groups[0].history, 5u);
  EXPECT_EQ(s.groups[1].name, "news");
  EXPECT_EQ(s.groups[1].bit, 0u);
  EXPECT_EQ(s.groups[1].title, "");
  EXPECT_TRUE(s.groups[1].notify);
  EXPECT_EQ(s.groups[1].history, 42u);
  EXPECT_EQ(s.groups[2].bit, 4u);
  EXPECT_TRUE(s.groups[2].notify);
  EXPECT_EQ(s.find_declared_bit(4), &s.groups[2]);
}

TEST_F(CommandLine, BadBitIsAnError) {
  for (const char* bit : {"3", "-1", "\"1\"", "1.5", "6"})
    EXPECT_EQ(error_of({"--config",
                        write(std::string{R"({"groups": [{"name": "a", "bit": )"} + bit + "}]}")}),
              "config file " + (dir_ / "herald.json").string() + ": groups[0].bit: " + bit
                  + " is not 0 (no bit) or a power of two (1, 2, 4, ...)")
        << bit;
}

TEST_F(CommandLine, DuplicateGroupOrBitIsAnError) {
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"name": "a"}, {"name": "a"}]})")}),
            "group \"a\" is declared twice");
  EXPECT_EQ(error_of({"--config",
                      write(R"({"groups": [{"name": "a", "bit": 2}, {"name": "b", "bit": 2}]})")}),
            "group \"b\": bit 2 is already taken");
}

TEST_F(CommandLine, BadGroupEntriesAreErrorsNamingTheEntry) {
  auto where = "config file " + (dir_ / "herald.json").string() + ": ";
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"name": "a"}, {"name": "no spaces"}]})")}),
            where
                + "groups[1].name: \"no spaces\" is not a valid group name (1-128 chars of "
                  "A-Za-z0-9_.:/-)");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"title": "x"}]})")}),
            where + "groups[0]: key \"name\" is missing");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"name": "a", "notfy": true}]})")}),
            where + "groups[0]: key \"notfy\" is unknown (name, bit, title, notify, history)");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"name": "a", "history": -1}]})")}),
            where + "groups[0].history: -1 is not a non-negative integer");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": [{"name": "a", "notify": 1}]})")}),
            where + "groups[0].notify: 1 is not true or false");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": {"name": "a"}})")}),
            where + "key \"groups\": {\"name\":\"a\"} is not an array of groups");
  EXPECT_EQ(error_of({"--config", write(R"({"groups": ["a"]})")}),
            where + "groups[0]: \"a\" is not an object");
}

// --- errors -------------------------------------------------------------------

TEST_F(CommandLine, UnknownFlagIsAnError) {
  EXPECT_EQ(error_of({"--foo"}), "unknown flag --foo; see --help");
  EXPECT_EQ(error_of({"--foo=1"}), "unknown flag --foo; see --help");
  EXPECT_EQ(error_of({"--log", "info"}), "unknown flag --log; see --help");
  EXPECT_EQ(error_of({"--groups", "a"}),
            "--groups: declared groups come only from the config file; see --help");
  EXPECT_EQ(error_of({"-q"}), "unexpected argument \"-q\"; see --help");
  EXPECT_EQ(error_of({"stray"}), "unexpected argument \"stray\"; see --help");
}

TEST_F(CommandLine, FlagWithoutValueIsAnError) {
  EXPECT_EQ(error_of({"--queue-max"}), "--queue-max: missing value");
  EXPECT_EQ(error_of({"--api-key", "--jsonp"}), "--api-key: missing value");
}

TEST_F(CommandLine, ErrorsStayOnOneLine) {
  auto error = error_of({"--queue-max", "1\n2"});
  EXPECT_EQ(error, "--queue-max: \"1\\n2\" is not a non-negative integer");
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST_F(CommandLine, LoadedSettingsAreValidated) {
  EXPECT_EQ(error_of({"--listen-timeout", "121"}), "listen-timeout must be at most 120 s");
  EXPECT_EQ(values_of({"--listen-timeout", "120", "--max-listen-timeout", "120"}).listen_timeout,
            120s);
  EXPECT_EQ(error_of({"--queue-max", "1"}),
            "queue-max must be at least 2 (an overflow event needs a slot)");
  EXPECT_EQ(error_of({"--lease", "0"}), "lease must be at least 1 s");
}

TEST_F(CommandLine, UnknownFileKeyIsAnErrorNamingTheKey) {
  auto path = write(R"({"queu-max": 5})");
  EXPECT_EQ(error_of({"--config", path}), "config file " + path + ": key \"queu-max\" is unknown");
  path = write(R"({"config": "/etc/other.json"})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"config\" cannot be set in the config file");
}

TEST_F(CommandLine, BadFileValueIsAnErrorNamingTheKey) {
  auto path = write(R"({"queue-max": "many"})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"queue-max\": \"many\" is not a non-negative integer");
  path = write(R"({"queue-max": -5})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"queue-max\": -5 is not a non-negative integer");
  path = write(R"({"listen": 8080})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"listen\": 8080 is not a string");
  path = write(R"({"allow-origin": ["a", 1]})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path
                + ": key \"allow-origin\": [\"a\",1] is not a comma-separated list or an array "
                  "of strings");
  path = write(R"({"max-groups": 1e30})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"max-groups\": 1e+30 is not a non-negative integer");
  path = write(R"({"jsonp": "maybe"})");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": key \"jsonp\": \"maybe\" is not on or off");
}

TEST_F(CommandLine, BadJsonIsAnErrorNamingThePath) {
  auto path = write("{\"queue-max\": 5,\n oops}");
  auto error = error_of({"--config", path});
  EXPECT_TRUE(error.starts_with("config file " + path + ": is not valid JSON: ")) << error;
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
  path = write("[1, 2]");
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": is not a JSON object of settings");
  path = write("");
  EXPECT_TRUE(
      error_of({"--config", path}).starts_with("config file " + path + ": is not valid JSON"));
}

// Issue 15: nlohmann throws out_of_range, not parse_error, for a number beyond double; it
// escaped load_settings() and terminated the server (tests/fuzz/corpus/config_file/huge_numbers).
TEST_F(CommandLine, NumberBeyondDoubleInFileIsAnErrorNotACrash) {
  auto path = write(R"({"max-body": 1e400})");
  auto error = error_of({"--config", path});
  EXPECT_EQ(error, "config file " + path + ": is not valid JSON: number overflow parsing '1e400'");
}

// Issue 15: json::parse() stops at a NUL, so whatever followed one was silently ignored.
TEST_F(CommandLine, NulByteInFileIsAnError) {
  const std::string text("{\"queue-max\": 5}\0{\"queue-max\": 1}", 33);
  auto path = write(text);
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": is not valid JSON: a NUL byte at offset 16");
}

TEST_F(CommandLine, OversizedFileIsAnErrorNamingThePath) {
  // Valid JSON, only too long: the cap, not the parser, must refuse it.
  constexpr std::size_t cap = std::size_t{16} * 1024 * 1024;
  auto path = write("{}" + std::string(cap - 1, ' '));
  EXPECT_EQ(error_of({"--config", path}),
            "config file " + path + ": is larger than 16777216 bytes");
  path = write("{}" + std::string(cap - 2, ' '));
  EXPECT_EQ(error_of({"--config", path}), "");
}

TEST_F(CommandLine, MissingOrUnreadableFileIsAnErrorNamingThePath) {
  auto missing = (dir_ / "missing.json").string();
  EXPECT_EQ(error_of({"--config", missing}),
            "config file " + missing + ": cannot be read: No such file or directory");
  EXPECT_EQ(error_of({}, {{"HERALD_CONFIG", missing}}),
            "config file " + missing + ": cannot be read: No such file or directory");
  EXPECT_EQ(error_of({"--config", dir_.string()}),
            "config file " + dir_.string() + ": cannot be read: is a directory");
}
