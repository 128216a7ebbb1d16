// The real ferryctl binary against the real ferryd (tests/lib/ferryd_fixture.h):
// status and its exit codes, --wait-synced, replay, dead letters, pause,
// resume, resync, verify, check-path, import-sersync, the verbs that work
// while ferryd is stopped, reload and metrics.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/lib/ferryd_fixture.h"

extern char** environ;

namespace ferry {
namespace {

using nlohmann::json;
using testing::FerrydTest;
using testing::ReadFile;
using Clock = std::chrono::steady_clock;

struct Ran {
  int code = -1;
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const Ran& r) {
  return os << "exit " << r.code << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}


// Runs `argv` (ferryctl; no shell) to its end, with stdout and stderr
// captured to files under `tmp`; killed after 60 s.
Ran RunFerryctl(const testing::TempDir& tmp, std::vector<std::string> argv) {
  static std::atomic<int> counter{0};
  const std::string base = tmp.Sub("ctl-" + std::to_string(counter++));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&fa, 2, (base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> cargs;
  for (const std::string& a : argv) cargs.push_back(const_cast<char*>(a.c_str()));
  cargs.push_back(nullptr);
  pid_t pid = -1;
  Ran r;
  const int err = posix_spawn(&pid, cargs[0], &fa, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) {
    r.err = "cannot spawn " + argv[0];
    return r;
  }
  int status = 0;
  const bool exited = testing::ReapWithin(pid, 60'000, &status);
  r.code = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

// `FERRYCTL --config TMP/ferry.conf ARGS...`.
Ran Ferryctl(const testing::TempDir& tmp, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FERRYCTL, "--config", tmp.Sub("ferry.conf")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunFerryctl(tmp, std::move(argv));
}

// `FERRYCTL --journal JOURNAL ARGS...`.
Ran FerryctlAt(const testing::TempDir& tmp, const std::string& journal,
               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FERRYCTL, "--journal", journal};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunFerryctl(tmp, std::move(argv));
}

using testing::Eventually;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json TargetOf(const json& status, const std::string& name) {
  for (const json& t : status["targets"]) {
    if (t["name"] == name) return t;
  }
  return json();
}

// Sets or clears the immutable attribute (chattr +i): not even root may
// replace or change such a file. False when the file system does not support it.
bool SetImmutable(const std::string& path, bool on) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  close(fd);
  return ok;
}

// Clears the immutable attribute on scope exit, so that the TempDir can go.
struct ImmutableGuard {
  std::string path;
  ~ImmutableGuard() { SetImmutable(path, false); }
};

// Replaces the first `from` in the config file by `to`; false if not found.
bool EditConfig(const std::string& file, const std::string& from, const std::string& to) {
  std::string conf = ReadFile(file);
  const size_t at = conf.find(from);
  if (at == std::string::npos) return false;
  conf.replace(at, from.size(), to);
  std::ofstream(file, std::ios::trunc) << conf;
  return true;
}

// Whether the journal (read as a follower) holds an event for `path`.
bool Journaled(const std::string& journal_dir, const std::string& follower,
               const std::string& path) {
  std::filesystem::create_directories(follower);
  auto j = Journal::OpenSecondary(journal_dir, follower);
  if (!j || !(*j)->CatchUp().ok()) return false;
  for (auto r = (*j)->NewReader({}); r->Valid(); r->Next()) {
    if (r->event().path == path) return true;
  }
  return false;
}

TEST_F(FerrydTest, CtlStatusJsonAndTableAfterConvergence) {
  Write("a", "1");
  Write("dir/b", "2");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());

  // The place options work after the verb too, in both spellings.
  for (const std::vector<std::string>& late :
       {std::vector<std::string>{"log", "--journal", tmp_.Sub("nowhere")},
        std::vector<std::string>{"log", "--journal=" + tmp_.Sub("nowhere")}}) {
    Ran r = Ferryctl(tmp_, late);
    EXPECT_EQ(r.code, 69) << r;
    EXPECT_NE(r.err.find("no journal at " + tmp_.Sub("nowhere")), std::string::npos) << r;
  }

  Ran r = Ferryctl(tmp_, {"status", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r;
  const json s = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r;
  EXPECT_EQ(s["daemon"], "running");
  EXPECT_EQ(s["ready"], true);
  ASSERT_TRUE(s["head"].is_number_unsigned()) << s.dump(2);
  for (const char* k : {"dir", "bytes", "oldest_seq", "newest_seq"}) {
    EXPECT_TRUE(s["journal"].contains(k)) << k << " in " << s["journal"].dump();
  }
  EXPECT_EQ(s["journal"]["dir"], tmp_.Sub("journal"));
  EXPECT_EQ(s["journal"]["newest_seq"], s["head"]);
  ASSERT_EQ(s["destinations"].size(), 1u) << s.dump(2);
  const json& d = s["destinations"][0];
  for (const char* k : {"name", "source", "watches", "watcher", "watcher_reason", "state"}) {
    EXPECT_TRUE(d.contains(k)) << k << " in " << d.dump();
  }
  EXPECT_EQ(d["name"], "www");
  EXPECT_EQ(d["source"], src());
  if (d["watcher"] == "inotify") {
    EXPECT_GE(d["watches"].get<int>(), 2) << "the root and dir/";
  } else {
    EXPECT_EQ(d["watcher"], "fanotify") << d.dump();
    EXPECT_EQ(d["watches"], 0) << "one filesystem mark, no watches";
  }
  EXPECT_NE(d["watcher_reason"].get<std::string>().find("watcher = auto"), std::string::npos)
      << d.dump();
  ASSERT_EQ(s["targets"].size(), 2u) << s.dump(2);
  for (const json& t : s["targets"]) {
    for (const char* k : {"name", "destination", "url", "state", "cursor", "lag_events",
                          "lag_seconds", "dead_letters", "last_error", "last_success"}) {
      EXPECT_TRUE(t.contains(k)) << k << " in " << t.dump();
    }
    EXPECT_EQ(t["cursor"], s["head"]) << t.dump();
    EXPECT_EQ(t["destination"], "www");
    EXPECT_EQ(t["state"], "ok") << t.dump();
    EXPECT_EQ(t["lag_events"], 0) << t.dump();
    EXPECT_EQ(t["dead_letters"], 0) << t.dump();
  }
  EXPECT_EQ(TargetOf(s, "mirror")["url"], local());
  EXPECT_EQ(TargetOf(s, "backup")["url"], daemon_.url());

  r = Ferryctl(tmp_, {"status"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "mirror")) << r;
  EXPECT_TRUE(Contains(r.out, "backup")) << r;
  EXPECT_TRUE(Contains(r.out, " ok ")) << r;
  EXPECT_TRUE(Contains(r.out, "www")) << r;

  r = Ferryctl(tmp_, {"status", "-o", "yaml"});
  EXPECT_EQ(r.code, 64) << r;
}

TEST_F(FerrydTest, CtlStatusExitsOneWhileATargetIsBlocked) {
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  // The same password file, now with a password the rsync daemon refuses.
  const std::string password_file = daemon_.PasswordFile("s3cret");
  std::ofstream(password_file, std::ios::trunc) << "wrong\n";
  Write("after-auth-change", "x");
  Ran r;
  ASSERT_TRUE(Eventually([&] {
    r = Ferryctl(tmp_, {"status", "-o", "json"});
    const json s = json::parse(r.out, nullptr, false);
    return !s.is_discarded() && TargetOf(s, "backup")["state"] == "blocked";
  })) << r;
  EXPECT_EQ(r.code, 1) << r;
  r = Ferryctl(tmp_, {"status"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "blocked")) << r;
  EXPECT_TRUE(Contains(r.out, "last error")) << r;

  // Fixed, and told to try now: healthy again.
  std::ofstream(password_file, std::ios::trunc) << "s3cret\n";
  r = Ferryctl(tmp_, {"resume", "--target", "backup"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Converged());
  EXPECT_TRUE(Eventually([&] { return Ferryctl(tmp_, {"status"}).code == 0; }))
      << Ferryctl(tmp_, {"status"});
}

TEST_F(FerrydTest, CtlWaitSyncedReturnsOnlyOnceEveryTargetHasTheHead) {
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  for (int i = 0; i < 200; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%03d", i);
    Write(name, std::string(100 + i, 'x'));
  }
  // A last change in the same directory: once it is journaled, so is
  // everything before it (one inotify queue, in order).
  std::filesystem::create_directory(src() + "/zz-sentinel");
  ASSERT_TRUE(Eventually(
      [&] { return Journaled(tmp_.Sub("journal"), tmp_.Sub("follower-ws"), "zz-sentinel"); }));

  Ran r = Ferryctl(tmp_, {"status", "--wait-synced", "--timeout", "30s"});
  ASSERT_EQ(r.code, 0) << r;
  // No polling: when it returned, the targets had it all.
  EXPECT_EQ(testing::DiffTrees(src(), local()), "");
  EXPECT_EQ(testing::DiffTrees(src(), module()), "");

  // The rsync daemon is gone: backup cannot catch up, and says so.
  daemon_.Stop();
  Write("while-daemon-down", "y");
  ASSERT_TRUE(Eventually([&] {
    return Journaled(tmp_.Sub("journal"), tmp_.Sub("follower-ws"), "while-daemon-down");
  }));
  r = Ferryctl(tmp_, {"status", "--wait-synced", "--timeout", "2s"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "not synced within 2s")) << r;
  EXPECT_TRUE(Contains(r.err, "backup")) << r;

  r = Ferryctl(tmp_, {"status", "--wait-synced", "--timeout", "soon"});
  EXPECT_EQ(r.code, 64) << r;
}

TEST_F(FerrydTest, CtlReplayIsADryRunUntilExecuted) {
  Write("keep", "k");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  Write("later", "x");
  ASSERT_TRUE(Converged());
  std::filesystem::remove(local() + "/later");  // drift behind ferry's back

  Ran r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--from-seq", "1"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Would rewind target mirror")) << r;
  EXPECT_TRUE(Contains(r.out, "dry run")) << r;
  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--since", "1 hour ago"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Would rewind target mirror")) << r;
  // A dry run moved nothing: the cursor is at the head, the file still gone.
  r = Ferryctl(tmp_, {"status", "-o", "json"});
  const json s = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r;
  EXPECT_EQ(TargetOf(s, "mirror")["cursor"], s["head"]) << s.dump(2);
  EXPECT_FALSE(std::filesystem::exists(local() + "/later"));

  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--since", "1 hour ago", "--execute"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Rewound target mirror")) << r;
  EXPECT_TRUE(Eventually([&] { return std::filesystem::exists(local() + "/later"); })) << Log();
  EXPECT_TRUE(Converged());

  std::filesystem::remove(local() + "/later");
  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--from-seq", "1", "--execute"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Rewound target mirror")) << r;
  EXPECT_TRUE(Eventually([&] { return std::filesystem::exists(local() + "/later"); })) << Log();

  // Usage errors.
  EXPECT_EQ(Ferryctl(tmp_, {"replay", "--target", "mirror"}).code, 64);
  EXPECT_EQ(Ferryctl(tmp_, {"replay", "--from-seq", "1"}).code, 64);
  r = Ferryctl(tmp_, {"replay", "--target", "nope", "--from-seq", "1"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "no target \"nope\"")) << r;
}

