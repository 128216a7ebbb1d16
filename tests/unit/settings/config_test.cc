#include "settings/checks.h"
#include "settings/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() {
    std::filesystem::create_directories(tmp_.Sub("www"));
    std::ofstream(tmp_.Sub("pass")) << "s3cret\n";
    chmod(tmp_.Sub("pass").c_str(), 0600);
    std::ofstream(tmp_.Sub("open-pass")) << "s3cret\n";
    chmod(tmp_.Sub("open-pass").c_str(), 0644);
  }

  // A valid config; tests replace one line to break it.
  std::string Good() const {
    return "[journal]\n"
           "dir = /var/lib/ferry            # required\n"
           "sync = group\n"
           "retention = 7d\n"
           "max_size = 8G\n"
           "\n"
           "[replay]\n"
           "workers = 2\n"
           "batch_delay = 20ms\n"
           "retry_max = 5m\n"
           "dead_letter_retry = 60m\n"
           "\n"
           "[control]\n"
           "socket = /run/ferry/ferryd.sock\n"
           "\n"
           "[destination.www]\n"
           "source = " +
           tmp_.Sub("www") +
           "\n"
           "events = create,close_write,delete,move,attrib\n"
           "exclude = *.tmp\n"
           "exclude = /cache/\n"
           "exclude_regex = ^logs/\n"
           "ignore_temp_files = true\n"
           "full_sync_every = 0\n"
           "rsync_args = -a --bwlimit=10000\n"
           "\n"
           "[target.backup1]\n"
           "destination = www\n"
           "url = rsync://rsync_backup@172.16.1.41/data\n"
           "password_file = " +
           tmp_.Sub("pass") +
           "\n"
           "timeout = 100s\n"
           "\n"
           "[target.mirror]\n"
           "destination = www\n"
           "url = /srv/mirror/www\n";
  }

  // Parsing and then the file-system checks, as LoadConfig does.
  Result<Config> Parse(const std::string& text) {
    auto c = ParseConfig(text, "/etc/ferry/ferry.conf");
    if (c) {
      if (Status s = CheckConfig(*c); !s.ok()) return s;
    }
    return c;
  }

  // Replaces the lines that `prefix` starts (through the end of its last
  // line) by `line`.
  std::string With(const std::string& prefix, const std::string& line) const {
    std::string text = Good();
    size_t at = text.find(prefix);
    EXPECT_NE(at, std::string::npos) << prefix;
    size_t last_nl = prefix.rfind('\n');
    size_t end = text.find('\n', last_nl == std::string::npos ? at : at + last_nl + 1);
    return text.replace(at, end - at, line);
  }

  testing::TempDir tmp_;
};

TEST_F(ConfigTest, TheDocumentedExampleParses) {
  auto c = Parse(Good());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->journal_dir, "/var/lib/ferry");
  EXPECT_EQ(c->retention_ns, 7LL * 86'400'000'000'000);
  EXPECT_EQ(c->max_size, 8ULL << 30);
  EXPECT_EQ(c->batch_delay_ns, 20'000'000);
  ASSERT_EQ(c->destinations.size(), 1u);
  EXPECT_EQ(c->destinations[0].filter.exclude, (std::vector<std::string>{"*.tmp", "/cache/"}));
  EXPECT_EQ(c->destinations[0].rsync_args, (std::vector<std::string>{"-a", "--bwlimit=10000"}));
  ASSERT_EQ(c->targets.size(), 2u);
  EXPECT_EQ(c->targets[0].url.kind, TargetUrl::Kind::kRsyncDaemon);
  EXPECT_EQ(c->targets[1].url.kind, TargetUrl::Kind::kLocal);
}

TEST_F(ConfigTest, DefaultsFillWhatIsLeftOut) {
  auto c = Parse("[journal]\ndir = /j\n[destination.d]\nsource = " + tmp_.Sub("www") + "\n");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->sync, SyncMode::kGroup);
  EXPECT_EQ(c->workers, 2);
  EXPECT_EQ(c->destinations[0].events, kDefaultEvents);
  EXPECT_TRUE(c->destinations[0].filter.ignore_temp_files);
}

TEST_F(ConfigTest, DescribedConfigParsesToTheSameSettings) {
  auto c = Parse(Good());
  ASSERT_TRUE(c);
  std::string described = DescribeConfig(*c);
  auto again = Parse(described);
  ASSERT_TRUE(again) << again.error().ToString() << "\n" << described;
  EXPECT_EQ(DescribeConfig(*again).substr(described.find('\n')),
            described.substr(described.find('\n')));
}

struct Broken {
  std::string prefix;    // the line of Good() to replace ("" = append)
  std::string line;      // what replaces it
  std::string expected;  // the start of the one-line error
};

