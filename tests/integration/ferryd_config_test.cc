// The real ferryd binary on broken configuration files: each must be refused
// with exactly one line, `ferryd: FILE:LINE: [section] key: what; allowed`,
// exit status 78 (EX_CONFIG), and nothing started: no journal, no control
// socket, no file of any kind left behind. With --check-config the same.
// And --check-config on a good file prints the resolved settings and exits 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/lib/temp_dir.h"
#include "tests/lib/test_servers.h"

namespace ferry {
namespace {

using testing::TempDir;
using testing::ReadFile;

constexpr int kExConfig = 78;

// One broken configuration. In `config` and `where`, @TMP@ stands for the
// test's temporary directory; a leading @BASE@ line in `config` for kBase
// (lines 1-6, so the next line is line 7), a leading @TARGET@ line for kBase
// and kTarget (the next line is line 9). The whole expected output is the
// one line "ferryd: @TMP@/ferry.conf" + `where`.
struct Case {
  const char* name;
  const char* config;
  const char* where;
};

// A valid start: a journal, a control socket and one destination, all in @TMP@.
constexpr char kBase[] =
    "[journal]\n"                // 1
    "dir = @TMP@/journal\n"      // 2
    "[control]\n"                // 3
    "socket = @TMP@/ctl.sock\n"  // 4
    "[destination.www]\n"        // 5
    "source = @TMP@/src\n";      // 6

// A leading @TARGET@ line: kBase and the start of a target (lines 1-8).
constexpr char kTarget[] =
    "[target.t]\n"          // 7
    "destination = www\n";  // 8

// @FORMS@ in `where`: what every bad url message ends with.
constexpr char kUrlForms[] =
    "; expected /abs/dir, rsync://[user@]host[:port]/module[/path], "
    "[user@]host::module[/path], [user@]host:/path or exec:/path/to/program [args]";

const Case kCases[] = {
    // Refused since the matrix found them accepted: an unknown scheme read as
    // ssh, ssh hosts that ssh would take as options or shell code, reserved
    // options in a bundle (-n: nothing sent while cursors advance), a
    // control socket open to every local user, an empty rsync_args.
    {"UrlUnknownScheme", "@TARGET@\nurl = ftp://x/y\n",
     ":9: [target.t] url: target url 'ftp://x/y': unknown scheme 'ftp://'; expected /abs/dir, "
     "rsync://[user@]host[:port]/module[/path], [user@]host::module[/path], [user@]host:/path or "
     "exec:/path/to/program [args]"},
    {"UrlSshHostIsAnOption", "@TARGET@\nurl = -oProxyCommand=id:x\n",
     ":9: [target.t] url: target url '-oProxyCommand=id:x': '-oProxyCommand=id' is not a host "
     "name (letters, digits, '.', '-', '_', [IPv6]; no leading '-'); expected /abs/dir, "
     "rsync://[user@]host[:port]/module[/path], [user@]host::module[/path], [user@]host:/path or "
     "exec:/path/to/program [args]"},
    {"UrlSshHostWithShellCharacters", "@TARGET@\nurl = $(touch pwned):/x\n",
     ":9: [target.t] url: target url '$(touch pwned):/x': '$(touch pwned)' is not a host name "
     "(letters, digits, '.', '-', '_', [IPv6]; no leading '-'); expected /abs/dir, "
     "rsync://[user@]host[:port]/module[/path], [user@]host::module[/path], [user@]host:/path or "
     "exec:/path/to/program [args]"},
    {"RsyncArgsBundledDryRun", "@BASE@\nrsync_args = -avn\n",
     ":7: [destination.www] rsync_args: '-n' (in '-avn') is set by ferry itself and may not be "
     "given here"},
    {"RsyncArgsBundledRemoteShell", "@BASE@\nrsync_args = -essh\n",
     ":7: [destination.www] rsync_args: '-e' (in '-essh') is set by ferry itself and may not be "
     "given here"},
    {"RsyncArgsEmpty", "@BASE@\nrsync_args =\n",
     ":7: [destination.www] rsync_args: is empty; give rsync options such as -a, or remove the "
     "line for the default -a"},
    {"ControlModeWorldWritable",
     "[journal]\ndir = @TMP@/journal\n[control]\nsocket = @TMP@/ctl.sock\nmode = 0666\n"
     "[destination.www]\nsource = @TMP@/src\n",
     ":5: [control] mode: '0666' would give every local user control of ferryd; allowed: 0600 "
     "(owner only) or 0660 (and ferryd's group)"},
    // Sections.
    {"UnknownSection", "[journal]\ndir = @TMP@/journal\n[bogus]\nx = 1\n",
     ":3: [bogus]: unknown section; allowed: [journal], [replay], [control], [log], "
     "[metrics], [destination.NAME], [target.NAME]"},
    {"DestinationWithoutName", "@BASE@\n[destination]\nsource = @TMP@/src\n",
     ":7: [destination]: needs a name: [destination.NAME]"},
    {"TargetWithoutName", "@BASE@\n[target]\nurl = @TMP@/out\n",
     ":7: [target]: needs a name: [target.NAME]"},
    {"JournalWithName", "@BASE@\n[journal.x]\nsync = off\n",
     ":7: [journal.x]: takes no name: [journal]"},
    {"NameWithSpace", "@BASE@\n[target.a b]\ndestination = www\n",
     ":7: [target.a b]: the name may use letters, digits, '_', '-' and '.'"},
    {"NameWithSlash", "@BASE@\n[target.a/b]\ndestination = www\n",
     ":7: [target.a/b]: the name may use letters, digits, '_', '-' and '.'"},
    {"SectionHeaderUnclosed", "[journal\ndir = @TMP@/journal\n",
     ":1: '[journal': a section header needs a closing ']'"},
    {"DuplicatedSection", "@BASE@\n[journal]\nsync = off\n",
     ":7: [journal]: appears twice; merge the two sections"},
    {"DuplicatedNamedSection", "@BASE@\n[destination.www]\nexclude = *.tmp\n",
     ":7: [destination.www]: appears twice; merge the two sections"},

    // Lines and keys.
    {"UnknownKey", "@BASE@\ncolour = red\n",
     ":7: [destination.www] colour: unknown key; allowed here: events, exclude, exclude_regex, "
     "full_sync_every, ignore_temp_files, rsync_args, source, watcher"},
    {"UnknownJournalKey", "[journal]\ndir = @TMP@/journal\npath = /x\n",
     ":3: [journal] path: unknown key; allowed here: dir, max_size, retention, sync"},
    {"KeyOutsideAnySection", "dir = @TMP@/journal\n@BASE@\n",
     ":1: dir: comes before any [section]; every key belongs in one"},
    {"LineWithoutEquals", "[journal]\ndir @TMP@/journal\n",
     ":2: [journal] dir @TMP@/journal: expected 'key = value'"},
    {"DuplicatedKey", "@BASE@\nsource = @TMP@/src\n",
     ":7: [destination.www] source: given twice; only exclude and exclude_regex repeat"},
    {"DuplicatedTargetUrl", "@TARGET@\nurl = @TMP@/a\nurl = @TMP@/b\n",
     ":10: [target.t] url: given twice; only exclude and exclude_regex repeat"},
    {"EmptyFile", "", ": [journal] dir: is required: the absolute directory of ferry's change journal, e.g. dir = /var/lib/ferry/journal"},

    // [journal]
    {"MissingJournalDir", "[journal]\nsync = off\n[destination.www]\nsource = @TMP@/src\n",
     ":1: [journal] dir: is required: the absolute directory of ferry's change journal, e.g. dir = /var/lib/ferry/journal"},
    {"RelativeJournalDir", "[journal]\ndir = journal\n",
     ":2: [journal] dir: must be an absolute path"},
    {"UnknownSyncMode", "[journal]\ndir = @TMP@/journal\nsync = sometimes\n",
     ":3: [journal] sync: 'sometimes' is not a sync mode; allowed: group, always, off"},
    {"DurationWithSpace", "[journal]\ndir = @TMP@/journal\nretention = 7 days\n",
     ":3: [journal] retention: '7 days' is not a duration; write a number and a unit: 20ms, "
     "100s, 5m, 10h, 7d (or 0)"},
    {"DurationUnknownUnit", "[journal]\ndir = @TMP@/journal\nretention = 5parsecs\n",
     ":3: [journal] retention: '5parsecs' is not a duration; write a number and a unit: 20ms, "
     "100s, 5m, 10h, 7d (or 0)"},
    {"SizeUnknownUnit", "[journal]\ndir = @TMP@/journal\nmax_size = 8Q\n",
     ":3: [journal] max_size: '8Q' is not a size; write a number with an optional unit K, M, G "
     "or T: 512M, 8G"},

    // [replay]
    {"WorkersZero", "@BASE@\n[replay]\nworkers = 0\n",
     ":8: [replay] workers: '0' is not a worker count; allowed: 1 to 64"},
    {"WorkersTooMany", "@BASE@\n[replay]\nworkers = 65\n",
     ":8: [replay] workers: '65' is not a worker count; allowed: 1 to 64"},
    {"WorkersNotANumber", "@BASE@\n[replay]\nworkers = abc\n",
     ":8: [replay] workers: 'abc' is not a worker count; allowed: 1 to 64"},
    {"BatchDelayNegative", "@BASE@\n[replay]\nbatch_delay = -5ms\n",
     ":8: [replay] batch_delay: '-5ms' is not a duration; write a number and a unit: 20ms, 100s, "
     "5m, 10h, 7d (or 0)"},

    // [control] and [log]
    {"ControlModeNotOctal",
     "[journal]\ndir = @TMP@/journal\n[control]\nsocket = @TMP@/ctl.sock\nmode = 999\n",
     ":5: [control] mode: '999' is not a socket mode; give octal permission bits that include "
     "0600, e.g. 0600 (owner only) or 0660 (and ferryd's group)"},
    {"ControlModeOwnerCannotWrite",
     "[journal]\ndir = @TMP@/journal\n[control]\nsocket = @TMP@/ctl.sock\nmode = 0400\n",
     ":5: [control] mode: '0400' is not a socket mode; give octal permission bits that include "
     "0600, e.g. 0600 (owner only) or 0660 (and ferryd's group)"},
    {"ControlSocketRelative", "[journal]\ndir = @TMP@/journal\n[control]\nsocket = ferryd.sock\n",
     ":4: [control] socket: must be an absolute path"},
    {"LogMaxFilesZero", "@BASE@\n[log]\nmax_files = 0\n",
     ":8: [log] max_files: '0' is not a file count; allowed: 1 to 100"},
    {"LogMaxSizeTooSmall", "@BASE@\n[log]\nmax_size = 1K\n",
     ":8: [log] max_size: must be at least 4K"},
    {"LogFileRelative", "@BASE@\n[log]\nfile = ferryd.log\n",
     ":8: [log] file: must be an absolute path (or empty: log to stderr)"},

    // [destination.NAME]
    {"NoDestination", "[journal]\ndir = @TMP@/journal\n",
     ": no [destination.NAME] section; ferry has nothing to replicate"},
    {"MissingSource", "[journal]\ndir = @TMP@/journal\n[destination.www]\nevents = create\n",
     ":3: [destination.www] source: is required: the absolute directory to replicate, e.g. source = /var/www"},
    {"EmptyDestinationSection", "[journal]\ndir = @TMP@/journal\n[destination.d]\n",
     ":3: [destination.d] source: is required: the absolute directory to replicate, e.g. source = /var/www"},
    {"SourceIsAFile", "[journal]\ndir = @TMP@/journal\n[destination.www]\nsource = @TMP@/afile\n",
     ":4: [destination.www] source: @TMP@/afile is not a directory"},
    {"SourceMissing", "[journal]\ndir = @TMP@/journal\n[destination.www]\nsource = @TMP@/nope\n",
     ":4: [destination.www] source: @TMP@/nope is not a directory"},
    {"UnknownEvent", "@BASE@\nevents = create,explode\n",
     ":7: [destination.www] events: unknown event 'explode'; allowed: "
     "create,close_write,modify,attrib,delete,move"},
    {"NoEvents", "@BASE@\nevents =\n", ":7: [destination.www] events: no event selected"},
    {"ExcludeRegexUnbalanced", "@BASE@\nexclude_regex = ^(logs\n",
     ":7: [destination.www] exclude_regex: exclude_regex ^(logs: missing ): ^(logs (RE2 syntax: "
     "https://github.com/google/re2/wiki/Syntax)"},
    {"ExcludeEmpty", "@BASE@\nexclude =\n", ":7: [destination.www] exclude: empty pattern"},
    {"IgnoreTempFilesMaybe", "@BASE@\nignore_temp_files = maybe\n",
     ":7: [destination.www] ignore_temp_files: allowed: true, false"},
    {"RsyncArgsDelete", "@BASE@\nrsync_args = -a --delete\n",
     ":7: [destination.www] rsync_args: '--delete' is set by ferry itself and may not be given "
     "here"},
    {"RsyncArgsReservedWithValue", "@BASE@\nrsync_args = -a --files-from=/etc/passwd\n",
     ":7: [destination.www] rsync_args: '--files-from' is set by ferry itself and may not be "
     "given here"},
    {"RsyncArgsRemoteShell", "@BASE@\nrsync_args = -e ssh\n",
     ":7: [destination.www] rsync_args: '-e' is set by ferry itself and may not be given here"},
    {"RsyncArgsNotAnOption", "@BASE@\nrsync_args = -a backup\n",
     ":7: [destination.www] rsync_args: 'backup' is not an option; only options (starting with "
     "'-') go here"},

    // [target.NAME]
    {"TargetUnknownDestination", "@BASE@\n[target.t]\ndestination = web\nurl = @TMP@/out\n",
     ":8: [target.t] destination: 'web' is not a destination; defined: www"},
    {"TargetWithoutDestination", "@BASE@\n[target.t]\nurl = @TMP@/out\n",
     ":7: [target.t] destination: is required: the [destination.NAME] this target receives; "
     "defined: www"},
    {"TargetWithoutUrl", "@TARGET@\ntimeout = 10s\n",
     ":7: [target.t] url: is required: where the target is: /abs/dir, rsync://[user@]host[:port]/module, [user@]host::module, [user@]host:/path or exec:/path/to/program"},
    {"EmptyTargetSection", "@BASE@\n[target.t]\n",
     ":7: [target.t] destination: is required: the [destination.NAME] this target receives; "
     "defined: www"},
    {"UrlRsyncNoHost", "@TARGET@\nurl = rsync://\n",
     ":9: [target.t] url: target url 'rsync://': no module after the host@FORMS@"},
    {"UrlRsyncEmptyHost", "@TARGET@\nurl = rsync:///data\n",
     ":9: [target.t] url: target url 'rsync:///data': no host@FORMS@"},
    {"UrlRsyncNoModule", "@TARGET@\nurl = rsync://backup.example\n",
     ":9: [target.t] url: target url 'rsync://backup.example': no module after the host@FORMS@"},
    {"UrlRsyncBadPort", "@TARGET@\nurl = rsync://h:99999/m\n",
     ":9: [target.t] url: target url 'rsync://h:99999/m': port must be 1-65535@FORMS@"},
    {"UrlDoubleColonNoModule", "@TARGET@\nurl = h::\n",
     ":9: [target.t] url: target url 'h::': no module@FORMS@"},
    {"UrlRelative", "@TARGET@\nurl = relative/dir\n",
     ":9: [target.t] url: target url 'relative/dir': a local target must be an absolute "
     "path@FORMS@"},
    {"UrlExecRelative", "@TARGET@\nurl = exec:sync.sh\n",
     ":9: [target.t] url: target url 'exec:sync.sh': exec: needs an absolute program path@FORMS@"},
    {"DaemonUrlUserWithoutPasswordFile", "@TARGET@\nurl = rsync://ferry@h/data\n",
     ":9: [target.t] password_file: is required for an rsync daemon URL with a user "
     "(rsync://ferry@h/data)"},
    {"PasswordFileWorldReadable",
     "@TARGET@\nurl = rsync://ferry@h/data\npassword_file = @TMP@/pw644\n",
     ":10: [target.t] password_file: password file @TMP@/pw644 is accessible by others, so rsync "
     "refuses it; run: chmod 600 @TMP@/pw644"},
    {"PasswordFileMissing", "@TARGET@\nurl = rsync://ferry@h/data\npassword_file = @TMP@/nope\n",
     ":10: [target.t] password_file: password file @TMP@/nope: No such file or directory "
     "(ENOENT)"},
    {"PasswordFileIsADirectory",
     "@TARGET@\nurl = rsync://ferry@h/data\npassword_file = @TMP@/src\n",
     ":10: [target.t] password_file: password file @TMP@/src is not a file"},
    {"TimeoutBelowOneSecond", "@TARGET@\nurl = @TMP@/out\ntimeout = 500ms\n",
     ":10: [target.t] timeout: must be at least 1s"},
    {"TimeoutZero", "@TARGET@\nurl = @TMP@/out\ntimeout = 0\n",
     ":10: [target.t] timeout: must be at least 1s"},
    {"ParallelZero", "@TARGET@\nurl = @TMP@/out\nparallel = 0\n",
     ":10: [target.t] parallel: '0' is not a transfer count; allowed: 1 to 32"},
    {"ParallelTooMany", "@TARGET@\nurl = @TMP@/out\nparallel = 33\n",
     ":10: [target.t] parallel: '33' is not a transfer count; allowed: 1 to 32"},

    // Hostile values: refused as text, never run by a shell.
    {"HostileRelativeSource", "@BASE@\n[destination.x]\nsource = $(touch @TMP@/pwned)\n",
     ":8: [destination.x] source: must be an absolute path"},
    {"HostileAbsoluteSource", "@BASE@\n[destination.x]\nsource = @TMP@/$(touch @TMP@/pwned)\n",
     ":8: [destination.x] source: @TMP@/$(touch @TMP@/pwned) is not a directory"},
    {"HostileTmpPwnedSource", "@BASE@\n[destination.x]\nsource = $(touch /tmp/pwned)\n",
     ":8: [destination.x] source: must be an absolute path"},
    {"HostilePasswordFile",
     "@TARGET@\nurl = rsync://ferry@h/data\npassword_file = @TMP@/`touch @TMP@/pwned`\n",
     ":10: [target.t] password_file: password file @TMP@/`touch @TMP@/pwned`: No such file or "
     "directory (ENOENT)"},
    {"HostileSectionName", "@BASE@\n[target.$(touch @TMP@/pwned)]\n",
     ":7: [target.$(touch @TMP@/pwned)]: the name may use letters, digits, '_', '-' and '.'"},
    {"HostileSshHost", "@TARGET@\nurl = $(touch @TMP@/pwned):/x\n",
     ":9: [target.t] url: target url '$(touch @TMP@/pwned):/x': a local target must be an "
     "absolute path@FORMS@"},
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}


class FerrydConfigTest : public ::testing::Test {
 protected:
  FerrydConfigTest() {
    std::filesystem::create_directories(tmp_.Sub("src"));
    testing::WriteFile(tmp_.Sub("afile"), "not a directory\n", 0644);
    testing::WriteFile(tmp_.Sub("pw600"), "s3cret\n", 0600);
    testing::WriteFile(tmp_.Sub("pw644"), "s3cret\n", 0644);
  }

