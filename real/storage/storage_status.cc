// Cause names, their StatusCodes, and reading a cause back from a Status.
#include "real/storage/storage_status.h"

#include <cassert>

namespace scaletwin {

namespace {

constexpr StorageCause kAllCauses[] = {
    StorageCause::kNotFound,    StorageCause::kConflict,         StorageCause::kInvalidArgument,
    StorageCause::kPoolTimeout, StorageCause::kDbTooManyClients, StorageCause::kUnavailable,
    StorageCause::kInternal,
};

StatusCode CodeFor(StorageCause cause) {
  switch (cause) {
    case StorageCause::kOk:
      return StatusCode::kOk;
    case StorageCause::kNotFound:
      return StatusCode::kNotFound;
    case StorageCause::kInvalidArgument:
      return StatusCode::kInvalidArgument;
    case StorageCause::kConflict:
      return StatusCode::kFailedPrecondition;
    case StorageCause::kPoolTimeout:
    case StorageCause::kDbTooManyClients:
    case StorageCause::kUnavailable:
      return StatusCode::kIOError;
    case StorageCause::kInternal:
      return StatusCode::kInternal;
  }
  return StatusCode::kInternal;
}

}  // namespace

const char* StorageCauseName(StorageCause cause) {
  switch (cause) {
    case StorageCause::kOk:
      return "ok";
    case StorageCause::kNotFound:
      return "not_found";
    case StorageCause::kConflict:
      return "conflict";
    case StorageCause::kInvalidArgument:
      return "invalid_argument";
    case StorageCause::kPoolTimeout:
      return "pool_timeout";
    case StorageCause::kDbTooManyClients:
      return "db_too_many_clients";
    case StorageCause::kUnavailable:
      return "unavailable";
    case StorageCause::kInternal:
      return "internal";
  }
  return "internal";
}

Status StorageError(StorageCause cause, std::string_view detail) {
  assert(cause != StorageCause::kOk);
  return Status(CodeFor(cause), std::string(StorageCauseName(cause)) + ": " + std::string(detail));
}

StorageCause StorageCauseOf(const Status& s) {
  if (s.ok()) return StorageCause::kOk;
  const std::string& m = s.message();
  for (StorageCause c : kAllCauses) {
    const std::string_view name = StorageCauseName(c);
    // The code must match too, so an unrelated message that happens to start
    // with "conflict:" is not mistaken for a storage cause.
    if (s.code() == CodeFor(c) && m.size() > name.size() && m.compare(0, name.size(), name) == 0 &&
        m[name.size()] == ':') {
      return c;
    }
  }
  switch (s.code()) {
    case StatusCode::kNotFound:
      return StorageCause::kNotFound;
    case StatusCode::kInvalidArgument:
      return StorageCause::kInvalidArgument;
    default:
      return StorageCause::kInternal;
  }
}

}  // namespace scaletwin
