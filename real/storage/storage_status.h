// Error causes of the link storage, carried inside an ordinary Status.
//
// The pod maps a storage failure to an HTTP answer and the run report counts
// failures by cause, so a caller must be able to tell "the database refused a
// connection" (db_too_many_clients → 503, counted as such) from "the pool was
// exhausted" (pool_timeout → 503) from "that code is taken" (conflict → 409).
// model/status.h has only generic codes, so a storage error is a Status whose
// message starts with the cause's stable name and a colon:
//
//   Status s = StorageError(StorageCause::kDbTooManyClients, "FATAL: sorry, too many clients already");
//   s.message() == "db_too_many_clients: FATAL: sorry, too many clients already"
//   StorageCauseOf(s) == StorageCause::kDbTooManyClients
//
// The names pool_timeout and db_too_many_clients are the ones the run result
// uses (model/run_result.h FailureCause), so simulated and real failures line up.
// Each cause also picks the closest StatusCode: not_found → kNotFound,
// invalid_argument → kInvalidArgument, conflict → kFailedPrecondition,
// pool_timeout / db_too_many_clients / unavailable → kIOError, internal → kInternal.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin {

enum class StorageCause {
  kOk = 0,
  kNotFound,          // no such link (or not this tenant's), unknown or expired code, unknown API key
  kConflict,          // the custom code is taken
  kInvalidArgument,   // bad URL, code, ttl, tenant list
  kPoolTimeout,       // waited acquire_timeout for a pooled connection
  kDbTooManyClients,  // PostgreSQL refused a new connection: SQLSTATE 53300 (max_connections reached)
  kUnavailable,       // the database is unreachable, a connection broke, it is busy, or no free code was found
  kInternal,          // a bug or an unexpected database error
};

// "ok", "not_found", "conflict", "invalid_argument", "pool_timeout",
// "db_too_many_clients", "unavailable", "internal".
const char* StorageCauseName(StorageCause cause);

// A Status carrying `cause`. REQUIRES: cause != kOk.
Status StorageError(StorageCause cause, std::string_view detail);

// The cause carried by `s`: kOk for OK; a Status not made by StorageError
// maps by its code (kNotFound → kNotFound, kInvalidArgument → kInvalidArgument,
// anything else → kInternal).
StorageCause StorageCauseOf(const Status& s);

}  // namespace scaletwin