  std::string Expand(const std::string& s) const {
    std::string out = s;
    if (out.starts_with("@TARGET@\n")) out = "@BASE@\n" + (kTarget + out.substr(9));
    if (out.starts_with("@BASE@\n")) out = kBase + out.substr(7);
    return Replace(Replace(out, "@FORMS@", kUrlForms), "@TMP@", tmp_.path());
  }

  // Runs ferryd with `args` on ferry.conf holding `config`; returns the exit
  // status (or -1 when it did not exit on its own within 10 s: killed) and
  // sets `output` to everything it wrote to stdout and stderr.
  int Run(const std::string& config, const std::vector<std::string>& args, std::string* output) {
    const std::string conf = tmp_.Sub("ferry.conf"), log = tmp_.Sub("ferryd.log");
    std::ofstream(conf) << config;
    std::filesystem::remove(log);
    std::vector<std::string> argv = {FERRYD, "--config", conf};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = testing::StartProcess(argv, log);
    EXPECT_GT(pid, 0);
    int status = 0, code = -1;
    // Still running after 10 s: it started, a test failure.
    if (pid > 0 && testing::ReapWithin(pid, 10'000, &status)) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    *output = ReadFile(log);
    return code;
  }

  // What the temp directory holds besides what the fixture made.
  std::set<std::string> Leftovers() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(tmp_.path())) {
      std::string name = e.path().filename().string();
      if (!kMade.count(name)) out.insert(name);
    }
    return out;
  }

