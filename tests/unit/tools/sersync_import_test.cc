#include "tools/sersync_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "settings/config.h"
#include "tests/lib/temp_dir.h"

namespace ferry {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(SERSYNC_DATA_DIR) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `text` with `from` replaced once by `to`; fails the test if `from` is absent.
std::string Edit(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The values of `key` in [section], in order.
std::vector<std::string> Values(const std::string& text, const std::string& section,
                                const std::string& key) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("[")) current = line.substr(1, line.size() - 2);
    if (current == section && line.starts_with(key + " = "))
      out.push_back(line.substr(key.size() + 3));
  }
  return out;
}

class SersyncImportTest : public ::testing::Test {
 protected:
  SersyncImport Import(const std::string& xml, const std::string& origin = "confxml.xml") {
    auto r = ImportSersync(xml, origin);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : SersyncImport{};
  }

  // Points every source at a fresh directory and every password file at a
  // mode-600 file, so ParseConfig's checks of this machine pass, then parses.
  Config Parse(const SersyncImport& im) {
    std::istringstream in(im.config);
    std::string text;
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("#")) {
        EXPECT_EQ(line.find('#'), std::string::npos) << line;
      }
      if (line.starts_with("source = ")) {
        std::string dir = tmp_.Sub("src" + std::to_string(++n_));
        std::filesystem::create_directories(dir);
        line = "source = " + dir;
      } else if (line.starts_with("password_file = ")) {
        std::string file = tmp_.Sub("pass" + std::to_string(++n_));
        std::ofstream(file) << "secret\n";
        chmod(file.c_str(), 0600);
        line = "password_file = " + file;
      }
      text += line + "\n";
    }
    for (const std::string& note : im.notes) {
      EXPECT_THAT(im.config, HasSubstr("# NOTE: " + note + "\n"));
      for (char c : note) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << note;
    }
    auto c = ParseConfig(text, "imported.conf");
    EXPECT_TRUE(c.has_value()) << c.error().ToString() << "\n" << text;
    return c.has_value() ? *c : Config{};
  }

  std::string Error(const std::string& xml) {
    auto r = ImportSersync(xml, "bad.xml");
    EXPECT_FALSE(r.has_value());
    std::string msg = r.error().message();
    EXPECT_TRUE(r.error().IsInvalidArgument());
    EXPECT_THAT(msg, StartsWith("bad.xml: "));
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }

  testing::TempDir tmp_;
  int n_ = 0;
};

TEST_F(SersyncImportTest, EveryFixtureConvertsAndParses) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(SERSYNC_DATA_DIR)) {
    if (e.path().extension() != ".xml") continue;
    SCOPED_TRACE(e.path().filename());
    SersyncImport im = Import(Fixture(e.path().filename()), e.path().filename());
    Config c = Parse(im);
    EXPECT_EQ(c.journal_dir, "/var/lib/ferry");
    EXPECT_FALSE(c.destinations.empty());
    EXPECT_FALSE(c.targets.empty());
    EXPECT_FALSE(im.notes.empty());
    ++files;
  }
  EXPECT_GE(files, 5);
}

