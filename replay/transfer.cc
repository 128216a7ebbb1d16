#include "replay/transfer.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace ferry {

namespace {

std::string FileList(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) {
    out += p.empty() ? "." : "./" + p;
    out.push_back('\0');
  }
  return out;
}

// A rule that matches `path` byte for byte, then `suffix`. rsync matches a
// rule holding "*", "?" or "[" as a wildcard, where "\\" escapes the next
// byte; any other rule as a plain string, where "\\" is itself.
std::string Rule(std::string_view path, std::string_view suffix) {
  constexpr std::string_view kWild = "*?[";
  bool wild = path.find_first_of(kWild) != std::string_view::npos ||
              suffix.find_first_of(kWild) != std::string_view::npos;
  std::string rule = "/";
  for (char c : path) {
    if (wild && (c == '\\' || kWild.find(c) != std::string_view::npos)) rule.push_back('\\');
    rule.push_back(c);
  }
  rule += suffix;
  rule.push_back('\0');
  return rule;
}

void AppendExcludes(std::vector<std::string>& argv, const std::vector<std::string>& excludes) {
  for (const std::string& e : excludes) argv.push_back("--exclude=" + e);
}

// A pattern component that matches only itself: no wildcard, no escape.
bool Literal(std::string_view component) {
  return component.find_first_of("*?[\\") == std::string_view::npos;
}

std::vector<std::string_view> Components(std::string_view path) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at <= path.size();) {
    size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

// Filter options of the operator's rsync_args: rooted at the source, they
// cannot be said for a copy-move's root (and a dir-merge rule would miss its
// parents' files), so such a target gets no copy-moves.
bool HasFilterOptions(const std::vector<std::string>& rsync_args) {
  for (std::string_view a : rsync_args) {
    for (std::string_view o : {"--exclude", "--include", "--filter", "--cvs-exclude"}) {
      if (a.starts_with(o)) return true;
    }
    if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && a.find_first_of("fFC") != std::string_view::npos) {
      return true;  // -f RULE, -F, -C, alone or among other short options
    }
  }
  return false;
}

std::string Source(const TargetSettings& t) {
  return t.source.ends_with('/') ? t.source : t.source + "/";
}

}  // namespace

std::string_view TransferKindName(Transfer::Kind kind) {
  switch (kind) {
    case Transfer::Kind::kCopyMove:
      return "copy-move";
    case Transfer::Kind::kDelete:
      return "delete";
    case Transfer::Kind::kTree:
      return "tree";
    case Transfer::Kind::kContent:
      return "content";
    case Transfer::Kind::kMetadata:
      return "metadata";
    case Transfer::Kind::kFullSync:
      return "full_sync";
    case Transfer::Kind::kCommand:
      return "command";
  }
  return "unknown";
}

std::string FilterRules(const std::vector<std::string>& paths) {
  // rsync matches each name of an included directory against the rules one
  // by one: N rules for N names of one directory cost O(entries x N)
  // (1,000 deletes among 10,000 files: 8x --delete-missing-args). Past
  // kMaxRulesPerDirectory names, the directory goes whole instead ("/P/***"),
  // one pass over it: a superset, never wrong (any name there is sent as
  // the source has it), as a tree send of P is.
  std::unordered_map<std::string_view, size_t> names;
  for (const std::string& p : paths) {
    const size_t slash = p.rfind('/');
    if (slash != std::string::npos) ++names[std::string_view(p.data(), slash)];
  }
  std::string rules;
  std::unordered_set<std::string_view> parents, whole;
  for (const std::string& p : paths) {
    const size_t last = p.rfind('/');
    const std::string_view dir = last == std::string::npos ? "" : std::string_view(p.data(), last);
    if (!dir.empty() && names[dir] > kMaxRulesPerDirectory && whole.contains(dir)) continue;
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      std::string_view parent(p.data(), slash);
      if (parents.insert(parent).second) rules += Rule(parent, "/");
    }
    if (!dir.empty() && names[dir] > kMaxRulesPerDirectory) {
      whole.insert(dir);
      rules += Rule(dir, "/***");
      continue;
    }
    rules += Rule(p, "");
    rules += Rule(p, "/***");
  }
  return rules;
}

