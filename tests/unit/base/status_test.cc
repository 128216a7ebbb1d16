#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace ferry {
namespace {

TEST(StatusTest, DefaultIsOkAndCheap) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::Corruption("event 7: path truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "event 7: path truncated");
  EXPECT_EQ(s.ToString(), "Corruption: event 7: path truncated");
  EXPECT_TRUE(Status::CursorExpired("x").IsCursorExpired());
  EXPECT_TRUE(Status::Retry("x").IsRetry());
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = Status::IOError("disk full").WithContext("append to journal /j");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "append to journal /j: disk full");
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
}

TEST(StatusTest, ErrnoStatusNamesCallSubjectAndErrno) {
  Status s = ErrnoStatus(ENOSPC, "inotify_add_watch", "/srv/a");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "inotify_add_watch /srv/a: No space left on device (ENOSPC)");
  EXPECT_TRUE(ErrnoStatus(ENOENT, "open").IsNotFound());
  EXPECT_TRUE(ErrnoStatus(EINVAL, "open").IsInvalidArgument());
  EXPECT_TRUE(ErrnoStatus(EAGAIN, "read").IsRetry());
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> v = 42;
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 42);
  EXPECT_TRUE(v.error().ok());

  Result<int> e = Status::NotFound("no such target");
  ASSERT_FALSE(e);
  EXPECT_TRUE(e.error().IsNotFound());
}

TEST(ResultTest, MovesOutValue) {
  Result<std::string> r = std::string(100, 'x');
  std::string s = *std::move(r);
  EXPECT_EQ(s.size(), 100u);
}

}  // namespace
}  // namespace ferry
