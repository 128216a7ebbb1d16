#include "replay/transfer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "settings/checks.h"
#include "tests/lib/argv.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

TargetUrl Url(std::string_view s) {
  auto u = ParseTargetUrl(s);
  EXPECT_TRUE(u) << s << ": " << u.error().ToString();
  return u ? *u : TargetUrl{};
}

TEST(TargetUrlTest, ParsesEveryForm) {
  TargetUrl local = Url("/srv/mirror/www/");
  EXPECT_EQ(local.kind, TargetUrl::Kind::kLocal);
  EXPECT_EQ(local.RsyncDestination(), "/srv/mirror/www/");

  TargetUrl d = Url("rsync://rsync_backup@172.16.1.41:8873/data/sub");
  EXPECT_EQ(d.kind, TargetUrl::Kind::kRsyncDaemon);
  EXPECT_EQ(d.user, "rsync_backup");
  EXPECT_EQ(d.host, "172.16.1.41");
  EXPECT_EQ(d.port, 8873);
  EXPECT_EQ(d.module, "data");
  EXPECT_EQ(d.path, "sub");
  EXPECT_EQ(d.RsyncDestination(), "rsync://rsync_backup@172.16.1.41:8873/data/sub/");

  TargetUrl shortform = Url("backup@10.0.0.2::www");
  EXPECT_EQ(shortform.kind, TargetUrl::Kind::kRsyncDaemon);
  EXPECT_EQ(shortform.module, "www");
  EXPECT_EQ(shortform.RsyncDestination(), "rsync://backup@10.0.0.2/www/");

  TargetUrl ssh = Url("root@backup.example:/srv/www");
  EXPECT_EQ(ssh.kind, TargetUrl::Kind::kSsh);
  EXPECT_EQ(ssh.RsyncDestination(), "root@backup.example:/srv/www/");

  TargetUrl exec = Url("exec:/usr/local/bin/purge-cdn --zone www");
  EXPECT_EQ(exec.kind, TargetUrl::Kind::kCommand);
  EXPECT_EQ(exec.command, (std::vector<std::string>{"/usr/local/bin/purge-cdn", "--zone", "www"}));
}

TEST(TargetUrlTest, RejectsWithTheFormsShown) {
  for (const char* bad : {"", "relative/dir", "rsync://host", "rsync://host:99999/m",
                          "rsync://:873/m", "host::", "host:", "exec:relative"}) {
    auto u = ParseTargetUrl(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_TRUE(u.error().IsInvalidArgument());
    EXPECT_NE(u.error().message().find("expected /abs/dir"), std::string::npos) << bad;
  }
}

TEST(TargetUrlTest, PasswordFileReadableByOthersIsRefusedWithTheFix) {
  testing::TempDir dir;
  const std::string path = dir.Sub("pass");
  FILE* f = fopen(path.c_str(), "w");
  fputs("s3cret\n", f);
  fclose(f);
  chmod(path.c_str(), 0644);
  Status s = CheckPasswordFile(path);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("chmod 600 " + path), std::string::npos) << s.ToString();
  chmod(path.c_str(), 0600);
  EXPECT_TRUE(CheckPasswordFile(path).ok());
  EXPECT_TRUE(CheckPasswordFile(path + ".missing").IsNotFound());
}

TargetSettings Settings(std::string_view url) {
  return TargetSettings{.name = "t", .source = "/src", .url = Url(url), .password_file = "/p"};
}

using testing::HasArg;

