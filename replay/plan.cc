#include "replay/plan.h"

#include <map>

namespace ferry {
namespace {

enum class Action { kContent, kMetadata, kTree, kDelete };

struct Final {
  Action action;
  uint64_t seq;  // the event that decided it
};

bool Under(const std::string& path, const std::string& dir) {
  if (dir.empty()) return !path.empty();
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

class Planner {
 public:
  void Apply(const Event& e) {
    if (e.kind == EventKind::kFullSync) {
      full_sync_ = true;
      return;
    }
    if (e.kind != EventKind::kMove && InsideTree(e.path)) return;
    switch (e.kind) {
      case EventKind::kCreate:
        if (e.is_dir) {
          SetTree(e.path, e.seq);
        } else {
          Set(e.path, Action::kContent, e.seq);
        }
        break;
      case EventKind::kModify:
        Set(e.path, Action::kContent, e.seq);
        break;
      case EventKind::kAttrib: {
        auto it = final_.find(e.path);
        if (it == final_.end() || it->second.action == Action::kDelete) {
          Set(e.path, Action::kMetadata, e.seq);
        }
        break;
      }
      case EventKind::kDelete:
        DropUnder(e.path);
        Set(e.path, Action::kDelete, e.seq);
        break;
      case EventKind::kMove:
        Move(e);
        break;
      case EventKind::kRescan:
        SetTree(e.path, e.seq);
        break;
      case EventKind::kFullSync:
        break;
    }
  }

  Plan Finish() {
    Plan plan;
    if (full_sync_) {
      plan.full_sync = true;
      return plan;
    }
    for (const auto& [path, f] : final_) {
      switch (f.action) {
        case Action::kDelete:
          plan.deletes.push_back(path);
          break;
        case Action::kTree:
          plan.trees.push_back(path);
          break;
        case Action::kContent:
          plan.content.push_back(path);
          break;
        case Action::kMetadata:
          plan.metadata.push_back(path);
          break;
      }
    }
    for (const auto& [move, seq] : moves_) {
      auto to = final_.find(move.to);
      auto from = final_.find(move.from);
      // Still what the move made of both paths: worth applying.
      if (to != final_.end() && to->second.seq == seq && from != final_.end() &&
          from->second.seq == seq) {
        plan.moves.push_back(move);
      }
    }
    return plan;
  }

 private:
  // Whether an ancestor directory of `path` (the root included) is sent
  // recursively: O(depth log n), so big batches stay cheap.
  bool InsideTree(const std::string& path) const {
    if (path.empty()) return false;
    auto is_tree = [&](const std::string& dir) {
      auto it = final_.find(dir);
      return it != final_.end() && it->second.action == Action::kTree;
    };
    if (is_tree("")) return true;
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (is_tree(path.substr(0, slash))) return true;
    }
    return false;
  }

  bool HasUnder(const std::string& dir) const {
    auto it = final_.lower_bound(dir + "/");
    return it != final_.end() && Under(it->first, dir) && it->first != dir;
  }

  void DropUnder(const std::string& dir) {
    auto it = dir.empty() ? final_.begin() : final_.lower_bound(dir + "/");
    while (it != final_.end() && Under(it->first, dir)) it = final_.erase(it);
  }

  void Set(const std::string& path, Action action, uint64_t seq) { final_[path] = {action, seq}; }

  void SetTree(const std::string& path, uint64_t seq) {
    DropUnder(path);
    Set(path, Action::kTree, seq);
  }

  void Move(const Event& e) {
    const bool from_covered = InsideTree(e.old_path);
    const bool to_covered = InsideTree(e.path);
    // Only a path the target already has as it was can be renamed there:
    // no earlier event in the batch for it or, for a directory, for anything
    // under it (a renamed directory is then sent with rsync's quick check,
    // which misses a same-size rewrite within the same second).
    const bool from_untouched = final_.find(e.old_path) == final_.end() && !HasUnder(e.old_path);
    if (!from_covered) {
      DropUnder(e.old_path);
      Set(e.old_path, Action::kDelete, e.seq);
    }
    if (!to_covered) {
      if (e.is_dir) {
        SetTree(e.path, e.seq);
      } else {
        Set(e.path, Action::kContent, e.seq);
      }
    }
    if (!from_covered && !to_covered && from_untouched) {
      moves_.push_back({{e.old_path, e.path, e.is_dir}, e.seq});
    }
  }

  // Ordered by path, so a directory comes right before what is under it.
  std::map<std::string, Final> final_;
  std::vector<std::pair<PlannedMove, uint64_t>> moves_;
  bool full_sync_ = false;
};

}  // namespace

std::vector<std::string> Plan::Paths() const {
  std::vector<std::string> out;
  for (const auto* list : {&deletes, &trees, &content, &metadata}) {
    out.insert(out.end(), list->begin(), list->end());
  }
  return out;
}

Plan PlanBatch(std::span<const Event> events) {
  Planner planner;
  for (const Event& e : events) planner.Apply(e);
  Plan plan = planner.Finish();
  plan.events = events.size();
  if (!events.empty()) {
    plan.first_seq = events.front().seq;
    plan.last_seq = events.back().seq;
  }
  return plan;
}

}  // namespace ferry