TEST_F(FerrydTest, CtlDeadLettersListRetryAndDrop) {
  Write("bad", "v1");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  // ferryd runs as root, so permissions stop nothing; an immutable file on the
  // local target does: rsync cannot rename its new version over it (exit 23)
  // while other files of the batch go through.
  const std::string bad = local() + "/bad";
  ImmutableGuard guard{bad};
  if (!SetImmutable(bad, true)) {
    GTEST_SKIP() << "the file system under $TMPDIR has no immutable attribute (chattr +i)";
  }
  Write("bad", "v2");
  Write("good", "g");

  Ran r;
  ASSERT_TRUE(Eventually([&] {
    r = Ferryctl(tmp_, {"dlq", "list"});
    return Contains(r.out, "1 dead letter(s)");
  })) << r
      << Log();
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "mirror #")) << r;
  EXPECT_TRUE(Contains(r.out, " bad ")) << r;
  EXPECT_TRUE(Eventually([&] { return ReadFile(local() + "/good") == "g"; }))
      << "the rest of the batch is delivered";
  EXPECT_TRUE(Eventually([&] { return ReadFile(module() + "/bad") == "v2"; }))
      << "other targets are not concerned";
  r = Ferryctl(tmp_, {"status"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "dead letters: ferryctl dlq list --target mirror")) << r;
  r = Ferryctl(tmp_, {"dlq", "list", "--target", "backup"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "0 dead letter(s)")) << r;

  // Fixed: a retry delivers it and clears the entry. First let the batch that
  // dead-lettered it end (the cursor at the head): ferryd drops a retry
  // request that arrives while a batch runs (Lane::RetryDeadLetters returns
  // early) although the reply says "retrying 1".
  ASSERT_TRUE(Eventually([&] {
    r = Ferryctl(tmp_, {"status", "-o", "json"});
    const json s = json::parse(r.out, nullptr, false);
    return !s.is_discarded() && TargetOf(s, "mirror")["cursor"] == s["head"];
  })) << r;
  ASSERT_TRUE(SetImmutable(bad, false));
  r = Ferryctl(tmp_, {"dlq", "retry", "--target", "mirror", "--all"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "retrying 1")) << r;
  EXPECT_TRUE(Eventually([&] {
    r = Ferryctl(tmp_, {"dlq", "list"});
    return Contains(r.out, "0 dead letter(s)") && ReadFile(bad) == "v2";
  })) << r
      << Log();
  EXPECT_TRUE(Eventually([&] { return Ferryctl(tmp_, {"status"}).code == 0; }))
      << Ferryctl(tmp_, {"status"});

  // Again, and this time dropped by its seq.
  ASSERT_TRUE(SetImmutable(bad, true));
  Write("bad", "v3");
  json entry;
  ASSERT_TRUE(Eventually([&] {
    r = Ferryctl(tmp_, {"dlq", "list", "-o", "json"});
    entry = json::parse(r.out, nullptr, false);
    return !entry.is_discarded() && entry.is_object();
  })) << r
      << Log();
  EXPECT_EQ(entry["target"], "mirror");
  EXPECT_EQ(entry["path"], "bad");
  const std::string seq = entry["seq"].dump();
  r = Ferryctl(tmp_, {"dlq", "show", "--seq", seq});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "\"attempts\"")) << r;
  r = Ferryctl(tmp_, {"dlq", "drop", "--target", "mirror", "--seq", seq});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "dropped 1")) << r;
  r = Ferryctl(tmp_, {"dlq", "list"});
  EXPECT_TRUE(Contains(r.out, "0 dead letter(s)")) << r;
  EXPECT_TRUE(Eventually([&] { return Ferryctl(tmp_, {"status"}).code == 0; }))
      << Ferryctl(tmp_, {"status"});
  EXPECT_EQ(ReadFile(bad), "v2") << "a dropped entry is not delivered";
  r = Ferryctl(tmp_, {"dlq", "drop", "--seq", seq});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(Ferryctl(tmp_, {"dlq", "retry"}).code, 64);
  EXPECT_EQ(Ferryctl(tmp_, {"dlq", "frob"}).code, 64);
}