  const std::set<std::string> kMade = {"src",   "afile",      "pw600",
                                       "pw644", "ferry.conf", "ferryd.log"};
  TempDir tmp_;
};

// For gtest's messages: the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BrokenConfigTest : public FerrydConfigTest, public ::testing::WithParamInterface<Case> {};

TEST_P(BrokenConfigTest, RefusedWithOneExactLineAndNothingStarted) {
  const Case& c = GetParam();
  const std::string config = Expand(c.config);
  const std::string expected = Expand(std::string("ferryd: @TMP@/ferry.conf") + c.where) + "\n";
  const bool tmp_pwned_before = std::filesystem::exists("/tmp/pwned");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--check-config"}}) {
    SCOPED_TRACE(args.empty() ? "ferryd --config FILE" : "ferryd --config FILE --check-config");
    std::string output;
    EXPECT_EQ(Run(config, args, &output), kExConfig) << output;
    EXPECT_EQ(output, expected) << "config:\n" << config;
    EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("journal")));
    EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("ctl.sock")));
    EXPECT_EQ(Leftovers(), std::set<std::string>{});
  }
  if (!tmp_pwned_before) {
    EXPECT_FALSE(std::filesystem::exists("/tmp/pwned"));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, BrokenConfigTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

TEST_F(FerrydConfigTest, MissingConfigFileIsRefused) {
  std::string output;
  const std::vector<std::string> argv = {FERRYD, "--config", tmp_.Sub("absent.conf")};
  pid_t pid = testing::StartProcess(argv, tmp_.Sub("ferryd.log"));
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExConfig) << status;
  EXPECT_EQ(ReadFile(tmp_.Sub("ferryd.log")), "ferryd: read config " + tmp_.Sub("absent.conf") +
                                                  ": No such file or directory (ENOENT)\n");
  EXPECT_EQ(Leftovers(), std::set<std::string>{});
}

