#include "tools/sersync_import.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "base/units.h"
#include "journal/filter.h"
#include "settings/transport.h"

namespace ferry {
namespace {

constexpr int64_t kMinuteNs = 60'000'000'000;

bool Control(unsigned char c) { return c < 0x20 || c == 0x7f; }
std::string Hex(unsigned char c) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\x%02x", c);
  return hex;
}

// Shows the bytes a message or comment must not carry raw: \n, \xNN.
std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += c == '\n' ? "\\n" : Control(c) ? Hex(c) : std::string(1, c);
  return out;
}

std::string Attr(pugi::xml_node n, const char* name) { return n.attribute(name).value(); }
bool On(pugi::xml_node n) { return Attr(n, "start") == "true"; }  // sersync's exact test

// A plain decimal number, or nullopt.
std::optional<int64_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Minutes as sersync read them (atoi), as a ferry duration; <= 0 stays <= 0.
int64_t AtoiMinutes(const std::string& s) { return std::min<int64_t>(std::atoi(s.c_str()), 1e8); }
std::string Minutes(int64_t m) { return FormatDuration(m * kMinuteNs); }

// Why `v` cannot be a ferry.conf value, or "" if it can. `forbidden` adds bytes.
std::string Unsafe(std::string_view v, std::string_view forbidden = "") {
  for (unsigned char c : v) {
    if (Control(c)) return "a control character";
    if (c == '#') return "'#' (it starts a comment in ferry.conf)";
    if (forbidden.find(static_cast<char>(c)) != std::string_view::npos) {
      return c == ' ' ? "a space" : "'" + std::string(1, static_cast<char>(c)) + "'";
    }
  }
  if (!v.empty() && (v.front() == ' ' || v.back() == ' ')) return "leading or trailing blanks";
  return "";
}

// A section name: letters, digits, '_', '-', '.'; other bytes become '_'.
std::string SectionName(std::string_view raw, const char* fallback) {
  std::string s;
  for (char c : raw.substr(0, 100)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    s += ok ? c : '_';
  }
  while (!s.empty() && s.front() == '_') s.erase(0, 1);
  while (!s.empty() && s.back() == '_') s.pop_back();
  return s.empty() || s == "." || s == ".." ? fallback : s;
}

constexpr std::string_view kShortWithValue = "BfMTe@";  // the rest of the word is the value
constexpr std::string_view kShellSyntax = "'\"\\$`;|&<>(){}";

// sersync's <filter> regex (boost, matched against the whole path below the
// watch) as an RE2 searched by ferry: anchored at both ends, and accepting a
// trailing '/', since ferry shows directories so and sersync did only while
// adding watches. '#' and control bytes become \x escapes.
Result<std::string> TranslateRegex(std::string expr, bool* had_slash) {
  if (expr.starts_with('^')) expr.erase(0, 1);
  if (expr.ends_with('$') && !expr.ends_with("\\$")) expr.pop_back();
  // Below the top level sersync saw "/dir/name"; ferry's paths never start with '/'.
  *had_slash = expr.starts_with('/');
  if (*had_slash) expr.erase(0, 1);
  std::string body;
  for (size_t i = 0; i < expr.size(); ++i) {
    unsigned char c = expr[i];
    if (c == '\\' && i + 1 < expr.size()) {
      unsigned char next = expr[i + 1];
      if (next != '#' && !Control(next)) {
        body += expr.substr(i, 2);
        ++i;
        continue;
      }
      c = expr[++i];  // "\#": the escaped byte itself
    }
    body += c == '#' || Control(c) ? Hex(c) : std::string(1, static_cast<char>(c));
  }
  std::string re = "^(?:" + body + ")/?$";
  if (auto f = Filter::Create(FilterSpec{.exclude_regex = {re}}); !f) return f.error();
  return re;
}

class Importer {
 public:
  Importer(std::string_view xml, const std::string& origin) : xml_(xml), origin_(origin) {}

