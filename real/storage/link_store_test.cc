// The one storage suite both backends must pass: SQLite on a temp file and a
// real PostgreSQL started by testsupport/PostgresServer (no mocks). Each test
// gets a fresh database (a new file, or CREATE DATABASE on the shared server).
#include "real/storage/link_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "real/storage/api_key_hash.h"
#include "real/storage/postgres_link_store.h"
#include "real/storage/sqlite_link_store.h"
#include "testsupport/postgres_server.h"

namespace scaletwin {
namespace {

enum class Backend { kSqlite, kPostgres };

constexpr UnixMillis kNow = 1'750'000'000'000;  // a fixed "now": the store reads no clock

template <typename T>
StorageCause CauseOf(const Result<T>& r) {
  return StorageCauseOf(r.status());
}

// One PostgreSQL per test process, started from the main thread on first use
// (PR_SET_PDEATHSIG follows the starting thread) and stopped at exit.
PostgresServer* SharedPostgres() {
  static Result<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  if (!server.ok()) {
    ADD_FAILURE() << "cannot start PostgreSQL: " << server.status().ToString();
    return nullptr;
  }
  return server->get();
}

// A thread-safe rigged random source: yields `words` in order, then `rest` forever.
class RiggedWords {
 public:
  RiggedWords(std::vector<uint64_t> words, uint64_t rest) : words_(std::move(words)), rest_(rest) {}
  uint64_t Next() {
    std::lock_guard lock(mu_);
    ++calls_;
    if (next_ < words_.size()) return words_[next_++];
    return rest_;
  }
  void Append(std::vector<uint64_t> more) {
    std::lock_guard lock(mu_);
    words_.insert(words_.end(), more.begin(), more.end());
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::vector<uint64_t> words_;
  size_t next_ = 0;
  uint64_t rest_;
  int calls_ = 0;
};

class LinkStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string unique = std::to_string(getpid()) + "_" + std::to_string(counter++);
    if (GetParam() == Backend::kSqlite) {
      dir_ = std::filesystem::temp_directory_path() / ("scaletwin-links-" + unique);
      std::filesystem::create_directories(dir_);
    } else {
      pg_ = SharedPostgres();
      ASSERT_NE(pg_, nullptr);
      db_name_ = "links_" + unique;
      ASSERT_TRUE(pg_->Execute("CREATE DATABASE " + db_name_).ok());
    }
  }