TEST_F(FerrydTest, CtlPauseResumeAndResync) {
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  Ran r = Ferryctl(tmp_, {"pause", "--target", "mirror"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "target mirror: pause requested")) << r;
  Write("during-pause", "p");
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(module() + "/during-pause"); }));
  r = Ferryctl(tmp_, {"status", "-o", "json"});
  const json s = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r;
  EXPECT_EQ(TargetOf(s, "mirror")["state"], "paused") << s.dump(2);
  EXPECT_GE(TargetOf(s, "mirror")["lag_events"].get<int>(), 1) << s.dump(2);
  EXPECT_EQ(r.code, 0) << "paused is not a finding\n" << r;
  EXPECT_FALSE(std::filesystem::exists(local() + "/during-pause"));
  r = Ferryctl(tmp_, {"status"});
  EXPECT_TRUE(Contains(r.out, "paused since")) << r;
  EXPECT_TRUE(Contains(r.out, "by uid " + std::to_string(getuid()))) << r;
  // With ferryd stopped, ferryctl reads the pause from the journal.
  StopFerryd(SIGKILL);
  r = Ferryctl(tmp_, {"status", "-o", "json"});
  EXPECT_EQ(TargetOf(json::parse(r.out, nullptr, false), "mirror")["state"], "paused") << r;
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  r = Ferryctl(tmp_, {"resume", "mirror"});  // the target may be positional
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Converged());

  // Drift behind ferry's back: a resync's --delete removes it.
  std::ofstream(local() + "/stray") << "s";
  r = Ferryctl(tmp_, {"resync", "--target", "mirror"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Eventually([&] { return !std::filesystem::exists(local() + "/stray"); })) << Log();
  EXPECT_TRUE(Converged());

  r = Ferryctl(tmp_, {"pause", "--target", "nope"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "configured: mirror, backup")) << r;
  EXPECT_EQ(Ferryctl(tmp_, {"pause"}).code, 64);
}