  Result<SersyncImport> Run() {
    pugi::xml_document doc;
    // Raw bytes, as sersync read them; literal newlines in attributes are kept
    // (and then refused) rather than turned into spaces.
    pugi::xml_parse_result parsed =
        doc.load_buffer(xml_.data(), xml_.size(),
                        pugi::parse_default & ~pugi::parse_wconv_attribute, pugi::encoding_utf8);
    if (!parsed) {
      size_t upto = std::min<size_t>(static_cast<size_t>(parsed.offset), xml_.size());
      size_t line = 1 + std::count(xml_.begin(), xml_.begin() + upto, '\n');
      return Error("malformed XML at line " + std::to_string(line) + ": " + parsed.description());
    }
    pugi::xml_node head = doc.child("head");
    if (!head) return Error("no <head> element; this is not a sersync confxml.xml");
    pugi::xml_node ser = head.child("sersync");
    if (!ser.child("localpath")) {
      return Error("no <sersync><localpath watch=\"...\"> element: nothing to replicate");
    }
    NoteUnknown(head, "head");
    NoteSwitches(head, ser);
    FERRY_RETURN_IF_ERROR(Events(head.child("inotify")));
    FERRY_RETURN_IF_ERROR(Excludes(head.child("filter")));
    pugi::xml_node rsync = ser.child("rsync");
    RsyncArgs(rsync.child("commonParams"));
    FERRY_RETURN_IF_ERROR(Remote(rsync));
    Crontab(ser.child("crontab"));
    FailLog(ser.child("failLog"));
    for (pugi::xml_node lp : ser.children("localpath")) FERRY_RETURN_IF_ERROR(LocalPath(lp));
    if (destinations_ > 1) {
      Note("sersync 2.5.4 watched only the first <localpath>; ferry will watch all " +
           std::to_string(destinations_));
    }
    Note(
        "sersync skipped changes to files named .* or *~ (so .htaccess never synced live); "
        "ferry replicates them and skips only editors' and rsync's temp files "
        "(ignore_temp_files = true)");
    return Finish();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(Printable(origin_) + ": " + what);
  }
  void Note(const std::string& note) {
    std::string line = Printable(note);
    if (std::find(notes_.begin(), notes_.end(), line) == notes_.end()) notes_.push_back(line);
  }
  Status Refuse(const std::string& where, std::string_view value, const std::string& why) const {
    return Error(where + "=\"" + Printable(value) + "\" has " + why +
                 "; ferry.conf cannot hold it safely, so fix the XML first");
  }

  // Notes every element ferry does not know, below the ones it does.
  void NoteUnknown(pugi::xml_node node, const std::string& path) {
    static const std::map<std::string, std::set<std::string>> known = {
        {"head", {"host", "debug", "fileSystem", "filter", "inotify", "sersync", "plugin"}},
        {"head/filter", {"exclude"}},
        {"head/inotify",
         {"delete", "createFolder", "createFile", "closeWrite", "moveFrom", "moveTo", "attrib",
          "modify"}},
        {"head/sersync", {"localpath", "rsync", "failLog", "crontab", "plugin"}},
        {"head/sersync/localpath", {"remote"}},
        {"head/sersync/rsync", {"commonParams", "auth", "userDefinedPort", "timeout", "ssh"}},
        {"head/sersync/crontab", {"crontabfilter"}},
        {"head/sersync/crontab/crontabfilter", {"exclude"}},
    };
    auto it = known.find(path);
    if (it == known.end()) return;
    for (pugi::xml_node child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      std::string sub = path + "/" + child.name();
      if (it->second.count(child.name())) {
        NoteUnknown(child, sub);
      } else {
        Note("<" + sub + "> is not a sersync 2.5.4 setting ferry knows; ignored");
      }
    }
  }

  // Switches and plugins that have no ferry equivalent.
  void NoteSwitches(pugi::xml_node head, pugi::xml_node ser) {
    if (pugi::xml_node host = head.child("host")) {
      Note("<host hostip=\"" + Attr(host, "hostip") + "\" port=\"" + Attr(host, "port") +
           "\"> served sersync's socket/http modules; ferry has no such listener "
           "(ferryctl uses [control] socket)");
    }
    if (On(head.child("debug"))) Note("<debug start=\"true\"> has no ferry.conf equivalent");
    if (Attr(head.child("fileSystem"), "xfs") == "true") {
      Note(
          "<fileSystem xfs=\"true\"> is not needed: ferry stats entries instead of trusting "
          "d_type");
    }
    std::set<std::string> enabled, defined;
    for (pugi::xml_node p : ser.children("plugin")) {
      if (On(p)) enabled.insert(Attr(p, "name"));
    }
    defined = enabled;
    for (pugi::xml_node p : head.children("plugin")) defined.insert(Attr(p, "name"));
    for (const std::string& name : defined) {
      std::string what = name == "refreshCDN" ? "CDN cache refresh; " : "";
      what += enabled.count(name) ? "sersync ran it after every sync" : "not enabled";
      Note("<plugin name=\"" + name + "\"> (" + what +
           ") is not carried over: ferry has no plugins; an exec: target can run a command for "
           "each batch");
    }
  }