  void TearDown() override {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  Result<std::unique_ptr<LinkStore>> Open(LinkStoreOptions options = {}) {
    if (GetParam() == Backend::kSqlite) {
      SqliteStoreOptions db;
      db.path = (dir_ / "links.db").string();
      auto s = SqliteLinkStore::Open(db, std::move(options));
      if (!s.ok()) return s.status();
      return std::unique_ptr<LinkStore>(std::move(*s));
    }
    PgPoolOptions pool;
    pool.conninfo = pg_->ConnInfo(db_name_);
    pool.size = 4;
    pool.acquire_timeout = 10 * kNanosPerSecond;
    auto s = PostgresLinkStore::Open(pool, std::move(options));
    if (!s.ok()) return s.status();
    return std::unique_ptr<LinkStore>(std::move(*s));
  }

  // Runs a COUNT(*)-style query straight on the database, bypassing the store.
  int64_t CountRows(const std::string& sql) {
    if (GetParam() == Backend::kPostgres) {
      Result<std::string> v = pg_->QueryValue(sql, db_name_);
      EXPECT_TRUE(v.ok()) << v.status().ToString();
      return v.ok() ? std::stoll(*v) : -1;
    }
    sqlite3* db = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2((dir_ / "links.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int64(s, 0);
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    EXPECT_GE(n, 0) << sql;
    return n;
  }

  // A store with tenants "acme" and "globex" synced.
  std::unique_ptr<LinkStore> OpenWithTenants(LinkStoreOptions options = {}) {
    Result<std::unique_ptr<LinkStore>> s = Open(std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return nullptr;
    const Status synced =
        (*s)->SyncTenants({{"acme", {ApiKeySha256Hex("acme-key-1")}}, {"globex", {ApiKeySha256Hex("globex-key-1")}}});
    EXPECT_TRUE(synced.ok()) << synced.ToString();
    return std::move(*s);
  }

  PostgresServer* pg_ = nullptr;
  std::string db_name_;
  std::filesystem::path dir_;
};

TEST_P(LinkStoreTest, CreatesResolvesCountsClicksAndGetsALink) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  Result<Link> link = store->CreateLink("acme", {.url = "https://example.com/a?b=c"}, kNow);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->code.size(), 7u);
  EXPECT_TRUE(IsWellFormedShortCode(link->code));
  EXPECT_EQ(link->tenant_id, "acme");
  EXPECT_EQ(link->created_at, kNow);
  EXPECT_FALSE(link->expires_at.has_value());
  EXPECT_EQ(link->clicks, 0);

  for (int i = 0; i < 3; ++i) {
    Result<ResolvedLink> r = store->Resolve(link->code, kNow + i);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->url, "https://example.com/a?b=c");
    EXPECT_EQ(r->tenant_id, "acme") << "the owner, so the limiter can charge it";
    EXPECT_FALSE(r->expires_at.has_value());
  }
  Result<Link> got = store->GetLink("acme", link->code);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Link expected = *link;
  expected.clicks = 3;
  EXPECT_EQ(*got, expected);
}

TEST_P(LinkStoreTest, UnknownAndMalformedCodesAreNotFound) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  for (const char* code : {"nosuch1", "../etc/passwd", "", "a b", "x%00"}) {
    EXPECT_EQ(CauseOf(store->Resolve(code, kNow)), StorageCause::kNotFound) << code;
    EXPECT_EQ(CauseOf(store->GetLink("acme", code)), StorageCause::kNotFound) << code;
    EXPECT_EQ(StorageCauseOf(store->DeleteLink("acme", code)), StorageCause::kNotFound) << code;
  }
}

TEST_P(LinkStoreTest, TenantsCannotSeeOrDeleteEachOthersLinks) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  Result<Link> link = store->CreateLink("acme", {.url = "https://acme.example/"}, kNow);
  ASSERT_TRUE(link.ok()) << link.status().ToString();

  EXPECT_EQ(CauseOf(store->GetLink("globex", link->code)), StorageCause::kNotFound);
  EXPECT_EQ(StorageCauseOf(store->DeleteLink("globex", link->code)), StorageCause::kNotFound)
      << "another tenant's code looks exactly like a missing one";
  ASSERT_TRUE(store->Resolve(link->code, kNow).ok()) << "globex's attempt deleted nothing";
  EXPECT_EQ(store->GetLink("acme", link->code)->clicks, 1);

  EXPECT_TRUE(store->DeleteLink("acme", link->code).ok());
  EXPECT_EQ(CauseOf(store->Resolve(link->code, kNow)), StorageCause::kNotFound);
  EXPECT_EQ(CauseOf(store->GetLink("acme", link->code)), StorageCause::kNotFound);
  EXPECT_EQ(StorageCauseOf(store->DeleteLink("acme", link->code)), StorageCause::kNotFound);
}

