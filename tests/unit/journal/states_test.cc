// Every state in journal/states.h has a unique name, a one-hot sample in
// /metrics, and a line in the README and in ferryctl(1): a state added to the
// enum without its docs or metric fails here.
#include "journal/states.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "journal/metrics.h"

namespace ferry {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <size_t N>
void ExpectNamesUniqueAndDocumented(const std::array<StateInfo, N>& table) {
  const std::string readme = Slurp(PROJECT_SOURCE_DIR "/README.md");
  const std::string man = Slurp(PROJECT_SOURCE_DIR "/docs/man/ferryctl.1.md");
  ASSERT_FALSE(readme.empty());
  ASSERT_FALSE(man.empty());
  std::set<std::string_view> seen;
  for (const StateInfo& s : table) {
    EXPECT_FALSE(s.name.empty());
    EXPECT_FALSE(s.meaning.empty()) << s.name;
    EXPECT_TRUE(seen.insert(s.name).second) << "duplicate state " << s.name;
    EXPECT_NE(readme.find("`" + std::string(s.name) + "`"), std::string::npos)
        << "README.md does not explain state " << s.name;
    EXPECT_NE(man.find("**" + std::string(s.name) + "**"), std::string::npos)
        << "docs/man/ferryctl.1.md does not explain state " << s.name;
  }
}

TEST(StatesTest, EveryNameIsUniqueAndDocumented) {
  ExpectNamesUniqueAndDocumented(kDestinationStates);
  ExpectNamesUniqueAndDocumented(kTargetStates);
}

TEST(StatesTest, StateNameReadsTheTable) {
  EXPECT_EQ(StateName(DestinationState::kWatching), "watching");
  EXPECT_EQ(StateName(DestinationState::kStopped), "stopped");
  EXPECT_EQ(StateName(TargetState::kCatchingUp), "catching-up");
  EXPECT_EQ(StateName(TargetState::kExpired), "expired");
  EXPECT_EQ(StateList(kTargetStates).rfind("starting, ok, catching-up, ", 0), 0u);
}

// Counts the lines of `text` that are `name{labels} value`.
int Samples(const std::string& text, const std::string& prefix, const std::string& value) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0 && line.substr(line.rfind(' ') + 1) == value) ++n;
  }
  return n;
}

TEST(StatesTest, MetricsHaveOneHotSampleForEveryState) {
  for (size_t i = 0; i < kDestinationStates.size(); ++i) {
    const std::string name(kDestinationStates[i].name);
    nlohmann::json status = {{"destinations", {{{"name", "d"}, {"state", name}}}},
                             {"targets", nlohmann::json::array()}};
    const std::string text = MetricsText(status);
    EXPECT_EQ(Samples(text, "ferry_destination_state{", "1"), 1) << name;
    EXPECT_EQ(Samples(text, "ferry_destination_state{", "0"),
              static_cast<int>(kDestinationStates.size()) - 1)
        << name;
    EXPECT_NE(text.find("state=\"" + name + "\"} 1"), std::string::npos) << text;
  }
  for (size_t i = 0; i < kTargetStates.size(); ++i) {
    const std::string name(kTargetStates[i].name);
    nlohmann::json status = {
        {"destinations", nlohmann::json::array()},
        {"targets", {{{"name", "t"}, {"destination", "d"}, {"state", name}}}}};
    const std::string text = MetricsText(status);
    EXPECT_EQ(Samples(text, "ferry_target_state{", "1"), 1) << name;
    EXPECT_EQ(Samples(text, "ferry_target_state{", "0"), static_cast<int>(kTargetStates.size()) - 1)
        << name;
    EXPECT_NE(text.find("state=\"" + name + "\"} 1"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace ferry
