// The states a destination and a target report, in one table each: status
// JSON, /metrics (one-hot ferry_destination_state / ferry_target_state), the
// ferryctl help and the docs all take the names from here, so a new state
// cannot be left out of any of them (tests/unit/journal/states_test.cc walks
// every value). Here, under everything that reports a state: the replay lanes,
// the watcher, ferryctl.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace ferry {

// A destination's watcher.
enum class DestinationState {
  kStarting,
  kWatching,
  kRescanning,
  kWatchLimit,
  kJournalError,
  kFailed,
  kStopped,  // ferryd is not running (ferryctl reading the journal itself)
};

// A target's replay lane, or what the journal says of a target.
enum class TargetState {
  kStarting,
  kOk,
  kCatchingUp,
  kRetrying,
  kBlocked,
  kFullSync,
  kPaused,
  kExpired,  // the journal budget dropped events it had not received
};

struct StateInfo {
  std::string_view name;     // in status, /metrics and the docs
  std::string_view meaning;  // one line for --help and the docs
};

inline constexpr std::array<StateInfo, 7> kDestinationStates = {{
    {"starting", "reconciling the tree with its catalog"},
    {"watching", "every directory watched, changes journaled"},
    {"rescanning", "after an inotify queue overflow, comparing the tree with its catalog"},
    {"watch-limit", "directories without a watch: raise fs.inotify.max_user_watches"},
    {"journal-error", "the journal cannot be written (a full filesystem?); retried every second"},
    {"failed", "the watch thread failed; its watches are being rebuilt"},
    {"stopped", "ferryd is not running"},
}};

inline constexpr std::array<StateInfo, 8> kTargetStates = {{
    {"starting", "probing the receiver"},
    {"ok", "has every event"},
    {"catching-up", "behind, sending"},
    {"retrying", "a transient failure, backing off up to retry_max"},
    {"blocked", "its configuration or receiver is wrong; the error says which"},
    {"full-sync", "a whole-tree rsync (new target, expired, resync)"},
    {"paused", "ferryctl pause; resume ends it"},
    {"expired", "the journal budget dropped events it had not received: a full sync follows"},
}};

// A value added to an enum without its row fails here.
static_assert(kDestinationStates.size() == static_cast<size_t>(DestinationState::kStopped) + 1);
static_assert(kTargetStates.size() == static_cast<size_t>(TargetState::kExpired) + 1);

constexpr std::string_view StateName(DestinationState s) {
  return kDestinationStates[static_cast<size_t>(s)].name;
}
constexpr std::string_view StateName(TargetState s) {
  return kTargetStates[static_cast<size_t>(s)].name;
}

// "ok, catching-up, ..." for --help and error messages.
template <size_t N>
std::string StateList(const std::array<StateInfo, N>& table) {
  std::string out;
  for (const StateInfo& s : table) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

}  // namespace ferry