TEST_F(SersyncImportTest, Seed000RsyncDaemonWithAuth) {
  SersyncImport im = Import(Fixture("seed000_home_xyz.xml"));
  EXPECT_THAT(Values(im.config, "destination.xyz", "source"), ElementsAre("/home/xyz"));
  EXPECT_THAT(Values(im.config, "destination.xyz", "events"),
              ElementsAre("create,close_write,delete,move"));
  EXPECT_THAT(Values(im.config, "destination.xyz", "rsync_args"), ElementsAre("-atuz"));
  EXPECT_TRUE(Values(im.config, "destination.xyz", "exclude_regex").empty());    // filter off
  EXPECT_TRUE(Values(im.config, "destination.xyz", "full_sync_every").empty());  // crontab off
  const std::string t = "target.test_192.168.1.189";
  EXPECT_THAT(Values(im.config, t, "url"), ElementsAre("rsync://root@192.168.1.189/test"));
  EXPECT_THAT(Values(im.config, t, "password_file"), ElementsAre("/etc/rsyncd.passwd"));
  EXPECT_TRUE(Values(im.config, t, "timeout").empty());  // timeout off
  EXPECT_THAT(Values(im.config, "replay", "dead_letter_retry"), ElementsAre("1h"));
  EXPECT_THAT(im.notes, Contains(HasSubstr("refreshCDN")));
  EXPECT_THAT(im.notes, Contains(AllOf(HasSubstr("/tmp/rsync_fail_log.sh"), HasSubstr("1h"))));
  EXPECT_THAT(im.notes, Contains(HasSubstr("dropped -r")));

  Config c = Parse(im);
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].url.kind, TargetUrl::Kind::kRsyncDaemon);
  EXPECT_EQ(c.targets[0].url.user, "root");
  EXPECT_EQ(c.targets[0].url.module, "test");
  EXPECT_EQ(c.targets[0].destination, "xyz");
  EXPECT_EQ(c.dead_letter_retry_ns, 3'600'000'000'000);
}

TEST_F(SersyncImportTest, Seed004TimeoutAllEventsAndXfs) {
  SersyncImport im = Import(Fixture("seed004_nfs_data.xml"));
  EXPECT_THAT(Values(im.config, "destination.data", "events"),
              ElementsAre("create,close_write,modify,attrib,delete,move"));
  EXPECT_THAT(Values(im.config, "destination.data", "rsync_args"), ElementsAre("-az"));
  const std::string t = "target.data_172.16.1.41";
  EXPECT_THAT(Values(im.config, t, "url"), ElementsAre("rsync://rsync_backup@172.16.1.41/data"));
  EXPECT_THAT(Values(im.config, t, "password_file"), ElementsAre("/etc/rsync.pass"));
  EXPECT_THAT(Values(im.config, t, "timeout"), ElementsAre("100s"));
  EXPECT_THAT(im.notes, Contains(HasSubstr("xfs")));
  Config c = Parse(im);
  EXPECT_EQ(c.targets.at(0).timeout_ns, 100'000'000'000);
}

TEST_F(SersyncImportTest, StockFileWithoutAuth) {
  SersyncImport im = Import(Fixture("stock_2.5.4.xml"));
  const std::string t = "target.tongbu1_127.0.0.1";
  EXPECT_THAT(Values(im.config, t, "url"), ElementsAre("rsync://127.0.0.1/tongbu1"));
  EXPECT_TRUE(Values(im.config, t, "password_file").empty());
  EXPECT_THAT(im.notes, Contains(AllOf(HasSubstr("socket"), HasSubstr("not enabled"))));
}

TEST_F(SersyncImportTest, DaemonFeaturesPortFilterCrontabFailLog) {
  SersyncImport im = Import(Fixture("features_daemon.xml"));
  const std::string d = "destination.html";
  EXPECT_THAT(Values(im.config, d, "source"), ElementsAre("/var/www/html"));
  EXPECT_THAT(Values(im.config, d, "events"), ElementsAre("create,close_write,attrib,move"));
  EXPECT_THAT(
      Values(im.config, d, "exclude_regex"),
      ElementsAre("^(?:(.*)\\.svn)/?$", "^(?:(.*)\\.gz)/?$", "^(?:info/*)/?$", "^(?:static/*)/?$"));
  EXPECT_THAT(Values(im.config, d, "full_sync_every"), ElementsAre("10h"));
  EXPECT_THAT(Values(im.config, d, "rsync_args"), ElementsAre("-atuz --bwlimit=2000"));
  EXPECT_THAT(Values(im.config, "target.www_192.168.8.39", "url"),
              ElementsAre("rsync://rsync_backup@192.168.8.39:874/www"));
  EXPECT_THAT(Values(im.config, "target.www_192.168.8.40", "url"),
              ElementsAre("rsync://rsync_backup@192.168.8.40:874/www"));
  EXPECT_THAT(Values(im.config, "target.www_192.168.8.40", "timeout"), ElementsAre("120s"));
  EXPECT_THAT(Values(im.config, "replay", "dead_letter_retry"), ElementsAre("30m"));
  EXPECT_THAT(im.notes, Contains(HasSubstr("--timeout=30")));
  EXPECT_THAT(im.notes, Contains(HasSubstr("<delete start=\"false\">")));
  EXPECT_THAT(im.notes, Contains(HasSubstr("head/sersync/rsync/delete")));
  EXPECT_THAT(im.notes, Contains(HasSubstr("<debug")));
  EXPECT_THAT(im.notes, Contains(AllOf(HasSubstr("refreshCDN"), HasSubstr("after every sync"))));
  EXPECT_THAT(im.notes, Contains(HasSubstr("crontabfilter> pattern \"info/*\"")));

  Config c = Parse(im);
  ASSERT_EQ(c.destinations.size(), 1u);
  EXPECT_EQ(c.destinations[0].full_sync_every_ns, 600 * 60'000'000'000LL);
  EXPECT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets.at(1).url.port, 874);
  auto f = Filter::Create(c.destinations[0].filter);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->Explain("a/b/.svn", true));  // sersync: "/a/b/.svn"
  EXPECT_TRUE((*f)->Explain("a/.svn/entries", false));
  EXPECT_TRUE((*f)->Explain("logs/x.gz", false));
  EXPECT_TRUE((*f)->Explain("info", true));
  EXPECT_TRUE((*f)->Explain("info/page.html", false));
  EXPECT_TRUE((*f)->Explain("static", false));
  EXPECT_FALSE((*f)->Explain("news/info/page.html", false));  // ^info matched the top only
  EXPECT_FALSE((*f)->Explain("information.html", false));
  EXPECT_FALSE((*f)->Explain("index.php", false));
}