TEST(TransferTest, RunsInOrderWithDotSlashLists) {
  Plan plan;
  plan.deletes = {"gone", "#comment-like"};
  plan.trees = {"newdir"};
  plan.content = {";x", "-rf", "new\nline"};
  plan.metadata = {"chmodded"};
  auto runs = BuildTransfers(plan, Settings("/dst"));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].kind, Transfer::Kind::kTree);
  EXPECT_TRUE(HasArg(runs[0], "--recursive"));
  EXPECT_TRUE(HasArg(runs[0], "--delete"));
  EXPECT_TRUE(HasArg(runs[0], "--force"));
  // The deletes ride on the first send.
  EXPECT_EQ(runs[0].input, std::string("./newdir\0./gone\0./#comment-like\0", 32));
  EXPECT_EQ(runs[0].paths, (std::vector<std::string>{"newdir", "gone", "#comment-like"}));
  EXPECT_TRUE(HasArg(runs[1], "--ignore-times"));
  EXPECT_EQ(runs[1].input, std::string("./;x\0./-rf\0./new\nline\0", 22));
  EXPECT_FALSE(HasArg(runs[2], "--ignore-times"));
  for (const Transfer& r : runs) {
    EXPECT_EQ(r.argv.front(), "rsync");
    EXPECT_TRUE(HasArg(r, "--from0"));
    EXPECT_TRUE(HasArg(r, "--files-from=-"));
    // A path the source lacks (listed as deleted, or gone since it was
    // journaled) is removed from the target, not an error.
    EXPECT_TRUE(HasArg(r, "--delete-missing-args"));
    EXPECT_FALSE(HasArg(r, "--ignore-missing-args"));
    EXPECT_TRUE(HasArg(r, "--timeout=100"));
    EXPECT_EQ(r.argv[r.argv.size() - 2], "/src/");
    EXPECT_EQ(r.argv.back(), "/dst/");
  }
  // Nothing else to send: the deletes run alone.
  Plan only_deletes;
  only_deletes.deletes = {"gone"};
  runs = BuildTransfers(only_deletes, Settings("/dst"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].kind, Transfer::Kind::kDelete);
  EXPECT_TRUE(HasArg(runs[0], "--delete-missing-args"));
  EXPECT_FALSE(HasArg(runs[0], "--recursive"));
}

TEST(TransferTest, DaemonAndSshOptions) {
  Plan plan;
  plan.content = {"f"};
  Transfer d = BuildTransfers(plan, Settings("rsync://u@h/m"))[0];
  EXPECT_TRUE(HasArg(d, "--contimeout=30"));
  EXPECT_TRUE(HasArg(d, "--password-file=/p"));
  TargetSettings ssh = Settings("u@h:/d");
  ssh.ssh_options = {"-p", "2222"};
  Transfer s = BuildTransfers(plan, ssh)[0];
  EXPECT_TRUE(HasArg(s, "ssh -o BatchMode=yes -o ConnectTimeout=30 -p 2222"));
  EXPECT_FALSE(HasArg(s, "--contimeout=30"));  // daemon-only option
}

TEST(TransferTest, FullSyncMirrorsWithExcludes) {
  Plan plan;
  plan.full_sync = true;
  TargetSettings t = Settings("/dst");
  t.excludes = {"*.log", "/cache/"};
  auto runs = BuildTransfers(plan, t);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(HasArg(runs[0], "--delete"));
  EXPECT_TRUE(HasArg(runs[0], "--exclude=*.log"));
  EXPECT_FALSE(HasArg(runs[0], "--files-from=-"));
  EXPECT_TRUE(runs[0].input.empty());
  Plan root;
  root.trees = {""};
  EXPECT_EQ(BuildTransfers(root, t)[0].kind, Transfer::Kind::kFullSync);
}

TEST(TransferTest, CommandTargetsGetKindAndPathRecords) {
  Plan plan;
  plan.deletes = {"a b"};
  plan.content = {"c\nd"};
  auto runs = BuildTransfers(plan, Settings("exec:/bin/hook arg"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].argv, (std::vector<std::string>{"/bin/hook", "arg"}));
  EXPECT_EQ(runs[0].input, std::string("delete a b\0", 11));
  EXPECT_EQ(runs[1].input, std::string("content c\nd\0", 12));
}

TEST(TransferTest, RemoteTargetsFillARenamedDirectoryFromTheOldOne) {
  Plan plan;
  plan.deletes = {"old/dir"};
  plan.trees = {"new/place"};
  plan.moves = {{"old/dir", "new/place", true}, {"f", "g", false}};
  auto runs = BuildTransfers(plan, Settings("rsync://u@h/m"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].kind, Transfer::Kind::kCopyMove);  // before the old one is deleted
  // Rooted at the module: security-patched daemons refuse ".." silently.
  EXPECT_TRUE(HasArg(runs[0], "--link-dest=/old/dir"));
  // A whole tree send of the new path (the lane then leaves it out of the
  // tree send below: WithoutTrees).
  EXPECT_TRUE(HasArg(runs[0], "--recursive"));
  EXPECT_TRUE(HasArg(runs[0], "--delete"));
  EXPECT_EQ(runs[0].argv[runs[0].argv.size() - 2], "/src/new/place/");
  EXPECT_EQ(runs[0].argv.back(), "rsync://u@h/m/new/place/");
  // The tree send deletes the old name; it also sends the new one, which it
  // removes if the source has lost it by then (the copy-move's receiver
  // makes it either way). Each path once.
  EXPECT_EQ(runs[1].kind, Transfer::Kind::kTree);
  EXPECT_EQ(runs[1].paths, (std::vector<std::string>{"new/place", "old/dir"}));
  EXPECT_TRUE(
      HasArg(BuildTransfers(plan, Settings("rsync://u@h/m/sub/"))[0], "--link-dest=/sub/old/dir"));
  // Over ssh, relative to the destination directory DEST/new/place/.
  EXPECT_TRUE(HasArg(BuildTransfers(plan, Settings("u@h:/d"))[0], "--link-dest=../../old/dir"));
  // Local targets rename in place instead (the lane does it).
  EXPECT_EQ(BuildTransfers(plan, Settings("/dst")).size(), 1u);
}