TEST_P(LinkStoreTest, CustomCodesAreGloballyUniqueAndValidated) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  Result<Link> mine = store->CreateLink("acme", {.url = "https://a.example/", .custom_code = "spring-sale"}, kNow);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(mine->code, "spring-sale");

  Result<Link> again = store->CreateLink("acme", {.url = "https://b.example/", .custom_code = "spring-sale"}, kNow);
  EXPECT_EQ(CauseOf(again), StorageCause::kConflict) << again.status().ToString();
  Result<Link> theirs = store->CreateLink("globex", {.url = "https://c.example/", .custom_code = "spring-sale"}, kNow);
  EXPECT_EQ(CauseOf(theirs), StorageCause::kConflict) << "codes are unique across tenants: redirects are public";
  EXPECT_EQ(store->Resolve("spring-sale", kNow)->url, "https://a.example/") << "the conflict changed nothing";
  EXPECT_TRUE(store->CreateLink("acme", {.url = "https://d.example/", .custom_code = "Spring-Sale"}, kNow).ok())
      << "codes are case-sensitive";

  for (const char* bad : {"ab", "metrics", "Healthz", "api", "has space", "-dash", "dot.ted"}) {
    EXPECT_EQ(CauseOf(store->CreateLink("acme", {.url = "https://a.example/", .custom_code = bad}, kNow)),
              StorageCause::kInvalidArgument)
        << bad;
  }
}

TEST_P(LinkStoreTest, ADeletedCodeCanBeClaimedAgain) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateLink("acme", {.url = "https://a.example/", .custom_code = "launch"}, kNow).ok());
  ASSERT_TRUE(store->DeleteLink("acme", "launch").ok());
  Result<Link> reclaimed = store->CreateLink("globex", {.url = "https://g.example/", .custom_code = "launch"}, kNow);
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.status().ToString();
  EXPECT_EQ(store->Resolve("launch", kNow)->tenant_id, "globex");
}

TEST_P(LinkStoreTest, RefusesBadUrlsAndTtlsWithoutStoringAnything) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  for (const char* bad : {"javascript:alert(1)", "ftp://example.com/", "https://user@example.com/", "https://",
                          "https://example.com/a b", "not a url"}) {
    Result<Link> r = store->CreateLink("acme", {.url = bad}, kNow);
    EXPECT_EQ(CauseOf(r), StorageCause::kInvalidArgument) << bad;
  }
  EXPECT_EQ(CauseOf(store->CreateLink("acme", {.url = "https://e.com/" + std::string(2100, 'a')}, kNow)),
            StorageCause::kInvalidArgument);
  for (Nanos ttl : std::vector<Nanos>{0, -kNanosPerSecond, Nanos{3651} * 24 * 3600 * kNanosPerSecond}) {
    EXPECT_EQ(CauseOf(store->CreateLink("acme", {.url = "https://e.com/", .ttl = ttl}, kNow)),
              StorageCause::kInvalidArgument)
        << ttl;
  }
  EXPECT_EQ(CountRows("SELECT count(*) FROM links"), 0);
}

