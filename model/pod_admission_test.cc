#include "model/pod_admission.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

TEST(PodAdmission, StartsWhileAWorkerIsFreeQueuesUpToTheLimitThenRejects) {
  // 2 workers, 3 waiting places: outstanding 0..1 start, 2..4 queue, 5+ reject.
  EXPECT_EQ(AdmitToPod(0, 2, 3), PodAdmission::kStart);
  EXPECT_EQ(AdmitToPod(1, 2, 3), PodAdmission::kStart);
  EXPECT_EQ(AdmitToPod(2, 2, 3), PodAdmission::kQueue);
  EXPECT_EQ(AdmitToPod(4, 2, 3), PodAdmission::kQueue);
  EXPECT_EQ(AdmitToPod(5, 2, 3), PodAdmission::kReject);
  EXPECT_EQ(AdmitToPod(50, 2, 3), PodAdmission::kReject);
}

TEST(PodAdmission, ZeroQueueLimitIsErlangBAndMinusOneIsUnbounded) {
  EXPECT_EQ(AdmitToPod(0, 1, 0), PodAdmission::kStart);
  EXPECT_EQ(AdmitToPod(1, 1, 0), PodAdmission::kReject);
  EXPECT_EQ(AdmitToPod(1'000'000, 1, -1), PodAdmission::kQueue);
}

}  // namespace
}  // namespace scaletwin