// Found by hand: a directory renamed or moved into the source was sent with
// the files the destination excludes (`exclude = *.log`: new/x.log reached
// the target), because only full syncs passed the excludes to rsync.
TEST(TransferTest, TreeSendsAndCopyMovesCarryTheExcludes) {
  Plan plan;
  plan.deletes = {"old/dir", "gone"};
  plan.trees = {"new/place"};
  plan.moves = {{"old/dir", "new/place", true}};
  for (const char* url : {"/dst", "rsync://u@h/m"}) {
    TargetSettings t = Settings(url);
    t.tree_excludes = {"*.log", "/new/place/cache/", "/other/"};
    auto runs = BuildTransfers(plan, t);
    for (const Transfer& r : runs) {
      const bool walks = r.kind == Transfer::Kind::kTree || r.kind == Transfer::Kind::kCopyMove;
      EXPECT_EQ(HasArg(r, "--exclude=*.log"), walks) << url << " " << TransferKindName(r.kind);
    }
    // The deletes run without them: a deleted directory goes whole, where a
    // tree send keeps the target's excluded names.
    auto del = std::find_if(runs.begin(), runs.end(),
                            [](const Transfer& r) { return r.kind == Transfer::Kind::kDelete; });
    ASSERT_NE(del, runs.end()) << url;
    EXPECT_EQ(del->paths, (std::vector<std::string>{"old/dir", "gone"}));
  }
  TargetSettings daemon = Settings("rsync://u@h/m");
  daemon.tree_excludes = {"*.log", "/new/place/cache/", "/other/"};
  auto runs = BuildTransfers(plan, daemon);
  ASSERT_EQ(runs[0].kind, Transfer::Kind::kCopyMove);
  // Rooted at new/place/: the anchored pattern under it is re-anchored,
  // the one elsewhere is left out.
  EXPECT_TRUE(HasArg(runs[0], "--exclude=/cache/"));
  EXPECT_FALSE(HasArg(runs[0], "--exclude=/other/"));
  EXPECT_FALSE(HasArg(runs[0], "--exclude=/new/place/cache/"));
  // The temp-file families are for full syncs only: the watcher skips such
  // files but not directories, and rsync would skip a directory "data~"
  // (found in review: `mv data data~` left the target with neither). With
  // no patterns of the destination's own, the deletes ride on the tree send.
  TargetSettings temp_only = Settings("rsync://u@h/m");
  temp_only.excludes = {"*~", ".#*"};
  Plan renamed;
  renamed.deletes = {"data"};
  renamed.trees = {"data~"};
  auto plain = BuildTransfers(renamed, temp_only);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].kind, Transfer::Kind::kTree);
  EXPECT_FALSE(HasArg(plain[0], "--exclude=*~"));
  EXPECT_EQ(plain[0].paths, (std::vector<std::string>{"data~", "data"}));
  // Old receivers: the filter-rule tree run has the excludes before its
  // include rules (the first matching rule wins), and the deletes apart.
  daemon.features.delete_missing_args = false;
  runs = BuildTransfers(plan, daemon);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1].kind, Transfer::Kind::kDelete);
  EXPECT_FALSE(HasArg(runs[1], "--exclude=*.log"));
  ASSERT_EQ(runs[2].kind, Transfer::Kind::kTree);
  const auto& argv = runs[2].argv;
  EXPECT_LT(std::find(argv.begin(), argv.end(), "--exclude=*.log"),
            std::find(argv.begin(), argv.end(), "--include-from=-"));
}

