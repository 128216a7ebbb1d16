// ImportSersync: a sersync 2.5 confxml.xml as ferry.conf text, the logic of
// `ferryctl import-sersync`.
//
// What maps (sersync element -> ferry.conf):
//   <sersync><localpath watch=P>      [destination.NAME] source = P
//   <remote ip=H name=M>              [target.M_H] destination = NAME and
//                                       url = rsync://[U@]H[:PORT]/M (rsync daemon), or
//                                       url = [U@]H:M with <ssh start="true">, as
//                                       sersync ran `rsync -e ssh ... U@H:M`
//   <auth start users=U passwordfile=F>  U in the url; password_file = F (daemon only)
//   <userDefinedPort start port=N>    :N in a daemon url (rsync's --port is a
//                                       no-op over ssh: a note, no ssh -p)
//   <timeout start time=N>            timeout = Ns
//   <commonParams params=...>         rsync_args, minus what ferry sets itself
//                                       (-r, -e, --delete, --timeout, ...): noted
//   <filter start><exclude expression=E>  exclude_regex = ^(?:E)/?$ (sersync
//                                       whole-matched E against the path relative
//                                       to the watch; ferry searches, and sees
//                                       directories with a trailing '/')
//   <inotify> switches                events = create (createFolder|createFile),
//                                       close_write, modify, attrib, delete,
//                                       move (moveFrom|moveTo)
//   <crontab start schedule=N>        full_sync_every = N minutes (sersync's
//                                       quirks kept: N <= 0 means 600; a filter
//                                       without a crontabfilter turned it off)
//   <failLog timeToExecute=N>         [replay] dead_letter_retry = N minutes
//   (always)                          [journal] dir = /var/lib/ferry
// Everything else with a behaviour ferry lacks (plugins such as refreshCDN,
// <host>, <debug>, <fileSystem xfs>, the fail script, crontabfilter, unknown
// elements, sersync's own hidden-file skipping) becomes a note: returned in
// `notes` and written as "# NOTE: " lines at the top of `config`. Plugin
// blocks are noted even when not enabled; other switches that are off carry
// no behaviour and are skipped.
//
// Names: a destination is named after the watch path's last component, a
// target "<module>_<ip>"; bytes other than letters, digits, '_', '-', '.'
// become '_', and clashes get "-2", "-3", ...
//
// Safety: the XML is read as raw bytes, as sersync read it (the stock file
// says ISO-8859-1 but is commonly edited as UTF-8). No value may carry what
// ferry.conf cannot hold: control characters (newline, ...), '#' (it starts a
// comment), leading or trailing blanks, and in a host, user or module also
// spaces and URL syntax. Such a value is rejected, never rewritten, so it
// cannot add or hide a config line; the one exception is a regex, where '#'
// and control characters are written as \x23, \x0a, ... with the same meaning.
//
// Pure: touches no file. The result is what ParseConfig accepts, except that
// ParseConfig also checks that the source directories and password files
// exist on this machine. Errors are InvalidArgument, one line that starts
// with `origin` and says what is wrong or missing: malformed XML (with the
// line), no <head>, no <sersync><localpath>, a localpath without <remote>, a
// bad port/timeout/event selection, or an unsafe value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry {

struct SersyncImport {
  std::string config;              // ferry.conf text, notes first as comments
  std::vector<std::string> notes;  // one line each, no control characters
};

// Translates a sersync confxml.xml into equivalent ferry.conf text. `origin`
// names the file in messages only.
Result<SersyncImport> ImportSersync(std::string_view xml, const std::string& origin);

}  // namespace ferry