TEST_F(FerrydTest, CtlVerifyFindsDrift) {
  Write("a", "1");
  Write("sub/b", "2");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  Ran r = Ferryctl(tmp_, {"verify", "--target", "mirror"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "target mirror: matches " + src())) << r;
  r = Ferryctl(tmp_, {"verify", "--target", "backup"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "target backup: matches")) << r;

  std::ofstream(local() + "/sub/stray.txt") << "s";
  r = Ferryctl(tmp_, {"verify", "--target", "mirror"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "sub/stray.txt")) << r;
  EXPECT_TRUE(Contains(r.out, "1 difference(s)")) << r;
  EXPECT_TRUE(std::filesystem::exists(local() + "/sub/stray.txt")) << "verify changes nothing";

  r = Ferryctl(tmp_, {"verify", "--target", "nope"});
  EXPECT_EQ(r.code, 64) << r;
}

// verify runs ferryd's own full-sync command, so it has --modify-window=-1
// and each transport's flags: a same-size rewrite in the same second (only
// the nanoseconds of its mtime differ) is drift on every transport. The
// short daemon form host::module has no port: its destination gives --port.
TEST_F(FerrydTest, CtlVerifyFindsASameSecondDriftOnEveryTransport) {
  testing::SshServer sshd(tmp_.Sub("sshd"));
  if (!sshd.Start()) GTEST_SKIP() << "no usable sshd (install openssh-server)";
  ASSERT_TRUE(daemon_.Start());
  const std::string ssh_dir = tmp_.Sub("ssh-dst");
  std::filesystem::create_directories(ssh_dir);
  std::string ssh_options;
  for (const std::string& o : sshd.ClientOptions()) ssh_options += (ssh_options.empty() ? "" : " ") + o;
  const std::string password = daemon_.PasswordFile("s3cret");
  std::ofstream(tmp_.Sub("ferry.conf"))
      << "[journal]\ndir = " << tmp_.Sub("journal") << "\n"
      << "[destination.www]\nsource = " << src() << "\n"
      << "[destination.port]\nsource = " << src() << "\nrsync_args = -a --port=" << daemon_.port()
      << "\n"
      << "[target.local]\ndestination = www\nurl = " << local() << "\n"
      << "[target.daemon]\ndestination = www\nurl = " << daemon_.url()
      << "\npassword_file = " << password << "\n"
      << "[target.short]\ndestination = port\nurl = ferry@127.0.0.1::data\npassword_file = "
      << password << "\n"
      << "[target.ssh]\ndestination = www\nurl = 127.0.0.1:" << ssh_dir
      << "\nssh_options = " << ssh_options << "\n";
  Write("f", "aaaa");
  const timespec t1[2] = {{1'700'000'000, 100'000'000}, {1'700'000'000, 100'000'000}};
  ASSERT_EQ(utimensat(AT_FDCWD, (src() + "/f").c_str(), t1, AT_SYMLINK_NOFOLLOW), 0);
  for (const std::string& dir : {local(), module(), ssh_dir}) {
    ASSERT_EQ(testing::RunToEnd({"rsync", "-a", src() + "/", dir + "/"}, tmp_.Sub("rsync.log")), 0);
  }
  for (const char* t : {"local", "daemon", "short", "ssh"}) {
    Ran r = Ferryctl(tmp_, {"verify", "--target", t});
    EXPECT_EQ(r.code, 0) << t << "\n" << r;
    EXPECT_TRUE(Contains(r.out, "matches " + src())) << t << "\n" << r;
  }
  const timespec t6[2] = {{1'700'000'000, 600'000'000}, {1'700'000'000, 600'000'000}};
  for (const std::string& dir : {local(), module(), ssh_dir}) {
    std::ofstream(dir + "/f") << "bbbb";
    ASSERT_EQ(utimensat(AT_FDCWD, (dir + "/f").c_str(), t6, AT_SYMLINK_NOFOLLOW), 0);
  }
  for (const char* t : {"local", "daemon", "short", "ssh"}) {
    Ran r = Ferryctl(tmp_, {"verify", "--target", t});
    EXPECT_EQ(r.code, 1) << t << "\n" << r;
    EXPECT_TRUE(Contains(r.out, " f\n")) << t << "\n" << r;
    EXPECT_TRUE(Contains(r.out, "1 difference(s)")) << t << "\n" << r;
  }
  EXPECT_EQ(ReadFile(local() + "/f"), "bbbb") << "verify changes nothing";
}