TEST_F(SersyncImportTest, SshTargetsAndDuplicateNames) {
  SersyncImport im = Import(Fixture("features_ssh.xml"));
  EXPECT_THAT(Values(im.config, "destination.data", "source"), ElementsAre("/srv/data"));
  EXPECT_THAT(Values(im.config, "destination.data-2", "source"), ElementsAre("/srv/www/data"));
  EXPECT_THAT(Values(im.config, "destination.data", "full_sync_every"), ElementsAre("90m"));
  EXPECT_THAT(Values(im.config, "target.backup_data_10.0.0.5", "url"),
              ElementsAre("mirror@10.0.0.5:/backup/data"));
  EXPECT_THAT(Values(im.config, "target.www_10.0.0.5", "url"), ElementsAre("mirror@10.0.0.5:www"));
  EXPECT_THAT(Values(im.config, "target.www_10.0.0.5", "destination"), ElementsAre("data-2"));
  EXPECT_EQ(im.config.find("password_file"), std::string::npos);
  EXPECT_THAT(im.notes, Contains(HasSubstr("ssh_options = -p 2222")));
  EXPECT_THAT(im.notes, Contains(HasSubstr("only the first <localpath>")));
  EXPECT_THAT(im.notes, Contains(HasSubstr("relative to the home dir")));
  Config c = Parse(im);
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(c.targets[0].url.kind, TargetUrl::Kind::kSsh);
  EXPECT_EQ(c.targets[0].url.user, "mirror");
  EXPECT_EQ(c.targets[0].url.path, "/backup/data");
}

