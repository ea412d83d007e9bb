// The Redis-limiter sections of a scenario: `redis`, `limiter`, each tenant's
// `limit`, the pods' Redis pool (`pools.redis`) and clock skew
// (`pods.clock_skew`). The value parsers live with their types
// (model/limiter_config.h, model/scenario_redis.h); this file places them in
// the document and checks how they fit together: the limiter is on exactly
// when some tenant has a limit.
#include "model/scenario_sections.h"

namespace scaletwin {

bool Scenario::has_limiter() const {
  for (const Tenant& t : tenants) {
    if (t.limit) return true;
  }
  return false;
}

namespace scenario_internal {

void ParseRedis(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  // Keep what other sections own (pools.redis, events) across the parse.
  RedisPoolSpec client = ctx.s.redis.client;
  std::vector<RedisEvent> events = std::move(ctx.s.redis.events);
  ctx.s.redis = ParseRedisSection(v, path, ctx.read_file, ctx.errors);
  ctx.s.redis.client = client;
  ctx.s.redis.events = std::move(events);
}

void ParseLimiterSection(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ctx.s.limiter = ParseLimiter(v, path, ctx.errors);
}

void ParseTenantLimit(ObjectReader& tenant, Tenant& t, ParseContext& ctx) {
  if (const nlohmann::json* limit = tenant.Get("limit")) {
    t.limit = ParseLimit(*limit, JoinPath(tenant.path(), "limit"), ctx.errors);
  }
}

void ParseRedisPoolSection(ObjectReader& pools, ParseContext& ctx) {
  if (const nlohmann::json* redis = pools.Get("redis")) {
    ctx.s.redis.client = ParseRedisPool(*redis, JoinPath(pools.path(), "redis"), ctx.errors);
  }
}

void ParseClockSkewKey(ObjectReader& pods, ParseContext& ctx) {
  if (const nlohmann::json* skew = pods.Get("clock_skew")) {
    ctx.s.pods.clock_skew = ParseClockSkew(*skew, JoinPath(pods.path(), "clock_skew"), ctx.errors);
  }
}

void ParseCache(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  LinkCacheSpec c;
  c.keys = r.Int("keys", 1, 100'000'000).value_or(c.keys);
  c.value_bytes = static_cast<int>(r.Int("value_bytes", 1, 1'000'000).value_or(c.value_bytes));
  if (const nlohmann::json* ttl = r.Get("ttl")) {
    if (ttl->is_string() && ttl->get<std::string>() == "none") {
      c.ttl = 0;
    } else if (auto d = ReadDuration(*ttl, JoinPath(path, "ttl"), kNanosPerMilli, 30LL * 24 * 3600 * kNanosPerSecond, ctx.errors)) {
      c.ttl = *d;
    }
  }
  if (auto prefix = r.String("key_prefix")) c.key_prefix = *prefix;
  r.Finish();
  ctx.s.cache = c;
}

void CheckLimiter(const ObjectReader& root, ParseContext& ctx) {
  if (ctx.s.uses_redis()) return;
  // Limiter settings with nothing to limit are a mistake, not a no-op.
  for (const char* key : {"limiter", "redis"}) {
    if (root.Has(key)) {
      ctx.errors.AddMessage(std::string("/") + key,
                            "no tenant has a \"limit\" and there is no \"cache\": nothing uses Redis; remove this section");
    }
  }
  if (ctx.s.redis.events.size() > 0) {
    ctx.errors.AddMessage("/events", "Redis events need the Redis limiter: give a tenant a \"limit\"");
  }
}

}  // namespace scenario_internal
}  // namespace scaletwin