// Quick mode reaches an rsync daemon with auth, as lsyncd's users run it:
// with --password-file, or with rsync's own RSYNC_PASSWORD; and without
// either it says what to give. ferryctl --journal finds that ferryd, and
// verify takes the target from its settings.
TEST_F(FerrydTest, QuickModeReachesAnRsyncDaemonWithAPassword) {
  ASSERT_TRUE(daemon_.Start());
  const std::string journal = tmp_.Sub("journal");
  const std::vector<std::string> quick = {FERRYD, "--source", src(), "--target", daemon_.url(),
                                          "--journal", journal};
  auto ferryd_log = [&] { return ReadFile(tmp_.Sub("quick.log")); };
  {
    std::vector<std::string> argv = quick;
    argv.insert(argv.begin(), {"/usr/bin/env", "-u", "RSYNC_PASSWORD"});
    EXPECT_EQ(testing::RunToEnd(argv, tmp_.Sub("quick.log")), 78);
    EXPECT_TRUE(Contains(ferryd_log(), "--target " + daemon_.url() +
                                           ": an rsync daemon URL with a user needs a password: "
                                           "give --password-file FILE (mode 600), or set "
                                           "RSYNC_PASSWORD in the environment"))
        << ferryd_log();
  }
  struct Way {
    const char* name;
    std::vector<std::string> prefix, suffix;
  };
  const Way ways[] = {
      {"--password-file", {"/usr/bin/env", "-u", "RSYNC_PASSWORD"},
       {"--password-file", daemon_.PasswordFile("s3cret")}},
      {"RSYNC_PASSWORD", {"/usr/bin/env", "RSYNC_PASSWORD=s3cret"}, {}},
  };
  int n = 0;
  for (const Way& way : ways) {
    SCOPED_TRACE(way.name);
    const std::string file = "f" + std::to_string(++n);
    Write(file, way.name);
    std::vector<std::string> argv = way.prefix;
    argv.insert(argv.end(), quick.begin(), quick.end());
    argv.insert(argv.end(), way.suffix.begin(), way.suffix.end());
    pid_t pid = testing::StartProcess(argv, tmp_.Sub("quick.log"));
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(Eventually([&] { return ReadFile(module() + "/" + file) == way.name; }))
        << ferryd_log();
    Ran r;
    if (way.suffix.empty()) {  // the password is in ferryd's environment only
      unsetenv("RSYNC_PASSWORD");
      r = FerryctlAt(tmp_, journal, {"verify", "--target", "target1"});
      EXPECT_EQ(r.code, 64) << r;
      EXPECT_TRUE(Contains(r.err, "RSYNC_PASSWORD in ferryd's environment; set it for ferryctl "
                                  "too"))
          << r;
      setenv("RSYNC_PASSWORD", "s3cret", 1);
    }
    r = FerryctlAt(tmp_, journal, {"verify", "--target", "target1"});
    unsetenv("RSYNC_PASSWORD");
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_TRUE(Contains(r.out, "target target1: matches " + src())) << r;
    r = FerryctlAt(tmp_, journal, {"status"});
    EXPECT_TRUE(Contains(r.out, "ferryd: running, pid " + std::to_string(pid))) << r;
    testing::StopProcess(pid);
    EXPECT_FALSE(Contains(ferryd_log(), "s3cret")) << "the password is never logged";
  }
}

