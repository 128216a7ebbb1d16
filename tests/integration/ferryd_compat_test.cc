// The real ferryd killed with SIGKILL under load, its rsync daemon target
// served by each receiver from rsync 3.0.9 to 3.5 (tests/lib/rsync_receivers.h):
// after a restart both targets are byte-identical, nothing lost.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/lib/ferryd_fixture.h"
#include "tests/lib/rsync_receivers.h"

namespace ferry {
namespace {

using testing::Receiver;

class FerrydCompatTest : public testing::FerrydTest,
                         public ::testing::WithParamInterface<Receiver> {};

TEST_P(FerrydCompatTest, KillNineUnderLoadLosesNothing) {
  std::string why;
  const std::string binary = ReceiverBinary(GetParam(), &why);
  if (binary.empty()) GTEST_SKIP() << why;
  daemon_.set_program(binary);
  daemon_.set_chroot(geteuid() == 0);  // as rsyncd runs on a backup server
  WriteConfig();
  StartFerryd();
  ASSERT_TRUE(Converged());
  // Creates, same-size rewrites, directory renames and tree deletes, while
  // ferryd is killed three times.
  std::atomic<bool> stop = false;
  std::atomic<int> ops = 0;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string dir = "w" + std::to_string(i % 5);
      Write(dir + "/f" + std::to_string(i % 40), "v" + std::to_string(i % 10));
      if (i % 97 == 96) {
        std::error_code ec;
        std::filesystem::rename(src() + "/" + dir, src() + "/moved" + std::to_string(i), ec);
      }
      if (i % 151 == 150) {
        for (const auto& e : std::filesystem::directory_iterator(src())) {
          if (e.path().filename().string().starts_with("moved")) {
            std::filesystem::remove_all(e.path());
            break;
          }
        }
      }
      ++ops;
    }
  });
  for (int round = 0; round < 3; ++round) {
    const int until = ops + 400;
    while (ops < until) std::this_thread::yield();  // the load, not a time, decides
    StopFerryd(SIGKILL);
    StartFerryd();
  }
  stop = true;
  writer.join();
  EXPECT_TRUE(Converged(120)) << "receiver rsync " << GetParam().version;
}

INSTANTIATE_TEST_SUITE_P(Receivers, FerrydCompatTest, ::testing::ValuesIn(testing::kReceivers),
                         [](const auto& info) { return testing::ReceiverName(info.param); });

}  // namespace
}  // namespace ferry