  Status Events(pugi::xml_node ino) {
    if (!ino) {
      Note("no <inotify> element: ferry's default events apply");
      return Status::Ok();
    }
    auto on = [&](const char* name) { return On(ino.child(name)); };
    std::string ev;
    auto add = [&](bool yes, const char* word) {
      if (yes) ev += (ev.empty() ? "" : ",") + std::string(word);
    };
    add(on("createFolder") || on("createFile"), "create");
    add(on("closeWrite"), "close_write");
    add(on("modify"), "modify");
    add(on("attrib"), "attrib");
    add(on("delete"), "delete");
    add(on("moveFrom") || on("moveTo"), "move");
    if (ev.empty()) return Error("<inotify> turns every event off: nothing would be replicated");
    if (on("createFile") && !on("createFolder")) {
      Note("<createFolder start=\"false\">: ferry's create also ships new directories");
    }
    if (on("moveFrom") != on("moveTo")) {
      Note("only one of <moveFrom>/<moveTo> is on; ferry's move ships both ends of a rename");
    }
    if (!on("delete")) {
      Note(
          "<delete start=\"false\">: ferry journals no deletions either, but its full syncs "
          "delete on the target what the source lacks");
    }
    events_ = ev;
    return Status::Ok();
  }

  Status Excludes(pugi::xml_node filter) {
    if (!On(filter)) return Status::Ok();
    for (pugi::xml_node x : filter.children("exclude")) {
      std::string expr = Attr(x, "expression");
      if (expr.empty()) continue;  // sersync's regex "" matched no path
      bool had_slash = false;
      auto re = TranslateRegex(expr, &had_slash);
      if (!re) {
        return Error("<filter><exclude expression=\"" + Printable(expr) +
                     "\"> has no RE2 equivalent (" + re.error().message() + "); rewrite it");
      }
      if (had_slash) {
        Note("exclude expression \"" + expr +
             "\" began with '/', which sersync saw only below "
             "the top level; ferry's paths have none, so the '/' was dropped: check " +
             *re);
      }
      regexes_.push_back(*re);
    }
    if (!regexes_.empty()) {
      Note(
          "<filter> expressions matched whole paths below the watch; each became "
          "exclude_regex = ^(?:EXPR)/?$, and an excluded directory excludes all below it");
    }
    return Status::Ok();
  }