TEST(TransferTest, ExcludesUnderADirectoryAreSaidExactlyOrNotAtAll) {
  using V = std::vector<std::string>;
  // One component matches the same under any root; "**/" adds nothing.
  EXPECT_EQ(ExcludesUnder({"*.log", "cache/", "tmp/***", "**/node_modules/", ".*.sw[a-px]"}, "a/b"),
            (V{"*.log", "cache/", "tmp/***", "node_modules/", ".*.sw[a-px]"}));
  // Anchored: re-anchored under the directory, or left out elsewhere.
  EXPECT_EQ(ExcludesUnder({"/a/b/c/", "/a/b/c/d/***", "/a/x/", "/z"}, "a/b"),
            (V{"/c/", "/c/d/***"}));
  EXPECT_EQ(ExcludesUnder({"/a/*/c"}, "b"), V{});  // "a" is not "b": cannot match there
  // Not exact there: a wildcard where the directory's names are, an
  // unanchored pattern spanning directories, one naming the directory itself.
  EXPECT_EQ(ExcludesUnder({"/a/*/c"}, "a/b"), std::nullopt);
  EXPECT_EQ(ExcludesUnder({"logs/*.gz"}, "a"), std::nullopt);
  EXPECT_EQ(ExcludesUnder({"x**y"}, "a"), std::nullopt);
  EXPECT_EQ(ExcludesUnder({"/a/"}, "a"), std::nullopt);
  // Such a rename is sent as a tree, data and all, not as a copy-move.
  Plan plan;
  plan.deletes = {"old"};
  plan.trees = {"new"};
  plan.moves = {{"old", "new", true}};
  TargetSettings t = Settings("rsync://u@h/m");
  t.tree_excludes = {"logs/*.gz"};
  auto runs = BuildTransfers(plan, t);
  for (const Transfer& r : runs) EXPECT_NE(r.kind, Transfer::Kind::kCopyMove);
  // So is one to a target whose rsync_args hold filters of their own
  // (rooted at the source; found in review).
  for (const char* filter : {"--exclude=/x", "--filter=:- .gitignore", "-aF", "-C"}) {
    TargetSettings f = Settings("rsync://u@h/m");
    f.rsync_args = {"-a", filter};
    runs = BuildTransfers(plan, f);
    for (const Transfer& r : runs) EXPECT_NE(r.kind, Transfer::Kind::kCopyMove) << filter;
  }
  TargetSettings plain = Settings("rsync://u@h/m");
  plain.rsync_args = {"-avz", "--bwlimit=100"};
  EXPECT_EQ(BuildTransfers(plan, plain)[0].kind, Transfer::Kind::kCopyMove);
}

TEST(TransferTest, ADeliveredCopyMoveLeavesItsTreeOutOfTheTreeSend) {
  TargetSettings t = Settings("rsync://u@h/m");
  Transfer run = BuildTransfer(Transfer::Kind::kTree, {"new", "other"}, t);
  auto kept = WithoutTrees(run, {"new"}, t);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->paths, std::vector<std::string>{"other"});
  EXPECT_EQ(kept->input, std::string("./other\0", 8));
  EXPECT_EQ(WithoutTrees(run, {"elsewhere"}, t)->paths, run.paths);
  EXPECT_FALSE(WithoutTrees(run, {"other", "new"}, t).has_value());
}

// The lane's question (is the renamed directory big enough?) is asked only
// of directories that could get a copy-move, and only until the batch has
// its few.
TEST(TransferTest, TheCopyMoveFilterIsAskedOnlyWhatItDecides) {
  Plan plan;
  for (const char* n : {"a", "logs", "b", "c", "d"}) {
    plan.deletes.push_back(std::string("old-") + n);
    plan.trees.push_back(n);
    plan.moves.push_back({std::string("old-") + n, n, true});
  }
  TargetSettings t = Settings("rsync://u@h/m");
  t.tree_excludes = {"/logs/"};  // names logs itself: not sayable there, no copy-move
  std::vector<std::string> asked;
  auto runs = BuildTransfers(plan, t, [&](const PlannedMove& m) {
    asked.push_back(m.to);
    return m.to != "a";  // too small
  });
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b", "c"}));
  std::vector<std::string> moved;
  for (const Transfer& r : runs) {
    if (r.kind == Transfer::Kind::kCopyMove) moved.push_back(r.paths.front());
  }
  EXPECT_EQ(moved, (std::vector<std::string>{"b", "c"}));
}