TEST_F(SersyncImportTest, CrontabQuirksKept) {
  std::string stock = Fixture("stock_2.5.4.xml");
  std::string cron = Edit(stock, "<crontab start=\"false\"", "<crontab start=\"true\"");
  // A filter without a crontabfilter: sersync switched its crontab off.
  SersyncImport off = Import(Edit(cron, "<filter start=\"false\">", "<filter start=\"true\">"));
  EXPECT_TRUE(Values(off.config, "destination.tongbu", "full_sync_every").empty());
  EXPECT_THAT(off.notes, Contains(HasSubstr("switched it off")));
  // A schedule that is not a positive number meant 600 minutes.
  SersyncImport zero = Import(Edit(cron, "schedule=\"600\"", "schedule=\"0\""));
  EXPECT_THAT(Values(zero.config, "destination.tongbu", "full_sync_every"), ElementsAre("10h"));
  Parse(zero);
}

TEST_F(SersyncImportTest, MissingOrMalformedSaysWhatAndWhere) {
  EXPECT_THAT(Error("<head><sersync><localpath watch=\"/a\">"),
              HasSubstr("malformed XML at line 1"));
  EXPECT_THAT(Error("<?xml version=\"1.0\"?>\n<head>\n<sersync></head>"),
              HasSubstr("malformed XML at line 3"));
  EXPECT_THAT(Error("<config/>"), HasSubstr("no <head>"));
  EXPECT_THAT(Error(""), HasSubstr("malformed XML"));
}

TEST_F(SersyncImportTest, NoLocalpathOrNoRemote) {
  std::string stock = Fixture("stock_2.5.4.xml");
  size_t a = stock.find("\t<localpath watch=\"/opt/tongbu\">");
  size_t b = stock.find("</localpath>", a) + std::string("</localpath>").size();
  EXPECT_THAT(Error(stock.substr(0, a) + stock.substr(b)),
              HasSubstr("no <sersync><localpath watch=\"...\"> element"));
  EXPECT_THAT(Error(Edit(stock, "<remote ip=\"127.0.0.1\" name=\"tongbu1\"/>", "")),
              HasSubstr("<localpath watch=\"/opt/tongbu\"> has no <remote"));
  EXPECT_THAT(Error(Edit(stock, "name=\"tongbu1\"", "name=\"\"")), HasSubstr("without ip or name"));
}

TEST_F(SersyncImportTest, HostileValuesCannotAddLines) {
  std::string stock = Fixture("stock_2.5.4.xml");
  const std::string module = "name=\"tongbu1\"";
  EXPECT_THAT(Error(Edit(stock, module, "name=\"tong bu\"")), HasSubstr("a space"));
  EXPECT_THAT(Error(Edit(stock, module, "name=\"tongbu#x\"")), HasSubstr("'#'"));
  EXPECT_THAT(Error(Edit(stock, module, "name=\"tongbu&#10;[target.evil]\"")),
              AllOf(HasSubstr("control character"), HasSubstr("tongbu\\n[target.evil]")));
  const std::string watch = "watch=\"/opt/tongbu\"";
  EXPECT_THAT(Error(Edit(stock, watch, "watch=\"/opt/x\n[destination.evil]\nsource = /\"")),
              HasSubstr("control character"));
  EXPECT_THAT(Error(Edit(stock, watch, "watch=\"/opt/#x\"")), HasSubstr("'#'"));
  EXPECT_THAT(Error(Edit(stock, watch, "watch=\"opt/tongbu\"")), HasSubstr("absolute"));
  std::string auth = Edit(stock, "<auth start=\"false\"", "<auth start=\"true\"");
  EXPECT_THAT(Error(Edit(auth, "users=\"root\"", "users=\"ro ot\"")), HasSubstr("a space"));
  EXPECT_THAT(Error(Edit(auth, "users=\"root\"", "users=\"a@b\"")), HasSubstr("'@'"));
  EXPECT_THAT(Error(Edit(auth, "/etc/rsync.pas", "/etc/rsync.pas # x")), HasSubstr("'#'"));
  EXPECT_THAT(Error(Edit(stock, "ip=\"127.0.0.1\"", "ip=\"127.0.0.1/x\"")), HasSubstr("'/'"));
  // Notes quote what they must: a newline in a plugin name stays on its line.
  SersyncImport im =
      Import(Edit(stock, "<plugin name=\"socket\">", "<plugin name=\"so&#10;[x]\">"));
  EXPECT_THAT(im.notes, Contains(HasSubstr("so\\n[x]")));
  Parse(im);
}