Transfer BuildTransfer(Transfer::Kind kind, std::vector<std::string> paths,
                       const TargetSettings& t) {
  Transfer run{.kind = kind};
  if (t.url.kind == TargetUrl::Kind::kCommand) {
    // Records "<kind> <path>\0"; the kind never holds a space, the path any byte but NUL.
    run.argv = t.url.command;
    for (const std::string& p : paths) {
      run.input += std::string(TransferKindName(kind)) + " " + p;
      run.input.push_back('\0');
    }
    if (kind == Transfer::Kind::kFullSync) run.input = std::string("full_sync ") + '\0';
    run.paths = std::move(paths);
    return run;
  }
  run.argv = RsyncBaseArgv(t);
  if (kind == Transfer::Kind::kFullSync) {
    run.argv.push_back("--delete");
    AppendExcludes(run.argv, t.excludes);
  } else if (!t.features.delete_missing_args &&
             (kind == Transfer::Kind::kDelete || kind == Transfer::Kind::kTree)) {
    // Filter rules (transfer.h): the same effect, on every receiver. The
    // destination's excludes come first: rsync takes the first rule that
    // matches.
    if (kind == Transfer::Kind::kTree) AppendExcludes(run.argv, t.tree_excludes);
    run.argv.insert(run.argv.end(),
                    {"--from0", "--include-from=-", "--exclude=*", "--recursive", "--delete"});
    run.input = FilterRules(paths);
  } else if (!t.features.delete_missing_args) {
    // A listed path the source no longer has is left alone: its delete
    // event, journaled after this one, removes it.
    run.argv.insert(run.argv.end(), {"--from0", "--files-from=-"});
    if (t.features.ignore_missing_args) run.argv.push_back("--ignore-missing-args");
    if (kind == Transfer::Kind::kContent) run.argv.push_back("--ignore-times");
    run.input = FileList(paths);
  } else {
    // A listed path the source no longer has is removed from the target:
    // the delete list's paths, and any other path deleted or renamed since
    // it was journaled (a later event says so too, and may send its new
    // name). Either way the target comes closer to the source, and the
    // missing path is no error (rsync exits 23 for a missing argument).
    run.argv.insert(run.argv.end(), {"--from0", "--files-from=-", "--delete-missing-args"});
    switch (kind) {
      case Transfer::Kind::kTree:
        run.argv.insert(run.argv.end(), {"--recursive", "--delete"});
        AppendExcludes(run.argv, t.tree_excludes);
        break;
      case Transfer::Kind::kContent:
        run.argv.push_back("--ignore-times");  // the journal says it changed: believe it
        break;
      default:
        break;
    }
    run.input = FileList(paths);
  }
  run.argv.insert(run.argv.end(), {Source(t), t.url.RsyncDestination()});
  run.paths = std::move(paths);
  return run;
}

std::optional<std::vector<std::string>> ExcludesUnder(const std::vector<std::string>& excludes,
                                                      std::string_view dir) {
  const std::vector<std::string_view> dir_parts = Components(dir);
  std::vector<std::string> out;
  for (const std::string& pattern : excludes) {
    // The same reading as GlobToRegex (journal/filter.cc): a trailing "/"
    // (directories only) and "/***" (and all inside) end the pattern.
    std::string_view p = pattern;
    std::string_view suffix;
    if (p.ends_with("/***")) {
      suffix = p.substr(p.size() - 4);
    } else if (p.ends_with('/')) {
      suffix = p.substr(p.size() - 1);
    }
    p.remove_suffix(suffix.size());
    if (!p.starts_with('/')) {
      // Unanchored: matched at the end of the path, at any depth; a leading
      // "**/" adds nothing. One component matches the same under any root.
      while (p.starts_with("**/")) p.remove_prefix(3);
      if (p.find('/') != std::string_view::npos || p.find("**") != std::string_view::npos) {
        return std::nullopt;
      }
      out.push_back(std::string(p) + std::string(suffix));
      continue;
    }
    // Anchored at the source's root: `dir`'s components must be matched
    // literally, and what is left is anchored at `dir`.
    const std::vector<std::string_view> parts = Components(p.substr(1));
    const size_t shared = std::min(parts.size(), dir_parts.size());
    bool applies = true;
    for (size_t i = 0; i < shared && applies; ++i) {
      if (!Literal(parts[i])) return std::nullopt;
      applies = parts[i] == dir_parts[i];
    }
    if (!applies) continue;
    // It names `dir` itself or one of its parents: the watcher would not
    // have journaled the rename; say nothing exact rather than guess.
    if (parts.size() <= dir_parts.size()) return std::nullopt;
    std::string rest;
    for (size_t i = dir_parts.size(); i < parts.size(); ++i) rest += "/" + std::string(parts[i]);
    out.push_back(rest + std::string(suffix));
  }
  return out;
}