TEST(TransferTest, ABatchRenamingManyDirectoriesCopyMovesOnlyAFew) {
  Plan plan;
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    plan.deletes.push_back("old" + n);
    plan.trees.push_back("new" + n);
    plan.moves.push_back({"old" + n, "new" + n, true});
  }
  auto runs = BuildTransfers(plan, Settings("rsync://u@h/m"));
  int copy_moves = 0;
  for (const Transfer& r : runs) copy_moves += r.kind == Transfer::Kind::kCopyMove;
  EXPECT_EQ(copy_moves, kMaxCopyMovesPerBatch);
  ASSERT_EQ(runs.size(), static_cast<size_t>(kMaxCopyMovesPerBatch) + 1);  // + one tree send
  // Every new name is sent as a tree, and every old one deleted, in one run.
  EXPECT_EQ(runs.back().paths.size(), 10u);
}

TEST(TransferTest, QuickChecksCompareNanosecondsUnlessTheOperatorSaysOtherwise) {
  TargetSettings t = Settings("/dst");
  auto run = BuildTransfer(Transfer::Kind::kFullSync, {}, t);
  EXPECT_TRUE(HasArg(run, "--modify-window=-1"));
  t.rsync_args.push_back("--modify-window=1");  // a FAT target: later on the command line, wins
  run = BuildTransfer(Transfer::Kind::kFullSync, {}, t);
  auto ours = std::find(run.argv.begin(), run.argv.end(), "--modify-window=-1");
  auto theirs = std::find(run.argv.begin(), run.argv.end(), "--modify-window=1");
  ASSERT_NE(theirs, run.argv.end());
  EXPECT_LT(ours, theirs);
}

// Receivers without a working --delete-missing-args (rsync_features.h).
TargetSettings WithoutDeleteMissingArgs(std::string_view url) {
  TargetSettings t = Settings(url);
  t.features.delete_missing_args = false;
  return t;
}

TEST(TransferTest, WithoutDeleteMissingArgsDeletesRideOnTheTreeSendAsFilterRules) {
  Plan plan;
  plan.deletes = {"gone"};
  plan.trees = {"a/newdir"};
  plan.content = {"f"};
  plan.metadata = {"chmodded"};
  auto runs = BuildTransfers(plan, WithoutDeleteMissingArgs("/dst"));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].kind, Transfer::Kind::kTree);
  for (const char* arg :
       {"--include-from=-", "--exclude=*", "--recursive", "--delete", "--from0"}) {
    EXPECT_TRUE(HasArg(runs[0], arg)) << arg;
  }
  EXPECT_FALSE(HasArg(runs[0], "--files-from=-"));
  EXPECT_EQ(runs[0].input, FilterRules({"a/newdir", "gone"}));
  EXPECT_EQ(runs[0].paths, (std::vector<std::string>{"a/newdir", "gone"}));
  // Content and metadata sends leave a path the source lacks alone: its
  // delete event, later in the journal, removes it.
  for (const Transfer& r : {runs[1], runs[2]}) {
    EXPECT_TRUE(HasArg(r, "--files-from=-"));
    EXPECT_TRUE(HasArg(r, "--ignore-missing-args"));
    EXPECT_FALSE(HasArg(r, "--delete-missing-args"));
    EXPECT_FALSE(HasArg(r, "--delete"));
  }
  EXPECT_TRUE(HasArg(runs[1], "--ignore-times"));
  EXPECT_EQ(runs[1].input, std::string("./f\0", 4));

  // Without a tree send, the deletes are a run of their own.
  Plan no_tree;
  no_tree.deletes = {"gone"};
  no_tree.content = {"f"};
  runs = BuildTransfers(no_tree, WithoutDeleteMissingArgs("rsync://u@h/m"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].kind, Transfer::Kind::kDelete);
  EXPECT_TRUE(HasArg(runs[0], "--include-from=-"));
  EXPECT_TRUE(HasArg(runs[0], "--delete"));
  EXPECT_EQ(runs[0].input, FilterRules({"gone"}));
  EXPECT_EQ(runs[1].kind, Transfer::Kind::kContent);
  EXPECT_EQ(runs[1].paths, (std::vector<std::string>{"f"}));

  // A local rsync before 3.1.0 has no --ignore-missing-args either.
  TargetSettings old = WithoutDeleteMissingArgs("/dst");
  old.features.ignore_missing_args = false;
  Transfer content = BuildTransfer(Transfer::Kind::kContent, {"f"}, old);
  EXPECT_FALSE(HasArg(content, "--ignore-missing-args"));
  EXPECT_TRUE(HasArg(content, "--files-from=-"));
}