  void RsyncArgs(pugi::xml_node common) {
    if (!common) return;  // ferry's default -a
    std::istringstream in(Attr(common, "params"));
    std::vector<std::string> words, dropped;
    for (std::string w; in >> w;) words.push_back(w);
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      if (!Unsafe(w, kShellSyntax).empty() || w.size() < 2 || w[0] != '-') {
        dropped.push_back(w);
      } else if (w[1] == '-') {
        std::string opt = w.substr(0, w.find('='));
        const ReservedRsyncOption* reserved = FindReservedRsyncOption(opt);
        if (reserved == nullptr) {
          args_ += (args_.empty() ? "" : " ") + w;
          continue;
        }
        dropped.push_back(w);
        if (reserved->takes_value && opt == w && i + 1 < words.size()) {
          dropped.push_back(words[++i]);
        }
      } else {
        std::string kept = "-";
        for (size_t j = 1; j < w.size(); ++j) {
          if (kShortWithValue.find(w[j]) != std::string_view::npos) {
            if (w[j] != 'e') {
              kept += w.substr(j);
            } else {
              dropped.push_back("-" + w.substr(j));
              if (j + 1 == w.size() && i + 1 < words.size()) dropped.push_back(words[++i]);
            }
            break;
          }
          if (FindReservedRsyncOption(std::string{'-', w[j]})) {
            dropped.push_back("-" + std::string(1, w[j]));
          } else {
            kept += w[j];
          }
        }
        if (kept.size() > 1) args_ += (args_.empty() ? "" : " ") + kept;
      }
    }
    if (!dropped.empty()) {
      std::string list;
      for (const std::string& d : dropped) list += (list.empty() ? "" : " ") + d;
      Note("<commonParams>: dropped " + list +
           " (ferry sets recursion, --delete, --timeout, -e and the password file itself; "
           "non-options and shell syntax cannot go in rsync_args)");
    }
  }

  Status Remote(pugi::xml_node rsync) {
    ssh_ = On(rsync.child("ssh"));
    if (pugi::xml_node auth = rsync.child("auth"); On(auth)) {
      user_ = Attr(auth, "users");
      password_ = Attr(auth, "passwordfile");
      if (std::string why = Unsafe(user_, " @:/[]"); !why.empty()) {
        return Refuse("<auth users", user_, why);
      }
      if (std::string why = Unsafe(password_); !why.empty()) {
        return Refuse("<auth passwordfile", password_, why);
      }
      if (ssh_ && !password_.empty()) {
        Note("<auth passwordfile> is for rsync daemons; over ssh it was unused and is dropped");
        password_.clear();
      }
      if (!ssh_ && !user_.empty() && password_.empty()) {
        return Error("<auth users=\"" + user_ +
                     "\"> has no passwordfile; ferry needs a password_file for a daemon user");
      }
    }
    if (pugi::xml_node port = rsync.child("userDefinedPort"); On(port)) {
      auto n = Number(Attr(port, "port"));
      if (!n || *n < 1 || *n > 65535) {
        return Error("<userDefinedPort port=\"" + Printable(Attr(port, "port")) +
                     "\"> is not a port number (1 to 65535)");
      }
      if (ssh_) {
        Note("<userDefinedPort port=\"" + std::to_string(*n) + "\"> did nothing over ssh " +
             "(rsync's --port is for daemons); for an sshd on that port add ssh_options = -p " +
             std::to_string(*n));
      } else {
        port_ = ":" + std::to_string(*n);
      }
    }
    if (pugi::xml_node timeout = rsync.child("timeout"); On(timeout)) {
      auto n = Number(Attr(timeout, "time"));
      if (!n) {
        return Error("<timeout time=\"" + Printable(Attr(timeout, "time")) +
                     "\"> is not a number of seconds");
      }
      if (*n == 0) {
        Note("<timeout time=\"0\"> (no timeout) has no ferry equivalent; ferry's default applies");
      } else {
        timeout_ = std::to_string(*n) + "s";
      }
    }
    return Status::Ok();
  }

  void Crontab(pugi::xml_node cron) {
    if (!On(cron)) return;
    int64_t m = AtoiMinutes(Attr(cron, "schedule"));
    if (m <= 0) {
      Note("<crontab schedule> is not a positive number; sersync used 600 minutes");
      m = 600;
    }
    std::vector<std::string> cfilter;
    if (pugi::xml_node cf = cron.child("crontabfilter"); On(cf)) {
      for (pugi::xml_node x : cf.children("exclude")) cfilter.push_back(Attr(x, "expression"));
    }
    if (!regexes_.empty() && cfilter.empty()) {
      Note(
          "<crontab> was on but sersync switched it off (a <filter> without a "
          "<crontabfilter>); full_sync_every stays 0");
      return;
    }
    full_sync_ = Minutes(m);
    for (const std::string& pattern : cfilter) {
      Note("<crontabfilter> pattern \"" + pattern +
           "\" is not carried over: ferry's full syncs "
           "skip what exclude rules skip; add exclude = " +
           pattern + " if it should skip it too");
    }
  }

  void FailLog(pugi::xml_node fail) {
    if (!fail) return;
    std::string t = Attr(fail, "timeToExecute");
    int64_t m = t.empty() ? 120 : AtoiMinutes(t);  // sersync's default: 7200 s
    if (m <= 0) {
      Note("<failLog timeToExecute=\"" + t + "\">: sersync retried every minute; so does ferry");
      m = 1;
    }
    dead_letter_ = Minutes(m);
    Note("<failLog path=\"" + Attr(fail, "path") +
         "\">: ferry keeps failed changes in its "
         "journal as dead letters and retries them every dead_letter_retry = " +
         dead_letter_ + "; there is no fail script");
  }

  std::string Unique(std::set<std::string>& used, const std::string& base) {
    std::string name = base;
    for (int n = 2; !used.insert(name).second; ++n) name = base + "-" + std::to_string(n);
    return name;
  }

  Status LocalPath(pugi::xml_node lp) {
    std::string watch = Attr(lp, "watch");
    if (std::string why = Unsafe(watch); !why.empty())
      return Refuse("<localpath watch", watch, why);
    if (watch.empty() || watch[0] != '/') {
      return Error("<localpath watch=\"" + watch + "\"> must be an absolute path");
    }
    while (watch.size() > 1 && watch.back() == '/') watch.pop_back();
    std::string dest = Unique(dest_names_, SectionName(watch.substr(watch.rfind('/') + 1), "root"));
    ++destinations_;
    out_ << "\n[destination." << dest << "]\nsource = " << watch << "\n";
    if (!events_.empty()) out_ << "events = " << events_ << "\n";
    for (const std::string& re : regexes_) out_ << "exclude_regex = " << re << "\n";
    if (!full_sync_.empty()) out_ << "full_sync_every = " << full_sync_ << "\n";
    if (!args_.empty()) out_ << "rsync_args = " << args_ << "\n";
    if (!lp.child("remote")) {
      return Error("<localpath watch=\"" + watch + "\"> has no <remote ip=\"...\" name=\"...\">");
    }
    for (pugi::xml_node r : lp.children("remote")) {
      std::string ip = Attr(r, "ip"), module = Attr(r, "name");
      if (ip.empty() || module.empty()) {
        return Error("<localpath watch=\"" + watch + "\"> has a <remote> without ip or name");
      }
      if (std::string why = Unsafe(ip, " @/:[]"); !why.empty())
        return Refuse("<remote ip", ip, why);
      if (std::string why = Unsafe(module, ssh_ ? " " : " @:"); !why.empty()) {
        return Refuse("<remote name", module, why);
      }
      std::string at = user_.empty() ? "" : user_ + "@";
      std::string url;
      if (ssh_) {
        url = at + ip + ":" + module;
        if (module[0] != '/') Note("ssh target " + url + ": the path is relative to the home dir");
      } else {
        if (module[0] == '/')
          return Refuse("<remote name", module, "a leading '/' (a module name)");
        url = "rsync://" + at + ip + port_ + "/" + module;
      }
      std::string target = Unique(target_names_, SectionName(module + "_" + ip, "target"));
      out_ << "\n[target." << target << "]\ndestination = " << dest << "\nurl = " << url << "\n";
      if (!password_.empty()) {
        // sersync ran rsync from inside the watched directory.
        if (password_[0] != '/')
          Note("passwordfile \"" + password_ + "\" is relative: to " + watch);
        out_ << "password_file = " << (password_[0] == '/' ? "" : watch + "/") << password_ << "\n";
      }
      if (!timeout_.empty()) out_ << "timeout = " << timeout_ << "\n";
    }
    return Status::Ok();
  }

  SersyncImport Finish() {
    std::ostringstream o;
    o << "# ferry.conf imported from " << Printable(origin_)
      << " (sersync) by ferryctl import-sersync.\n# Check it with: ferryd --check-config\n";
    for (const std::string& n : notes_) o << "# NOTE: " << n << "\n";
    o << "\n[journal]\ndir = /var/lib/ferry\n";
    if (!dead_letter_.empty()) o << "\n[replay]\ndead_letter_retry = " << dead_letter_ << "\n";
    o << out_.str();
    return SersyncImport{o.str(), notes_};
  }

  std::string_view xml_;
  const std::string& origin_;
  std::vector<std::string> notes_;
  std::string events_, args_, full_sync_, dead_letter_;  // empty: ferry's default
  std::vector<std::string> regexes_;
  bool ssh_ = false;
  std::string user_, password_, port_, timeout_;
  std::set<std::string> dest_names_, target_names_;
  int destinations_ = 0;
  std::ostringstream out_;  // the [destination.*] and [target.*] sections
};

}  // namespace

Result<SersyncImport> ImportSersync(std::string_view xml, const std::string& origin) {
  return Importer(xml, origin).Run();
}

}  // namespace ferry