TEST_F(FerrydConfigTest, CheckConfigPrintsResolvedSettings) {
  const std::string config = Expand(
      "@BASE@\n"
      "exclude = *.tmp\n"
      "[target.backup]\n"
      "destination = www\n"
      "url = rsync://ferry@127.0.0.1:8730/data\n"
      "password_file = @TMP@/pw600\n"
      "[target.mirror]\n"
      "destination = www\n"
      "url = @TMP@/mirror\n"
      "parallel = 3\n");
  std::string output;
  ASSERT_EQ(Run(config, {"--check-config"}, &output), 0) << output;
  // Every default filled in, and each section as given.
  for (const char* want : {
           "# resolved from @TMP@/ferry.conf\n",
           "[journal]\ndir = @TMP@/journal\nsync = group\nretention = 7d\nmax_size = 8G\n",
           "[replay]\nworkers = 2\nbatch_delay = 20ms\nretry_max = 5m\n",
           "[control]\nsocket = @TMP@/ctl.sock\nmode = 0600\n",
           "[log]\nfile =",
           "[destination.www]\nsource = @TMP@/src\n",
           "exclude = *.tmp\n",
           "rsync_args = -a\n",
           "[target.backup]\ndestination = www\nurl = rsync://ferry@127.0.0.1:8730/data  # rsync\n"
           "password_file = @TMP@/pw600\ntimeout = 100s\nparallel = 1\n",
           "[target.mirror]\ndestination = www\nurl = @TMP@/mirror  # local\n",
           "parallel = 3\n",
       }) {
    EXPECT_NE(output.find(Expand(want)), std::string::npos) << "missing:\n"
                                                            << Expand(want) << "\nin:\n"
                                                            << output;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("journal")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("mirror")));
  EXPECT_EQ(Leftovers(), std::set<std::string>{});
}

}  // namespace
}  // namespace ferry
