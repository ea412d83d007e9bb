// Storage causes survive the trip through a plain Status, with stable names
// that match the run report's failure causes.
#include "real/storage/storage_status.h"

#include <gtest/gtest.h>

#include "model/run_result.h"

namespace scaletwin {
namespace {

TEST(StorageStatus, CauseRoundTripsThroughStatus) {
  for (StorageCause c :
       {StorageCause::kNotFound, StorageCause::kConflict, StorageCause::kInvalidArgument, StorageCause::kPoolTimeout,
        StorageCause::kDbTooManyClients, StorageCause::kUnavailable, StorageCause::kInternal}) {
    const Status s = StorageError(c, "detail: with a colon");
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(StorageCauseOf(s), c) << s.ToString();
    EXPECT_EQ(s.message(), std::string(StorageCauseName(c)) + ": detail: with a colon");
  }
  EXPECT_EQ(StorageCauseOf(Status::Ok()), StorageCause::kOk);
}

TEST(StorageStatus, CausesPickTheClosestStatusCode) {
  EXPECT_EQ(StorageError(StorageCause::kNotFound, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(StorageError(StorageCause::kInvalidArgument, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StorageError(StorageCause::kConflict, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StorageError(StorageCause::kDbTooManyClients, "x").code(), StatusCode::kIOError);
  EXPECT_EQ(StorageError(StorageCause::kPoolTimeout, "x").code(), StatusCode::kIOError);
}

TEST(StorageStatus, ForeignStatusesMapByCodeNotByMessage) {
  EXPECT_EQ(StorageCauseOf(Status::IOError("conflict: looks like one")), StorageCause::kInternal);
  EXPECT_EQ(StorageCauseOf(Status::NotFound("file")), StorageCause::kNotFound);
  EXPECT_EQ(StorageCauseOf(Status::InvalidArgument("flag")), StorageCause::kInvalidArgument);
}

TEST(StorageStatus, PoolCauseNamesMatchTheRunReport) {
  EXPECT_STREQ(StorageCauseName(StorageCause::kPoolTimeout), FailureCauseName(FailureCause::kPoolTimeout));
  EXPECT_STREQ(StorageCauseName(StorageCause::kDbTooManyClients), FailureCauseName(FailureCause::kDbTooManyClients));
}

}  // namespace
}  // namespace scaletwin
