// The real ferryctl binary's `log` verb against a journal this test writes
// (and keeps open as its primary, as ferryd would): every output mode as exact
// text, the selections, cursors, follow mode and the usage errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "tests/lib/journal_fixture.h"
#include "tests/lib/temp_dir.h"
#include "tests/lib/test_servers.h"

extern char** environ;

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// 2026-11-21 10:00:01.123456789 UTC; event k is k-1 seconds later.
constexpr int64_t kT0 = 1795255201'123456789;
constexpr int64_t kSecond = 1'000'000'000;

struct Ran {
  int code = -1;
  std::string out, err;
};

// A child with its stdout and stderr on pipes.
struct Child {
  pid_t pid = -1;
  int out = -1, err = -1;
};

Child Spawn(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  if (posix_spawn(&c.pid, args[0], &fa, nullptr, args.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  c.out = out[0];
  c.err = err[0];
  return c;
}

// Appends what `fd` has to `buf` until `done(buf)` or EOF or the deadline;
// whether `done` came true.
template <typename Done>
bool ReadUntil(int fd, std::string* buf, Clock::time_point deadline, Done done) {
  while (!done(*buf)) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return done(*buf);
    if (n > 0) buf->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Waits for `pid` until the deadline; its exit code, or -1 (then it is killed).
int Reap(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (!testing::ReapWithin(pid, static_cast<int>(std::max<int64_t>(0, left.count())), &status)) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class FerryctlLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    journal_ = testing::OpenJournalOrDie(dir());
    ASSERT_NE(journal_, nullptr);
    auto www = journal_->DestinationId("www");
    auto docs = journal_->DestinationId("docs");
    ASSERT_TRUE(www && docs);
    www_ = *www;
    docs_ = *docs;
    auto event = [&](uint32_t dest, EventKind kind, std::string path, bool dir = false,
                     std::string old = "") {
      events_.push_back(Event{.time_ns = kT0 + static_cast<int64_t>(events_.size()) * kSecond,
                              .destination = dest,
                              .kind = kind,
                              .is_dir = dir,
                              .path = std::move(path),
                              .old_path = std::move(old)});
    };
    event(www_, EventKind::kCreate, "index.html");                  // 1
    event(www_, EventKind::kCreate, "caf\xc3\xa9", true);           // 2
    event(www_, EventKind::kModify, "caf\xc3\xa9/line\nbreak");     // 3
    event(www_, EventKind::kAttrib, "tab\there");                   // 4
    event(docs_, EventKind::kCreate, "bad\xff");                    // 5
    event(www_, EventKind::kMove, "new name", false, "old\\name");  // 6
    event(docs_, EventKind::kDelete, "index.html");                 // 7
    event(www_, EventKind::kCreate, "src/main.c");                  // 8
    auto range = journal_->Append(events_);
    ASSERT_TRUE(range) << range.error().ToString();
    ASSERT_EQ(range->first, 1u);
    ASSERT_TRUE(journal_->SetCursor("mirror", www_, 3).ok());
    ASSERT_TRUE(journal_->SetCursor("backup", docs_, 5).ok());
  }

  std::string dir() const { return tmp_.Sub("journal"); }

  std::vector<std::string> Argv(std::initializer_list<std::string> args) const {
    std::vector<std::string> argv = {"/usr/bin/env", "TZ=UTC", FERRYCTL, "--journal", dir(), "log"};
    argv.insert(argv.end(), args);
    return argv;
  }

  // Runs `ferryctl --journal DIR log ARGS` to its end.
  Ran Run(std::initializer_list<std::string> args) const {
    Child c = Spawn(Argv(args));
    Ran r;
    if (c.pid <= 0) return r;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    bool out_open = true, err_open = true;
    while ((out_open || err_open) && Clock::now() < deadline) {
      pollfd p[2] = {{out_open ? c.out : -1, POLLIN, 0}, {err_open ? c.err : -1, POLLIN, 0}};
      if (poll(p, 2, 1000) <= 0) continue;
      char chunk[4096];
      for (int i = 0; i < 2; ++i) {
        if (p[i].revents == 0) continue;
        const ssize_t n = read(p[i].fd, chunk, sizeof chunk);
        if (n <= 0) {
          (i == 0 ? out_open : err_open) = false;
        } else {
          (i == 0 ? r.out : r.err).append(chunk, static_cast<size_t>(n));
        }
      }
    }
    close(c.out);
    close(c.err);
    r.code = Reap(c.pid, deadline);
    return r;
  }

  // The expected `short` lines of events `seqs`, in that order.
  static std::string Short(std::initializer_list<int> seqs) {
    static const char* kLines[] = {
        "",
        "Nov 21 10:00:01.123456 #1 www create index.html\n",
        "Nov 21 10:00:02.123456 #2 www create caf\xc3\xa9/\n",
        "Nov 21 10:00:03.123456 #3 www modify caf\xc3\xa9/line\\nbreak\n",
        "Nov 21 10:00:04.123456 #4 www attrib tab\\there\n",
        "Nov 21 10:00:05.123456 #5 docs create bad\\xff\n",
        "Nov 21 10:00:06.123456 #6 www move old\\\\name -> new name\n",
        "Nov 21 10:00:07.123456 #7 docs delete index.html\n",
        "Nov 21 10:00:08.123456 #8 www create src/main.c\n",
    };
    std::string out;
    for (int s : seqs) out += kLines[s];
    return out;
  }

  // Expects exit 0, no complaint and exactly `out`.
  void ExpectOut(std::initializer_list<std::string> args, const std::string& out) const {
    Ran r = Run(args);
    std::string shown;
    for (const std::string& a : args) shown += " " + a;
    EXPECT_EQ(r.code, 0) << "log" << shown << "\n" << r.err;
    EXPECT_EQ(r.err, "") << "log" << shown;
    EXPECT_EQ(r.out, out) << "log" << shown;
  }

  // Expects exit 64, nothing on stdout, and one line on stderr.
  std::string ExpectUsageError(std::initializer_list<std::string> args) const {
    Ran r = Run(args);
    std::string shown;
    for (const std::string& a : args) shown += " " + a;
    EXPECT_EQ(r.code, 64) << "log" << shown << "\n" << r.err;
    EXPECT_EQ(r.out, "") << "log" << shown;
    EXPECT_TRUE(r.err.starts_with("ferryctl log: ")) << "log" << shown << ": " << r.err;
    EXPECT_TRUE(r.err.ends_with("\n")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "log" << shown << ": " << r.err;
    return r.err;
  }

  std::string Cursor(uint64_t seq) const {
    return "ferry-cursor v1 journal=" + journal_->id().Hex() + " seq=" + std::to_string(seq);
  }

  testing::TempDir tmp_;
  std::unique_ptr<Journal> journal_;
  uint32_t www_ = 0, docs_ = 0;
  std::vector<Event> events_;
};

TEST_F(FerryctlLogTest, ShortShowsEverythingOldestFirstWithOddBytesEscaped) {
  ExpectOut({}, Short({1, 2, 3, 4, 5, 6, 7, 8}));
  ExpectOut({"--no-pager", "-o", "short"}, Short({1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(FerryctlLogTest, ShortIsoOfOneDestination) {
  ExpectOut({"-o", "short-iso", "--destination", "docs"},
            "2026-11-21T10:00:05.123456+00:00 #5 docs create bad\\xff\n"
            "2026-11-21T10:00:07.123456+00:00 #7 docs delete index.html\n");
  ExpectOut({"--destination=www", "--kind", "create"}, Short({1, 2, 8}));
  std::string err = ExpectUsageError({"--destination", "nope"});
  EXPECT_EQ(err,
            "ferryctl log: --destination: no destination \"nope\" in the journal; known: "
            "docs, www\n");
}

TEST_F(FerryctlLogTest, JsonNamesTargetsAndCarriesRawBytes) {
  const std::string w = std::to_string(www_), d = std::to_string(docs_);
  ExpectOut({"-o", "json", "--from-seq", "3", "--until", "2026-11-21 10:00:06.5"},
            "{\"seq\":3,\"time\":\"2026-11-21T10:00:03.123456+00:00\",\"time_ns\":"
            "1795255203123456789,\"destination\":\"www\",\"destination_id\":" +
                w +
                ","
                "\"kind\":\"modify\",\"is_dir\":false,\"path\":\"caf\xc3\xa9/line\\nbreak\","
                "\"delivered_to\":[\"mirror\"],\"pending_for\":[]}\n"
                "{\"seq\":4,\"time\":\"2026-11-21T10:00:04.123456+00:00\",\"time_ns\":"
                "1795255204123456789,\"destination\":\"www\",\"destination_id\":" +
                w +
                ","
                "\"kind\":\"attrib\",\"is_dir\":false,\"path\":\"tab\\there\","
                "\"delivered_to\":[],\"pending_for\":[\"mirror\"]}\n"
                "{\"seq\":5,\"time\":\"2026-11-21T10:00:05.123456+00:00\",\"time_ns\":"
                "1795255205123456789,\"destination\":\"docs\",\"destination_id\":" +
                d +
                ","
                "\"kind\":\"create\",\"is_dir\":false,\"path\":\"bad\\\\xff\",\"path_b64\":"
                "\"YmFk/w==\",\"delivered_to\":[\"backup\"],\"pending_for\":[]}\n"
                "{\"seq\":6,\"time\":\"2026-11-21T10:00:06.123456+00:00\",\"time_ns\":"
                "1795255206123456789,\"destination\":\"www\",\"destination_id\":" +
                w +
                ","
                "\"kind\":\"move\",\"is_dir\":false,\"path\":\"new name\",\"old_path\":"
                "\"old\\\\name\",\"delivered_to\":[],\"pending_for\":[\"mirror\"]}\n");
}

TEST_F(FerryctlLogTest, JsonPrettyAndVerbose) {
  const std::string w = std::to_string(www_);
  ExpectOut({"-o", "json-pretty", "-n", "1"},
            "{\n"
            "  \"seq\": 8,\n"
            "  \"time\": \"2026-11-21T10:00:08.123456+00:00\",\n"
            "  \"time_ns\": 1795255208123456789,\n"
            "  \"destination\": \"www\",\n"
            "  \"destination_id\": " +
                w +
                ",\n"
                "  \"kind\": \"create\",\n"
                "  \"is_dir\": false,\n"
                "  \"path\": \"src/main.c\",\n"
                "  \"delivered_to\": [],\n"
                "  \"pending_for\": [\n"
                "    \"mirror\"\n"
                "  ]\n"
                "}\n");
  ExpectOut({"--output=verbose", "--kind", "move"},
            "2026-11-21T10:00:06.123456+00:00 #6\n"
            "    seq=6\n"
            "    time=2026-11-21T10:00:06.123456+00:00\n"
            "    time_ns=1795255206123456789\n"
            "    destination=www\n"
            "    destination_id=" +
                w +
                "\n"
                "    kind=move\n"
                "    is_dir=false\n"
                "    path=new name\n"
                "    old_path=old\\\\name\n"
                "    delivered_to=\n"
                "    pending_for=mirror\n");
  ExpectOut({"-o", "verbose", "--after-seq", "1", "-n", "1", "-r", "--path", "caf\xc3\xa9/"},
            "2026-11-21T10:00:03.123456+00:00 #3\n"
            "    seq=3\n"
            "    time=2026-11-21T10:00:03.123456+00:00\n"
            "    time_ns=1795255203123456789\n"
            "    destination=www\n"
            "    destination_id=" +
                w +
                "\n"
                "    kind=modify\n"
                "    is_dir=false\n"
                "    path=caf\xc3\xa9/line\\nbreak\n"
                "    old_path=\n"
                "    delivered_to=mirror\n"
                "    pending_for=\n");
}

TEST_F(FerryctlLogTest, CatEscapesAndCatNulIsRaw) {
  static constexpr char kNul[] =
      "caf\xc3\xa9/line\nbreak\0tab\there\0bad\xff\0new name\0src/main.c\0";
  ExpectOut({"-o", "cat"},
            "index.html\ncaf\xc3\xa9\ncaf\xc3\xa9/line\\nbreak\ntab\\there\nbad\\xff\nnew name\n"
            "index.html\nsrc/main.c\n");
  ExpectOut({"-o", "cat", "-0", "--from-seq", "3", "--kind", "modify,attrib,create,move"},
            std::string(kNul, sizeof kNul - 1));
}

TEST_F(FerryctlLogTest, LinesAndReverse) {
  ExpectOut({"-n", "3"}, Short({6, 7, 8}));
  ExpectOut({"-n3"}, Short({6, 7, 8}));
  ExpectOut({"--lines=2"}, Short({7, 8}));
  ExpectOut({"-n"}, Short({1, 2, 3, 4, 5, 6, 7, 8}));  // -n alone is 10
  ExpectOut({"-n", "all"}, Short({1, 2, 3, 4, 5, 6, 7, 8}));
  ExpectOut({"-n", "0"}, "");
  ExpectOut({"-n", "+2"}, Short({1, 2}));
  ExpectOut({"-r"}, Short({8, 7, 6, 5, 4, 3, 2, 1}));
  ExpectOut({"-r", "-n", "3"}, Short({8, 7, 6}));
  ExpectOut({"-n", "2", "--kind", "create"}, Short({5, 8}));
  ExpectOut({"-r", "--destination", "docs"}, Short({7, 5}));
}

TEST_F(FerryctlLogTest, SinceAndUntil) {
  ExpectOut({"--since", "2026-11-21 10:00:05"}, Short({5, 6, 7, 8}));
  ExpectOut({"-S", "2026-11-21T10:00:05.123456789Z"}, Short({5, 6, 7, 8}));
  ExpectOut({"--until", "2026-11-21 10:00:02"}, Short({1}));
  ExpectOut({"--since", "2026-11-21 10:00:03", "--until", "@1795255205"}, Short({3, 4}));
  ExpectOut({"--since", "@1900000000"}, "");
  ExpectOut({"--since", "2026-11-21 10:00:04", "-r", "-n", "2"}, Short({8, 7}));
}

TEST_F(FerryctlLogTest, SeqBounds) {
  ExpectOut({"--after-seq", "6"}, Short({7, 8}));
  ExpectOut({"--from-seq", "6"}, Short({6, 7, 8}));
  ExpectOut({"--from-seq", "7", "--after-seq", "2"}, Short({7, 8}));
  ExpectOut({"--after-seq", "8"}, "");
  ExpectOut({"--from-seq", "100"}, "");
}

TEST_F(FerryctlLogTest, KindsAndPaths) {
  ExpectOut({"--kind", "delete,move"}, Short({6, 7}));
  ExpectOut({"--kind", "attrib", "--kind", "delete"}, Short({4, 7}));
  ExpectOut({"--path", "caf\xc3\xa9/"}, Short({2, 3}));  // the dir and what is inside
  ExpectOut({"--path", "*.c", "--path", "tab*"}, Short({4, 8}));
  ExpectOut({"--path", "old*"}, Short({6}));  // a move matches by its old path too
  ExpectOut({"--path", "/index.html", "--destination", "docs"}, Short({7}));
  std::string err = ExpectUsageError({"--kind", "create,bogus"});
  EXPECT_EQ(err,
            "ferryctl log: --kind: unknown kind \"bogus\"; kinds: create, modify, attrib, delete, "
            "move, rescan, full_sync\n");
}

TEST_F(FerryctlLogTest, PendingFollowsTheTargetsCursor) {
  ExpectOut({"--pending", "mirror"}, Short({4, 6, 8}));
  ExpectOut({"--pending", "backup"}, Short({7}));
  ASSERT_TRUE(journal_->SetCursor("mirror", www_, 6).ok());
  ExpectOut({"--pending", "mirror"}, Short({8}));
  ASSERT_TRUE(journal_->AdvanceCursor("mirror", 8, 1, 10).ok());
  ExpectOut({"--pending", "mirror"}, "");
  ExpectOut({"--pending", "backup", "-o", "cat"}, "index.html\n");
  std::string err = ExpectUsageError({"--pending", "nope"});
  EXPECT_EQ(err, "ferryctl log: --pending: no target \"nope\"; known: backup, mirror\n");
}

TEST_F(FerryctlLogTest, CursorFileResumesAfterTheLastEventShown) {
  const std::string file = tmp_.Sub("pos");
  ExpectOut({"--cursor-file", file, "-n", "2"}, Short({7, 8}));
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, Cursor(8) + "\n");
  ExpectOut({"--cursor-file", file}, "");
  std::vector<Event> more = {
      Event{.time_ns = kT0 + 8 * kSecond, .destination = www_, .path = "late\x01"},
      Event{.time_ns = kT0 + 9 * kSecond,
            .destination = docs_,
            .kind = EventKind::kDelete,
            .path = "bad\xff"}};
  ASSERT_TRUE(journal_->Append(more));
  ExpectOut({"--cursor-file", file},
            "Nov 21 10:00:09.123456 #9 www create late\\x01\n"
            "Nov 21 10:00:10.123456 #10 docs delete bad\\xff\n");
  ExpectOut({"--cursor-file", file}, "");

  // A position from another journal is refused, and the file left alone.
  const std::string other = "ferry-cursor v1 journal=00112233445566778899aabbccddeeff seq=3\n";
  std::ofstream(file) << other;
  std::string err = ExpectUsageError({"--cursor-file", file});
  EXPECT_NE(err.find("belongs to journal 00112233445566778899aabbccddeeff"), std::string::npos)
      << err;
  std::ifstream again(file);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), {}), other);
}

TEST_F(FerryctlLogTest, ShowCursorAndStartAtACursor) {
  ExpectOut({"-n", "2", "--show-cursor"}, Short({7, 8}) + "-- cursor: " + Cursor(8) + "\n");
  ExpectOut({"-r", "-n", "2", "--show-cursor"}, Short({8, 7}) + "-- cursor: " + Cursor(8) + "\n");
  ExpectOut({"--kind", "rescan", "--show-cursor"}, "");  // nothing shown, no position
  ExpectOut({"--after-cursor", Cursor(6)}, Short({7, 8}));
  ExpectOut({"--cursor", Cursor(6)}, Short({6, 7, 8}));
  std::string err = ExpectUsageError(
      {"--after-cursor", "ferry-cursor v1 journal=00112233445566778899aabbccddeeff seq=3"});
  EXPECT_NE(err.find("belongs to journal 00112233445566778899aabbccddeeff"), std::string::npos);
}

TEST_F(FerryctlLogTest, FollowPrintsNewEventsWithin200Ms) {
  Child c = Spawn(Argv({"-f", "-o", "json"}));
  ASSERT_GT(c.pid, 0);
  std::string out;
  // Without -n, -f starts with the last 10: all 8 here.
  ASSERT_TRUE(ReadUntil(
      c.out, &out, Clock::now() + std::chrono::seconds(20),
      [](const std::string& s) { return s.find("\"seq\":8,") != s.npos && s.ends_with('\n'); }))
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 8) << out;
  int64_t best_ms = INT64_MAX;
  for (int attempt = 0; attempt < 3 && best_ms > 200; ++attempt) {
    const uint64_t seq = journal_->LastSeq() + 1;
    const std::string want = "{\"seq\":" + std::to_string(seq) + ",";
    const auto start = Clock::now();
    ASSERT_TRUE(
        journal_->Append({Event{.destination = www_, .path = "new\n" + std::to_string(seq)}}));
    ASSERT_TRUE(ReadUntil(c.out, &out, start + std::chrono::seconds(10),
                          [&](const std::string& s) { return s.find(want) != s.npos; }))
        << "seq " << seq << " did not appear: " << out;
    best_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  }
  EXPECT_LE(best_ms, 200);
  EXPECT_NE(out.find("\"path\":\"new\\n9\""), std::string::npos) << out;
  kill(c.pid, SIGTERM);
  EXPECT_EQ(Reap(c.pid, Clock::now() + std::chrono::seconds(10)), 0);
  std::string err;
  ReadUntil(c.err, &err, Clock::now() + std::chrono::seconds(1),
            [](const std::string&) { return false; });
  EXPECT_EQ(err, "");
  close(c.out);
  close(c.err);
}

TEST_F(FerryctlLogTest, FollowWithFiltersAndSigintAndAClosedPipe) {
  // -f with a start option shows everything from there, then only matches.
  Child c = Spawn(Argv({"-f", "--after-seq", "5", "--kind", "delete", "-o", "cat"}));
  ASSERT_GT(c.pid, 0);
  std::string out;
  ASSERT_TRUE(ReadUntil(c.out, &out, Clock::now() + std::chrono::seconds(20),
                        [](const std::string& s) { return s == "index.html\n"; }))
      << out;
  ASSERT_TRUE(
      journal_->Append({Event{.destination = www_, .path = "skipped"},
                        Event{.destination = www_, .kind = EventKind::kDelete, .path = "gone"}}));
  ASSERT_TRUE(ReadUntil(c.out, &out, Clock::now() + std::chrono::seconds(10),
                        [](const std::string& s) { return s.find("gone\n") != s.npos; }))
      << out;
  EXPECT_EQ(out, "index.html\ngone\n");
  kill(c.pid, SIGINT);
  EXPECT_EQ(Reap(c.pid, Clock::now() + std::chrono::seconds(10)), 0);
  close(c.out);
  close(c.err);

  // A reader that goes away (`ferryctl log -f | head -1`) ends the follower.
  Child d = Spawn(Argv({"-f", "-n", "1"}));
  ASSERT_GT(d.pid, 0);
  std::string first;
  ASSERT_TRUE(ReadUntil(d.out, &first, Clock::now() + std::chrono::seconds(20),
                        [](const std::string& s) { return s.find('\n') != s.npos; }));
  close(d.out);
  ASSERT_TRUE(journal_->Append({Event{.destination = www_, .path = "after-close"}}));
  EXPECT_EQ(Reap(d.pid, Clock::now() + std::chrono::seconds(10)), 0);
  close(d.err);
}

TEST_F(FerryctlLogTest, ReadsAClosedJournalToo) {
  journal_.reset();
  ExpectOut({"-n", "1"}, Short({8}));
}

TEST_F(FerryctlLogTest, BadUsageIsOneLineAndExit64) {
  EXPECT_EQ(ExpectUsageError({"--bogus"}),
            "ferryctl log: unrecognised option '--bogus' (see ferryctl log --help)\n");
  EXPECT_EQ(ExpectUsageError({"-o", "xml"}),
            "ferryctl log: -o: unknown output mode \"xml\"; allowed: short, short-iso, json, "
            "json-pretty, cat, verbose\n");
  EXPECT_EQ(ExpectUsageError({"-0"}), "ferryctl log: -0 goes with -o cat only\n");
  EXPECT_EQ(ExpectUsageError({"-f", "-r"}),
            "ferryctl log: --follow and --reverse do not go together\n");
  EXPECT_EQ(ExpectUsageError({"--after-seq", "x1"}),
            "ferryctl log: --after-seq: \"x1\" is not a seq\n");
  EXPECT_EQ(ExpectUsageError({"--from-seq=-1"}), "ferryctl log: --from-seq: \"-1\" is not a seq\n");
  EXPECT_EQ(ExpectUsageError({"-n", "many"}),
            "ferryctl log: -n: \"many\" is not a number, +N or \"all\"\n");
  EXPECT_EQ(ExpectUsageError({"www"}),
            "ferryctl log: unexpected argument \"www\"; select with --path, --kind, "
            "--destination (see ferryctl log --help)\n");
  EXPECT_EQ(ExpectUsageError({"--lines=x"}),
            "ferryctl log: -n: \"x\" is not a number, +N or \"all\"\n");
  EXPECT_TRUE(
      ExpectUsageError({"--since", "soon"}).starts_with("ferryctl log: --since: time \"soon\": "));
  EXPECT_TRUE(ExpectUsageError({"--path", "[a-"}).starts_with("ferryctl log: --path"));
  ExpectUsageError({"--cursor", "garbage"});
}

TEST_F(FerryctlLogTest, HelpAndMissingJournal) {
  Ran help = Run({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("ferryctl log -f"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--cursor-file FILE"), std::string::npos) << help.out;

  Child c = Spawn({"/usr/bin/env", "TZ=UTC", FERRYCTL, "--journal", tmp_.Sub("none"), "log"});
  std::string out, err;
  ReadUntil(c.err, &err, Clock::now() + std::chrono::seconds(20),
            [](const std::string&) { return false; });
  EXPECT_EQ(Reap(c.pid, Clock::now() + std::chrono::seconds(10)), 69);
  EXPECT_TRUE(err.starts_with("ferryctl log: no journal at " + tmp_.Sub("none"))) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  close(c.out);
  close(c.err);
}

}  // namespace
}  // namespace ferry