TEST_P(LinkStoreTest, LinksStopResolvingWhenTheirTtlRunsOut) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  Result<Link> link = store->CreateLink("acme", {.url = "https://e.com/", .ttl = 60 * kNanosPerSecond}, kNow);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->expires_at, kNow + 60'000);
  Result<ResolvedLink> resolved = store->Resolve(link->code, kNow + 59'999);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->expires_at, kNow + 60'000) << "a cache needs the expiry to bound its entry";
  EXPECT_EQ(CauseOf(store->Resolve(link->code, kNow + 60'000)), StorageCause::kNotFound);
  EXPECT_EQ(CauseOf(store->Resolve(link->code, kNow + 3'600'000)), StorageCause::kNotFound);

  Result<Link> got = store->GetLink("acme", link->code);
  ASSERT_TRUE(got.ok()) << "the owner still sees an expired link and its stats";
  EXPECT_EQ(got->clicks, 1) << "only the successful resolve counted";
  EXPECT_TRUE(got->ExpiredAt(kNow + 60'000));
  EXPECT_FALSE(got->ExpiredAt(kNow + 59'999));

  Result<Link> tiny = store->CreateLink("acme", {.url = "https://e.com/", .ttl = Nanos{1}}, kNow);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->expires_at, kNow + 1) << "rounded up to a whole millisecond";
}

TEST_P(LinkStoreTest, GeneratedCodeCollisionsAreRetriedThenFailCleanly) {
  auto words = std::make_shared<RiggedWords>(std::vector<uint64_t>{0}, 0);
  LinkStoreOptions options;
  options.code_length = 1;
  options.max_code_attempts = 3;
  options.random_words = [words] { return words->Next(); };
  auto store = OpenWithTenants(options);
  ASSERT_NE(store, nullptr);

  Result<Link> first = store->CreateLink("acme", {.url = "https://e.com/1"}, kNow);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->code, "0");

  words->Append({0, 0, 1});  // two collisions, then a free code
  Result<Link> second = store->CreateLink("globex", {.url = "https://e.com/2"}, kNow);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->code, "1");
  EXPECT_EQ(words->calls(), 4);

  // Only "0" and "1" from now on: every attempt collides.
  words->Append({1, 0, 1});
  Result<Link> third = store->CreateLink("acme", {.url = "https://e.com/3"}, kNow);
  EXPECT_EQ(CauseOf(third), StorageCause::kUnavailable) << third.status().ToString();
  EXPECT_NE(third.status().message().find("3 attempts"), std::string::npos) << third.status().message();
  EXPECT_EQ(words->calls(), 7) << "exactly max_code_attempts draws";
  EXPECT_EQ(CountRows("SELECT count(*) FROM links"), 2) << "the failed create stored nothing";
  EXPECT_EQ(store->Resolve("0", kNow)->url, "https://e.com/1");
  EXPECT_EQ(store->Resolve("1", kNow)->url, "https://e.com/2");
}

TEST_P(LinkStoreTest, GeneratedCodesNeverSpellAReservedWord) {
  // 'a' 'p' 'i' in kBase62Alphabet, then '0's.
  const auto at = [](char c) { return static_cast<uint64_t>(kBase62Alphabet.find(c)); };
  auto words = std::make_shared<RiggedWords>(std::vector<uint64_t>{at('a'), at('p'), at('i')}, 0);
  LinkStoreOptions options;
  options.code_length = 3;
  options.random_words = [words] { return words->Next(); };
  auto store = OpenWithTenants(options);
  ASSERT_NE(store, nullptr);
  Result<Link> link = store->CreateLink("acme", {.url = "https://e.com/"}, kNow);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->code, "000") << "\"api\" was drawn and skipped";
}

TEST_P(LinkStoreTest, UnknownTenantsCannotCreateLinks) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(CauseOf(store->CreateLink("initech", {.url = "https://e.com/"}, kNow)), StorageCause::kNotFound);
  EXPECT_EQ(CauseOf(store->CreateLink("bad tenant!", {.url = "https://e.com/"}, kNow)), StorageCause::kInvalidArgument);
}

TEST_P(LinkStoreTest, SyncTenantsMirrorsTheConfigByKeyHash) {
  Result<std::unique_ptr<LinkStore>> opened = Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LinkStore& store = **opened;
  const std::string k1 = ApiKeySha256Hex("key-1"), k2 = ApiKeySha256Hex("key-2"), k3 = ApiKeySha256Hex("key-3");
  ASSERT_TRUE(store.SyncTenants({{"acme", {k1, k2}}, {"globex", {k3}}}).ok());
  EXPECT_EQ(store.TenantForKeyHash(k1).value(), "acme");
  EXPECT_EQ(store.TenantForKeyHash(k2).value(), "acme");
  EXPECT_EQ(store.TenantForKeyHash(k3).value(), "globex");
  std::string upper = k1;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(store.TenantForKeyHash(upper).value(), "acme") << "hex case does not matter";
  EXPECT_EQ(CauseOf(store.TenantForKeyHash(ApiKeySha256Hex("key-4"))), StorageCause::kNotFound);
  EXPECT_EQ(CauseOf(store.TenantForKeyHash("key-1")), StorageCause::kNotFound) << "a raw key is never a hash";

  Result<Link> link = store.CreateLink("acme", {.url = "https://acme.example/"}, kNow);
  ASSERT_TRUE(link.ok());

  // Key rotation: k1 moves to globex, k3 is revoked; syncing twice is a no-op.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store.SyncTenants({{"acme", {k2}}, {"globex", {k1}}}).ok());
  EXPECT_EQ(store.TenantForKeyHash(k1).value(), "globex");
  EXPECT_EQ(store.TenantForKeyHash(k2).value(), "acme");
  EXPECT_EQ(CauseOf(store.TenantForKeyHash(k3)), StorageCause::kNotFound);

  // acme leaves the config: it can no longer authenticate, its links survive and still redirect.
  ASSERT_TRUE(store.SyncTenants({{"globex", {k1}}}).ok());
  EXPECT_EQ(CauseOf(store.TenantForKeyHash(k2)), StorageCause::kNotFound);
  EXPECT_EQ(store.Resolve(link->code, kNow)->tenant_id, "acme");
  // ... and coming back restores it.
  ASSERT_TRUE(store.SyncTenants({{"acme", {k2}}, {"globex", {k1}}}).ok());
  EXPECT_EQ(store.TenantForKeyHash(k2).value(), "acme");
  EXPECT_EQ(CountRows("SELECT count(*) FROM api_keys"), 2);
}

TEST_P(LinkStoreTest, SyncTenantsRefusesBadListsAndChangesNothing) {
  Result<std::unique_ptr<LinkStore>> opened = Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LinkStore& store = **opened;
  const std::string k1 = ApiKeySha256Hex("key-1"), k2 = ApiKeySha256Hex("key-2");
  ASSERT_TRUE(store.SyncTenants({{"acme", {k1}}}).ok());
  const std::vector<std::vector<TenantKeys>> bad = {
      {{"acme", {k1}}, {"acme", {k2}}},      // listed twice
      {{"acme", {"sk_live_plaintextkey"}}},  // a raw key instead of a hash
      {{"acme", {k1.substr(1)}}},            // 63 digits
      {{"acme", {k1}}, {"globex", {k1}}},    // one key, two tenants
      {{"", {k2}}},                          // empty id
      {{"a/b", {k2}}},                       // bad character
      {{std::string(65, 't'), {k2}}},        // too long
  };
  for (const auto& list : bad) {
    EXPECT_EQ(StorageCauseOf(store.SyncTenants(list)), StorageCause::kInvalidArgument);
  }
  EXPECT_EQ(store.TenantForKeyHash(k1).value(), "acme");
  EXPECT_EQ(CountRows("SELECT count(*) FROM api_keys"), 1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM tenants"), 1);
}

TEST_P(LinkStoreTest, MigrationsAreIdempotentAcrossReopens) {
  std::string code;
  {
    auto store = OpenWithTenants();
    ASSERT_NE(store, nullptr);
    Result<Link> link = store->CreateLink("acme", {.url = "https://e.com/"}, kNow);
    ASSERT_TRUE(link.ok());
    code = link->code;
  }
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<LinkStore>> again = Open();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ((*again)->Resolve(code, kNow)->url, "https://e.com/");
  }
  EXPECT_EQ(CountRows("SELECT count(*) FROM schema_migrations"), 1);
}

TEST_P(LinkStoreTest, PodsStartingTogetherMigrateOnce) {
  constexpr int kPods = 4;
  std::vector<Status> results(kPods);
  std::vector<std::thread> pods;
  for (int i = 0; i < kPods; ++i) {
    pods.emplace_back([&, i] {
      Result<std::unique_ptr<LinkStore>> s = Open();
      results[i] = s.status();
      if (s.ok()) results[i] = (*s)->SyncTenants({{"acme", {ApiKeySha256Hex("k")}}});
    });
  }
  for (std::thread& t : pods) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountRows("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(CountRows("SELECT count(*) FROM api_keys"), 1);
}

TEST_P(LinkStoreTest, ConcurrentClicksAreCountedExactlyWhileLinksAreCreated) {
  auto store = OpenWithTenants();
  ASSERT_NE(store, nullptr);
  Result<Link> hot = store->CreateLink("acme", {.url = "https://hot.example/"}, kNow);
  ASSERT_TRUE(hot.ok()) << hot.status().ToString();

  constexpr int kClickers = 6, kClicks = 150, kCreators = 3, kCreates = 30;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<std::string> created;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClickers; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kClicks; ++i) {
        Result<ResolvedLink> r = store->Resolve(hot->code, kNow);
        if (!r.ok() || r->url != "https://hot.example/") ++failures;
      }
    });
  }
  for (int t = 0; t < kCreators; ++t) {
    threads.emplace_back([&, t] {
      const std::string tenant = t % 2 == 0 ? "acme" : "globex";
      for (int i = 0; i < kCreates; ++i) {
        Result<Link> l = store->CreateLink(tenant, {.url = "https://e.com/" + std::to_string(i)}, kNow);
        if (!l.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        created.insert(l->code);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->GetLink("acme", hot->code)->clicks, kClickers * kClicks);
  EXPECT_EQ(created.size(), static_cast<size_t>(kCreators * kCreates)) << "every code distinct";
  EXPECT_EQ(CountRows("SELECT count(*) FROM links"), 1 + kCreators * kCreates);
  const StoreStats stats = store->Stats();
  EXPECT_EQ(stats.pool.in_use, 0);
  EXPECT_EQ(stats.pool.waiting, 0);
  EXPECT_LE(stats.pool.idle, stats.pool.size);
}

TEST_P(LinkStoreTest, PingAndStatsDescribeTheBackend) {
  Result<std::unique_ptr<LinkStore>> opened = Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE((*opened)->Ping().ok());
  EXPECT_STREQ((*opened)->backend(), GetParam() == Backend::kSqlite ? "sqlite" : "postgres");
  const StoreStats stats = (*opened)->Stats();
  EXPECT_EQ(stats.pool.size, 4);
  EXPECT_GE(stats.pool.opened, 1u);
  EXPECT_EQ(stats.pool.timeouts, 0u);
  EXPECT_EQ(stats.db_too_many_clients, 0u);
}

TEST_P(LinkStoreTest, RefusesUnusableOptions) {
  LinkStoreOptions zero_length;
  zero_length.code_length = 0;
  EXPECT_EQ(CauseOf(Open(zero_length)), StorageCause::kInvalidArgument);
  LinkStoreOptions no_attempts;
  no_attempts.max_code_attempts = 0;
  EXPECT_EQ(CauseOf(Open(no_attempts)), StorageCause::kInvalidArgument);
  LinkStoreOptions bad_rules;
  bad_rules.custom_codes.min_length = 10;
  bad_rules.custom_codes.max_length = 5;
  EXPECT_EQ(CauseOf(Open(bad_rules)), StorageCause::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, LinkStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// SQLite-only facts the shared suite cannot see.
TEST(SqliteLinkStore, UsesWalModeAndRefusesInMemoryDatabases) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("scaletwin-wal-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    SqliteStoreOptions db;
    db.path = (dir / "links.db").string();
    auto store = SqliteLinkStore::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
    sqlite3_finalize(s);
    sqlite3_close(raw);
  }
  SqliteStoreOptions memory;
  memory.path = ":memory:";
  EXPECT_EQ(StorageCauseOf(SqliteLinkStore::Open(memory).status()), StorageCause::kInvalidArgument);
  SqliteStoreOptions missing_dir;
  missing_dir.path = (dir / "no" / "such" / "dir.db").string();
  EXPECT_EQ(StorageCauseOf(SqliteLinkStore::Open(missing_dir).status()), StorageCause::kUnavailable);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scaletwin