std::vector<std::string> Rules(const std::vector<std::string>& paths) {
  std::vector<std::string> rules;
  const std::string text = FilterRules(paths);
  for (size_t at = 0; at < text.size();) {
    size_t nul = text.find('\0', at);
    rules.push_back(text.substr(at, nul - at));
    at = nul + 1;
  }
  return rules;
}

TEST(TransferTest, FilterRulesIncludeParentsOnceAndThePathWithAllBelowIt) {
  EXPECT_EQ(Rules({"a/b/c", "a/b/d", "top"}),
            (std::vector<std::string>{"/a/", "/a/b/", "/a/b/c", "/a/b/c/***", "/a/b/d",
                                      "/a/b/d/***", "/top", "/top/***"}));
  EXPECT_EQ(FilterRules({"x"}), std::string("/x\0/x/***\0", 10));
}

TEST(TransferTest, FilterRulesTakeADirectoryWholeBeyondSixtyFourNames) {
  std::vector<std::string> paths = {"top"};
  for (size_t i = 0; i <= kMaxRulesPerDirectory; ++i) paths.push_back("a/b/f" + std::to_string(i));
  paths.push_back("a/c");
  EXPECT_EQ(Rules(paths), (std::vector<std::string>{"/top", "/top/***", "/a/", "/a/b/", "/a/b/***",
                                                    "/a/c", "/a/c/***"}));
  paths.pop_back();
  paths.resize(kMaxRulesPerDirectory + 1);  // "top" and 64 names: one rule each
  EXPECT_EQ(Rules(paths).size(), 2 + 2 + 2 * kMaxRulesPerDirectory);
}

TEST(TransferTest, FilterRulesMatchEveryByteOfAHostileNameAsItself) {
  // rsync matches a rule with "*", "?" or "[" as a wildcard, where a
  // backslash escapes; any other rule as plain bytes, backslash included.
  EXPECT_EQ(Rules({"back\\slash"}),
            (std::vector<std::string>{"/back\\slash", "/back\\\\slash/***"}));
  EXPECT_EQ(Rules({"a*b"}), (std::vector<std::string>{"/a\\*b", "/a\\*b/***"}));
  EXPECT_EQ(Rules({"d[*]/in?ner\\"}),
            (std::vector<std::string>{"/d\\[\\*]/", "/d\\[\\*]/in\\?ner\\\\",
                                      "/d\\[\\*]/in\\?ner\\\\/***"}));
  // Comment and modifier characters, newlines, spaces are only bytes: every
  // rule starts with "/", and --from0 keeps each line whole.
  EXPECT_EQ(
      Rules({"# c", "; s", "- minus", "+ plus", "new\nline", "trail ", "$(touch x)"}),
      (std::vector<std::string>{"/# c", "/# c/***", "/; s", "/; s/***", "/- minus", "/- minus/***",
                                "/+ plus", "/+ plus/***", "/new\nline", "/new\nline/***", "/trail ",
                                "/trail /***", "/$(touch x)", "/$(touch x)/***"}));
}

TEST(TransferTest, OldReceiversGetNoNanosecondWindow) {
  TargetSettings t = Settings("/dst");
  t.features.nanosecond_mtimes = false;
  EXPECT_FALSE(HasArg(BuildTransfer(Transfer::Kind::kFullSync, {}, t), "--modify-window=-1"));
  Plan plan;
  plan.trees = {"d"};
  for (const Transfer& r : BuildTransfers(plan, t)) EXPECT_FALSE(HasArg(r, "--modify-window=-1"));
}

TEST(TransferTest, BytesSentFromStats) {
  EXPECT_EQ(ParseBytesSent("Number of files: 3\nTotal bytes sent: 1,234,567\nTotal bytes "
                           "received: 35\n"),
            1234567u);
  EXPECT_EQ(ParseBytesSent("nothing"), 0u);
}

}  // namespace
}  // namespace ferry
