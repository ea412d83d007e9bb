// RedisServer: a throwaway redis-server for tests, on a free loopback port in
// its own temp directory — the harness's own launcher under a test-facing
// name, so tests and `scaletwin real` start Redis the same way. See
// real/harness/redis_process.h for the contract: never a fixed port, never a
// shared instance, quiet persistence defaults, `config_args` appended, the
// child dies with the thread that started it, Stop()/the destructor remove
// the directory.
//
//   auto server = RedisServer::Start();
//   if (!server.ok()) GTEST_SKIP() << server.status().ToString();
//   auto client = RedisClient::Connect("127.0.0.1", (*server)->port());
#pragma once

#include "real/harness/redis_process.h"

namespace scaletwin {

using RedisServer = RedisProcess;
using RedisServerOptions = RedisProcessOptions;

}  // namespace scaletwin