TEST_F(ConfigTest, EveryBrokenConfigNamesFileLineKeyAndWhatIsAllowed) {
  const std::string f = "/etc/ferry/ferry.conf";
  const std::vector<Broken> cases = {
      {"sync = group", "sync = fsync",
       f + ":3: [journal] sync: 'fsync' is not a sync mode; allowed: group, always, off"},
      {"retention = 7d", "retention = 7 days",
       f + ":4: [journal] retention: '7 days' is not a duration"},
      {"max_size = 8G", "max_size = lots", f + ":5: [journal] max_size: 'lots' is not a size"},
      {"dir = /var/lib/ferry", "dir = relative/dir",
       f + ":2: [journal] dir: must be an absolute path"},
      {"dir = /var/lib/ferry", "# no dir", f + ":1: [journal] dir: is required"},
      {"workers = 2", "workers = 0", f + ":8: [replay] workers: '0' is not a worker count"},
      {"workers = 2", "workers = two", f + ":8: [replay] workers: 'two' is not a worker count"},
      {"batch_delay = 20ms", "batch_delay = 20", f + ":9: [replay] batch_delay: '20' is not a"},
      {"retry_max = 5m", "retry_max = 5x", f + ":10: [replay] retry_max: '5x' is not a duration"},
      {"socket = ", "socket = ferryd.sock", f + ":14: [control] socket: must be an absolute path"},
      {"[control]", "[controls]", f + ":13: [controls]: unknown section; allowed:"},
      {"[destination.www]", "[destination]", f + ":16: [destination]: needs a name"},
      {"[destination.www]", "[destination.w w]", f + ":16: [destination.w w]: the name may use"},
      {"[replay]", "[replay", f + ":7: '[replay': a section header needs a closing ']'"},
      {"source = ", "source = /nonexistent/dir",
       f + ":17: [destination.www] source: /nonexistent/dir is not a directory"},
      {"events = ", "events = create,closewrite",
       f + ":18: [destination.www] events: unknown event 'closewrite'"},
      {"exclude_regex = ", "exclude_regex = (unclosed",
       f + ":21: [destination.www] exclude_regex: exclude_regex (unclosed:"},
      {"exclude = *.tmp", "exclude = [abc",
       f + ":19: [destination.www] exclude: pattern [abc: '[' without ']'"},
      {"ignore_temp_files = ", "ignore_temp_files = yes",
       f + ":22: [destination.www] ignore_temp_files: allowed: true, false"},
      {"rsync_args = ", "rsync_args = -a --delete",
       f + ":24: [destination.www] rsync_args: '--delete' is set by ferry itself"},
      {"rsync_args = ", "rsync_args = -a /etc",
       f + ":24: [destination.www] rsync_args: '/etc' is not an option"},
      {"url = rsync", "url = relative/path",
       f + ":28: [target.backup1] url: target url 'relative/path': a local target must be an "
           "absolute path"},
      {"password_file = ", "password_file = " + tmp_.Sub("open-pass"),
       f + ":29: [target.backup1] password_file: password file " + tmp_.Sub("open-pass") +
           " is accessible by others, so rsync refuses it; run: chmod 600"},
      {"password_file = ", "password_file = /nonexistent",
       f + ":29: [target.backup1] password_file: password file /nonexistent:"},
      {"timeout = 100s", "timeout = 100", f + ":30: [target.backup1] timeout: '100' is not a"},
      {"destination = www\nurl = /srv", "destination = blog\nurl = /srv",
       f + ":33: [target.mirror] destination: 'blog' is not a destination; defined: www"},
      {"url = /srv/mirror/www", "", f + ":32: [target.mirror] url: is required"},
      {"timeout = 100s", "timeot = 100s",
       f + ":30: [target.backup1] timeot: unknown key; allowed here: destination, parallel,"},
      {"sync = group", "sync = group\nsync = off",
       f + ":4: [journal] sync: given twice; only exclude and exclude_regex repeat"},
      {"[journal]", "orphan = 1\n[journal]", f + ":1: orphan: comes before any [section]; every key belongs in one"},
      {"password_file = ", "# no password",
       f + ":28: [target.backup1] password_file: is required for an rsync daemon URL with a user"},
      {"[target.mirror]", "[target.backup1]",
       f + ":32: [target.backup1]: appears twice; merge the two sections"},
  };
  ASSERT_GE(cases.size(), 20u);
  for (const Broken& b : cases) {
    auto c = Parse(With(b.prefix, b.line));
    ASSERT_FALSE(c) << "accepted: " << b.line;
    EXPECT_TRUE(c.error().IsInvalidArgument());
    const std::string& msg = c.error().message();
    EXPECT_EQ(msg.substr(0, b.expected.size()), b.expected) << "for: " << b.line;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST_F(ConfigTest, TheShippedExampleParses) {
  // conf/ferry.conf, with its source and password file pointed at real ones.
  std::ifstream in(std::string(PROJECT_SOURCE_DIR) + "/conf/ferry.conf");
  std::stringstream text;
  text << in.rdbuf();
  std::string conf = text.str();
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"source = /var/www", "source = " + tmp_.Sub("www")},
        {"password_file = /etc/rsync.pass", "password_file = " + tmp_.Sub("pass")}}) {
    size_t at = conf.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    conf.replace(at, from.size(), to);
  }
  auto c = Parse(conf);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->targets.size(), 2u);
  EXPECT_EQ(c->destinations[0].filter.exclude_regex, std::vector<std::string>{"^logs/.*\\.gz$"});
}

TEST_F(ConfigTest, NoDestinationIsAnError) {
  auto c = Parse("[journal]\ndir = /j\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("no [destination.NAME] section"), std::string::npos);
}

TEST_F(ConfigTest, MissingFileSaysSo) {
  auto c = LoadConfig(tmp_.Sub("nope.conf"));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("nope.conf"), std::string::npos);
}

}  // namespace
}  // namespace ferry