TEST_F(SersyncImportTest, RegexIsTranslatedNotTruncated) {
  std::string on =
      Edit(Fixture("stock_2.5.4.xml"), "<filter start=\"false\">", "<filter start=\"true\">");
  SersyncImport hash = Import(Edit(on, "(.*)\\.svn", "(.*)#draft\\#x&#10;"));
  EXPECT_THAT(Values(hash.config, "destination.tongbu", "exclude_regex"),
              Contains("^(?:(.*)\\x23draft\\x23x\\x0a)/?$"));
  Config c = Parse(hash);
  auto f = Filter::Create(c.destinations.at(0).filter);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->Explain("a/b#draft#x\n", false));
  EXPECT_FALSE((*f)->Explain("a/b", false));

  SersyncImport slash = Import(Edit(on, "(.*)\\.svn", "/tmp/.*"));
  EXPECT_THAT(Values(slash.config, "destination.tongbu", "exclude_regex"),
              Contains("^(?:tmp/.*)/?$"));
  EXPECT_THAT(slash.notes, Contains(HasSubstr("began with '/'")));
  EXPECT_THAT(Error(Edit(on, "(.*)\\.svn", "(?=x)")), HasSubstr("no RE2 equivalent"));
}

TEST_F(SersyncImportTest, RsyncParamsPortTimeoutAndEvents) {
  std::string stock = Fixture("stock_2.5.4.xml");
  SersyncImport im =
      Import(Edit(stock, "params=\"-artuz\"",
                  "params=\"-avzP -e ssh --password-file /x '--bwlimit=1' host: -rn\""));
  EXPECT_THAT(Values(im.config, "destination.tongbu", "rsync_args"), ElementsAre("-avzP"));
  EXPECT_THAT(im.notes, Contains(HasSubstr("dropped -e ssh --password-file /x '--bwlimit=1' host: "
                                           "-r -n")));
  Parse(im);

  std::string port =
      Edit(stock, "<userDefinedPort start=\"false\"", "<userDefinedPort start=\"true\"");
  EXPECT_THAT(Error(Edit(port, "port=\"874\"", "port=\"70000\"")), HasSubstr("not a port"));
  std::string timeout = Edit(stock, "<timeout start=\"false\"", "<timeout start=\"true\"");
  EXPECT_THAT(Error(Edit(timeout, "time=\"100\"", "time=\"1m\"")), HasSubstr("seconds"));
  SersyncImport zero = Import(Edit(timeout, "time=\"100\"", "time=\"0\""));
  EXPECT_EQ(zero.config.find("timeout ="), std::string::npos);
  EXPECT_THAT(zero.notes, Contains(HasSubstr("no timeout")));

  std::string none = stock;
  for (const char* e : {"delete", "createFolder", "closeWrite", "moveFrom", "moveTo"}) {
    none = Edit(none, "<" + std::string(e) + " start=\"true\"",
                "<" + std::string(e) + " start=\"false\"");
  }
  EXPECT_THAT(Error(none), HasSubstr("every event off"));

  std::string rel = Edit(Edit(stock, "<auth start=\"false\"", "<auth start=\"true\""),
                         "passwordfile=\"/etc/rsync.pas\"", "passwordfile=\"conf/rsync.pas\"");
  SersyncImport relative = Import(rel);
  EXPECT_THAT(Values(relative.config, "target.tongbu1_127.0.0.1", "password_file"),
              ElementsAre("/opt/tongbu/conf/rsync.pas"));
}

}  // namespace
}  // namespace ferry