TEST_F(FerrydTest, CtlCheckPathNamesTheExcludeThatSkipsAPath) {
  WriteConfig();
  const std::string conf = tmp_.Sub("ferry.conf");
  ASSERT_TRUE(
      EditConfig(conf, "source = " + src() + "\n", "source = " + src() + "\nexclude = *.tmp\n"));
  ASSERT_NO_FATAL_FAILURE(StartFerryd());  // ferryd accepts the config too

  Ran r = Ferryctl(tmp_, {"check-path", src() + "/cache/x.tmp"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "SKIPPED by exclude = *.tmp")) << r;
  EXPECT_TRUE(Contains(r.out, "destination www")) << r;
  r = Ferryctl(tmp_, {"check-path", src() + "/index.html"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "replicated")) << r;
  r = Ferryctl(tmp_, {"check-path", src() + "/index.html", src() + "/y.tmp"});
  EXPECT_EQ(r.code, 1) << "one skipped is enough\n" << r;
  r = Ferryctl(tmp_, {"check-path", tmp_.Sub("elsewhere")});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.out, "not under any destination's source")) << r;

  // ferryd agrees: the excluded file is not replicated.
  Write("x.tmp", "t");
  Write("y.html", "h");
  EXPECT_TRUE(Eventually([&] { return std::filesystem::exists(local() + "/y.html"); }));
  EXPECT_FALSE(std::filesystem::exists(local() + "/x.tmp"));
}