std::optional<Transfer> WithoutTrees(const Transfer& run, const std::vector<std::string>& delivered,
                                     const TargetSettings& t) {
  std::vector<std::string> kept;
  for (const std::string& p : run.paths) {
    if (std::find(delivered.begin(), delivered.end(), p) == delivered.end()) kept.push_back(p);
  }
  if (kept.size() == run.paths.size()) return run;
  if (kept.empty()) return std::nullopt;
  return BuildTransfer(run.kind, std::move(kept), t);
}

Transfer BuildCopyMove(const PlannedMove& move, const TargetSettings& t,
                       const std::vector<std::string>& excludes) {
  Transfer run{.kind = Transfer::Kind::kCopyMove, .paths = {move.to}};
  // --link-dest is relative to the destination directory, DEST/to/, or, on
  // an rsync daemon, to the module's root when it starts with "/". A
  // daemon's ".." is refused silently by security-patched receivers (Debian
  // 12's 3.2.7-1+deb12u6 sends all the data again); the module-rooted form
  // works on every daemon from 3.0.9, chrooted or not. Hard links, not
  // copies (--copy-dest): a 10k-file tree over a loopback daemon took
  // 0.43 s against 1.7-2.1 s (docs/BENCHMARKS.md).
  std::string basis;
  if (t.url.kind == TargetUrl::Kind::kRsyncDaemon) {
    std::string_view in_module = t.url.path;
    while (in_module.ends_with('/')) in_module.remove_suffix(1);
    while (in_module.starts_with('/')) in_module.remove_prefix(1);
    basis = "/" + std::string(in_module) + (in_module.empty() ? "" : "/") + move.from;
  } else {
    basis = "../";
    for (char c : move.to) basis += c == '/' ? "../" : "";
    basis += move.from;
  }
  run.argv = RsyncBaseArgv(t);
  run.argv.insert(run.argv.end(), {"--recursive", "--delete", "--link-dest=" + basis});
  AppendExcludes(run.argv, excludes);
  run.argv.insert(run.argv.end(),
                  {Source(t) + move.to + "/", t.url.RsyncDestination() + move.to + "/"});
  return run;
}

namespace {

// One run of a batch before its argv is built: a kind and its paths, or a
// copy-move and its excludes (ExcludesUnder).
struct Run {
  Transfer::Kind kind;
  std::vector<std::string> paths;
  std::optional<PlannedMove> move;
  std::vector<std::string> move_excludes;
};

// The runs that deliver `plan`, in order (BuildTransfers says which).
std::vector<Run> PlanRuns(const Plan& plan, const TargetSettings& t,
                          const CopyMoveFilter& worth_a_copy_move) {
  std::vector<Run> runs;
  if (plan.full_sync) {
    runs.push_back({Transfer::Kind::kFullSync, {}, std::nullopt});
    return runs;
  }
  // A tree at the root is a whole mirror.
  for (const std::string& tree : plan.trees) {
    if (tree.empty()) {
      runs.push_back({Transfer::Kind::kFullSync, {}, std::nullopt});
      return runs;
    }
  }
  if ((t.url.kind == TargetUrl::Kind::kSsh || t.url.kind == TargetUrl::Kind::kRsyncDaemon) &&
      !HasFilterOptions(t.rsync_args)) {
    // Each copy-move is one more connection (about 0.15 s to a loopback
    // daemon). It pays for a big renamed tree; a batch renaming many
    // directories renames small ones, which the tree send delivers in one
    // run (the peer benchmark's `mixed`: 12 copy-moves made 3.3 s of 1.5).
    int copy_moves = 0;
    for (const PlannedMove& m : plan.moves) {
      if (!m.is_dir || copy_moves == kMaxCopyMovesPerBatch) continue;
      auto excludes = ExcludesUnder(t.tree_excludes, m.to);
      if (!excludes) continue;  // the tree send delivers it, data and all
      if (worth_a_copy_move && !worth_a_copy_move(m)) continue;
      ++copy_moves;
      // The receiver makes DEST/to/ even when SRC/to/ is gone by then
      // (renamed again or deleted, maybe while ferryd was down: no later
      // event would remove it). `to` is in the plan's trees, and the tree
      // send that follows removes it exactly when the source has no such
      // path (--delete-missing-args); when the copy-move is delivered, the
      // lane leaves `to` out of that send (WithoutTrees).
      runs.push_back({Transfer::Kind::kCopyMove, {}, m, std::move(*excludes)});
    }
  }
  std::vector<std::string> deletes = plan.deletes;
  std::pair<Transfer::Kind, std::vector<std::string>> sends[] = {
      {Transfer::Kind::kTree, plan.trees},
      {Transfer::Kind::kContent, plan.content},
      {Transfer::Kind::kMetadata, plan.metadata}};
  // A tree send with excludes keeps the target's excluded names, which a
  // deleted directory must not keep (transfer.h).
  const bool trees_exclude = !t.tree_excludes.empty();
  if (!t.features.delete_missing_args) {
    // Only a filter-rule run removes what the source lacks: the tree send's.
    if (!plan.trees.empty() && !trees_exclude) {
      std::vector<std::string>& trees = sends[0].second;
      trees.insert(trees.end(), std::make_move_iterator(deletes.begin()),
                   std::make_move_iterator(deletes.end()));
      deletes.clear();
    }
  } else if (t.url.kind != TargetUrl::Kind::kCommand) {
    // The deletes ride on the first send: every send removes what the
    // source lacks of its list. One rsync run fewer, and each run to a
    // remote target is one more connection (about 0.1 s to a loopback
    // daemon, rsync's own start and exit handshakes; the peer benchmark's
    // `mixed` makes 3 to 5 runs a batch).
    // The plan lists each path once, so the lists are disjoint.
    for (auto& [kind, paths] : sends) {
      if (paths.empty() || (kind == Transfer::Kind::kTree && trees_exclude)) continue;
      paths.insert(paths.end(), std::make_move_iterator(deletes.begin()),
                   std::make_move_iterator(deletes.end()));
      deletes.clear();
      break;
    }
  }
  if (!deletes.empty()) runs.push_back({Transfer::Kind::kDelete, std::move(deletes), std::nullopt});
  for (auto& [kind, paths] : sends) {
    if (!paths.empty()) runs.push_back({kind, std::move(paths), std::nullopt});
  }
  return runs;
}

Transfer Build(Run run, const TargetSettings& t) {
  return run.move ? BuildCopyMove(*run.move, t, run.move_excludes)
                  : BuildTransfer(run.kind, std::move(run.paths), t);
}

}  // namespace

std::vector<Transfer> BuildTransfers(const Plan& plan, const TargetSettings& t,
                                     const CopyMoveFilter& worth_a_copy_move) {
  std::vector<Transfer> transfers;
  for (Run& run : PlanRuns(plan, t, worth_a_copy_move)) {
    transfers.push_back(Build(std::move(run), t));
  }
  return transfers;
}

std::vector<std::vector<Transfer>> BuildWaves(const Plan& plan, const TargetSettings& t,
                                              int parallel,
                                              const CopyMoveFilter& worth_a_copy_move) {
  const size_t n = static_cast<size_t>(std::max(1, parallel));
  std::vector<std::vector<Transfer>> waves;
  for (Run& run : PlanRuns(plan, t, worth_a_copy_move)) {
    const bool shardable = n > 1 && run.paths.size() > 1 && !run.move &&
                           run.kind != Transfer::Kind::kFullSync &&
                           t.url.kind != TargetUrl::Kind::kCommand;
    if (!shardable) {
      waves.push_back({Build(std::move(run), t)});
      continue;
    }
    // The same path always lands in the same shard: the runs of one wave
    // never touch the same path.
    std::vector<std::vector<std::string>> shards(n);
    for (std::string& p : run.paths) shards[std::hash<std::string>()(p) % n].push_back(std::move(p));
    std::vector<Transfer> wave;
    for (auto& shard : shards) {
      if (!shard.empty()) wave.push_back(BuildTransfer(run.kind, std::move(shard), t));
    }
    waves.push_back(std::move(wave));
  }
  return waves;
}

uint64_t ParseBytesSent(std::string_view out) {
  constexpr std::string_view kLabel = "Total bytes sent:";
  size_t at = out.rfind(kLabel);
  if (at == std::string_view::npos) return 0;
  uint64_t n = 0;
  for (size_t i = at + kLabel.size(); i < out.size() && out[i] != '\n'; ++i) {
    if (out[i] >= '0' && out[i] <= '9') n = n * 10 + static_cast<uint64_t>(out[i] - '0');
  }
  return n;
}

Transfer::Kind KindForEvent(const Event& e) {
  if (e.kind == EventKind::kDelete) return Transfer::Kind::kDelete;
  if (e.is_dir) return Transfer::Kind::kTree;
  if (e.kind == EventKind::kAttrib) return Transfer::Kind::kMetadata;
  return Transfer::Kind::kContent;
}

}  // namespace ferry