TEST_F(FerrydTest, CtlImportSersyncPrintsAConfig) {
  Ran r = Ferryctl(tmp_, {"import-sersync", SERSYNC_DATA_DIR "/seed000_home_xyz.xml"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "[destination.")) << r;
  EXPECT_TRUE(Contains(r.out, "[target.")) << r;
  r = Ferryctl(tmp_, {"import-sersync", tmp_.Sub("missing.xml")});
  EXPECT_EQ(r.code, 64) << r;
}

// A ferryd started from a config file keeps its socket elsewhere than its
// journal (here TMP/ferryd.sock, not TMP/journal/ferryd.sock): ferryctl
// --journal finds it through the journal's record, which only the owner reads.
TEST_F(FerrydTest, CtlJournalFindsTheFerrydRunningOnIt) {
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  Ran r = FerryctlAt(tmp_, tmp_.Sub("journal"), {"status"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "ferryd: running, pid " + std::to_string(pid_))) << r;
  struct stat st;
  ASSERT_EQ(stat((tmp_.Sub("journal") + "/ferryd.control").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(tmp_.Sub("journal") + "/ferryd.control"), socket_path() + "\n");
  StopFerryd(SIGTERM);
  r = FerryctlAt(tmp_, tmp_.Sub("journal"), {"status"});
  EXPECT_TRUE(Contains(r.out, "stopped")) << "a stale record names a dead socket\n" << r;
}

TEST_F(FerrydTest, CtlWorksWhileFerrydIsStopped) {
  Write("keep", "k");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  Write("later", "x");
  ASSERT_TRUE(Converged());
  ASSERT_TRUE(WIFEXITED(StopFerryd(SIGTERM)));

  Ran r = Ferryctl(tmp_, {"status", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r;
  const json s = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r;
  EXPECT_EQ(s["daemon"], "stopped");
  EXPECT_EQ(s["ready"], false);
  ASSERT_EQ(s["targets"].size(), 2u) << s.dump(2);
  for (const json& t : s["targets"]) {
    EXPECT_EQ(t["cursor"], s["head"]) << t.dump();
    EXPECT_EQ(t["state"], "ok") << t.dump();
  }
  r = Ferryctl(tmp_, {"status"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "stopped")) << r;

  r = Ferryctl(tmp_, {"log", "-n", "3"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "later")) << r;

  r = Ferryctl(tmp_, {"pause", "--target", "mirror"});
  EXPECT_EQ(r.code, 69) << r;
  EXPECT_TRUE(Contains(r.err, "ferryd is not running")) << r;
  EXPECT_EQ(Ferryctl(tmp_, {"reload"}).code, 69);
  EXPECT_EQ(Ferryctl(tmp_, {"dlq", "retry", "--all"}).code, 69);
  r = Ferryctl(tmp_, {"dlq", "list"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "0 dead letter(s)")) << r;
  r = Ferryctl(tmp_, {"metrics"});
  EXPECT_EQ(r.code, 0) << r;
  r = Ferryctl(tmp_, {"status", "--wait-synced", "--timeout", "1s"});
  EXPECT_EQ(r.code, 69) << r;

  // A replay goes straight to the journal, and takes effect at the start.
  std::filesystem::remove(local() + "/later");
  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--from-seq", "1"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Would rewind target mirror")) << r;
  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--from-seq", "1", "--execute"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "Rewound target mirror")) << r;
  EXPECT_TRUE(Contains(r.out, "takes effect when it starts")) << r;
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  EXPECT_TRUE(Eventually([&] { return std::filesystem::exists(local() + "/later"); })) << Log();
  EXPECT_TRUE(Converged());

  // Events trimmed from the journal cannot be replayed: refused, with the way out.
  ASSERT_TRUE(WIFEXITED(StopFerryd(SIGTERM)));
  {
    auto j = Journal::Open({.dir = tmp_.Sub("journal")});
    ASSERT_TRUE(j) << j.error().ToString();
    // Every delivered event older than 1 ns: all of them.
    auto trimmed = (*j)->Trim({.keep_delivered_ns = 1});
    ASSERT_TRUE(trimmed) << trimmed.error().ToString();
    ASSERT_FALSE(trimmed->trimmed.empty());
  }
  r = Ferryctl(tmp_, {"status", "-o", "json"});
  const json after = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(after.is_discarded()) << r;
  ASSERT_GT(after["journal"]["oldest_seq"].get<uint64_t>(), 1u) << after.dump(2);
  r = Ferryctl(tmp_, {"replay", "--target", "mirror", "--from-seq", "1", "--execute"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "no longer in the journal")) << r;
  EXPECT_TRUE(Contains(r.err, "--full-sync")) << r;
}

TEST_F(FerrydTest, CtlReloadReportsAnAddedTarget) {
  Write("a", "1");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  const std::string third = tmp_.Sub("third");
  std::filesystem::create_directories(third);
  std::ofstream(tmp_.Sub("ferry.conf"), std::ios::app)
      << "[target.third]\ndestination = www\nurl = " << third << "\n";
  Ran r = Ferryctl(tmp_, {"reload"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "added: target.third")) << r;
  EXPECT_TRUE(Contains(r.out, "reloaded")) << r;
  EXPECT_TRUE(Eventually([&] { return testing::DiffTrees(src(), third).empty(); }))
      << testing::DiffTrees(src(), third);

  // A broken file changes nothing, and ferryctl says why.
  std::ofstream(tmp_.Sub("ferry.conf"), std::ios::app) << "bogus = 1\n";
  r = Ferryctl(tmp_, {"reload"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(Contains(r.err, "unknown key")) << r;
}

TEST_F(FerrydTest, CtlMetricsShowsTheLag) {
  Write("a", "1");
  WriteConfig();
  ASSERT_NO_FATAL_FAILURE(StartFerryd());
  ASSERT_TRUE(Converged());
  Ran r = Ferryctl(tmp_, {"metrics"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_TRUE(Contains(r.out, "ferry_target_lag_events{target=\"mirror\",destination=\"www\"} 0"))
      << r;
  EXPECT_TRUE(Contains(r.out, "ferry_target_lag_events{target=\"backup\",destination=\"www\"} 0"))
      << r;
  EXPECT_EQ(Ferryctl(tmp_, {"metrics", "extra"}).code, 64);
}

}  // namespace
}  // namespace ferry
