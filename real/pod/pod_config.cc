#include "real/pod/pod_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "model/json_reader.h"
#include "model/short_code.h"

namespace scaletwin {
namespace {

constexpr size_t kMaxConfigBytes = 4u << 20;  // a ConfigMap holds at most 1 MiB

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  if (text.size() > kMaxConfigBytes) return Status::InvalidArgument(path + ": larger than 4 MiB");
  return text;
}

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return base_dir + "/" + p;
}

std::string DefaultPodName() {
  if (const char* env = std::getenv("POD_NAME"); env && *env) return env;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) return host;
  return "pod";
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// "host:port" with an IPv4 address, a name, or a bracketed IPv6 literal.
bool ParseListen(const std::string& text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = text.substr(colon + 1);
  if (p.size() > 5) return false;
  for (char c : p)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  port = std::stoi(p);
  return port <= 65535 && !host.empty();
}

void ParseHttp(const nlohmann::json& v, const std::string& path, PodHttpConfig& h, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto x = r.Int("max_header_bytes", 1024, 1 << 20)) h.max_header_bytes = *x;
  if (auto x = r.Int("max_body_bytes", 1024, 64 << 20)) h.max_body_bytes = *x;
  if (auto x = r.Duration("read_timeout", kNanosPerMilli, kMaxDuration)) h.read_timeout = *x;
  if (auto x = r.Duration("write_timeout", kNanosPerMilli, kMaxDuration)) h.write_timeout = *x;
  if (auto x = r.Duration("idle_timeout", kNanosPerMilli, kMaxDuration)) h.idle_timeout = *x;
  if (auto x = r.Int("max_connections", 1, 1'000'000)) h.max_connections = *x;
  r.Finish();
}

void ParseStorage(const nlohmann::json& v, const std::string& path, const std::string& base_dir, PodStorageConfig& s,
                  ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto x = r.Enum("backend", {"sqlite", "postgres"})) s.backend = *x;
  if (auto x = r.String("path")) s.path = *x;
  if (auto x = r.String("url")) s.url = *x;
  if (auto x = r.Int("pool_size", 1, 10'000)) s.pool_size = static_cast<int>(*x);
  if (auto x = r.Duration("acquire_timeout", 0, kMaxDuration)) s.acquire_timeout = *x;
  if (auto x = r.Duration("connect_timeout", kNanosPerMilli, kMaxDuration)) s.connect_timeout = *x;
  if (s.backend == "postgres" && s.url.empty())
    errors.Add(JoinPath(path, "url"), "a libpq connection string for backend postgres", "nothing");
  if (s.backend == "sqlite") {
    if (s.path.empty()) errors.Add(JoinPath(path, "path"), "a file path", "an empty string");
    s.path = Resolve(base_dir, s.path);
  }
  r.Finish();
}

void ParseRedis(const nlohmann::json& v, const std::string& path, PodRedisConfig& c, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto x = r.Bool("enabled")) c.enabled = *x;
  if (auto url = r.String("url")) {
    Status s = ParseRedisUrl(*url, c.host, c.port);
    if (!s.ok()) errors.Add(JoinPath(path, "url"), "redis://host:port", "string \"" + *url + "\"");
  }
  if (auto x = r.Int("pool_size", 1, 10'000)) c.pool_size = static_cast<int>(*x);
  if (auto x = r.Duration("acquire_timeout", 0, kMaxDuration)) c.acquire_timeout = *x;
  if (auto x = r.Duration("connect_timeout", kNanosPerMilli, kMaxDuration)) c.connect_timeout = *x;
  if (auto x = r.Duration("command_timeout", kNanosPerMilli, kMaxDuration)) c.command_timeout = *x;
  r.Finish();
}

void ParseCache(const nlohmann::json& v, const std::string& path, PodCacheConfig& c, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto x = r.Bool("enabled")) c.enabled = *x;
  if (auto x = r.Duration("ttl", 0, kMaxDuration)) c.ttl = *x;  // 0: no TTL of its own
  if (auto x = r.String("key_prefix")) {
    if (x->empty()) errors.Add(JoinPath(path, "key_prefix"), "a non-empty string", "an empty string");
    c.key_prefix = *x;
  }
  r.Finish();
}

void ParseTenants(const nlohmann::json& v, const std::string& path, std::vector<PodTenant>& out, ParseErrors& errors) {
  if (!v.is_array()) {
    errors.Add(path, "an array of tenants", DescribeJson(v));
    return;
  }
  std::set<std::string> ids, hashes;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string tp = JoinPath(path, i);
    ObjectReader r(v[i], tp, errors);
    PodTenant t;
    if (auto id = r.String("id", /*required=*/true)) {
      t.id = *id;
      bool valid = !id->empty() && id->size() <= 64;
      for (char c : *id)
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
      if (!valid) errors.Add(JoinPath(tp, "id"), "1..64 characters of [A-Za-z0-9._-]", "string \"" + *id + "\"");
      if (!ids.insert(*id).second) errors.AddMessage(JoinPath(tp, "id"), "tenant \"" + *id + "\" is listed twice");
    }
    if (const nlohmann::json* keys = r.Get("api_key_sha256")) {
      const std::string kp = JoinPath(tp, "api_key_sha256");
      if (!keys->is_array()) {
        errors.Add(kp, "an array of SHA-256 hex strings", DescribeJson(*keys));
      } else {
        for (size_t k = 0; k < keys->size(); ++k) {
          const auto& h = (*keys)[k];
          std::string hex = h.is_string() ? h.get<std::string>() : "";
          if (!IsHex64(hex)) {
            errors.Add(JoinPath(kp, k), "64 hex digits (the SHA-256 of an API key)", DescribeJson(h));
            continue;
          }
          for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (!hashes.insert(hex).second)
            errors.AddMessage(JoinPath(kp, k), "this key hash is listed twice (keys must be unique across tenants)");
          t.api_key_sha256.push_back(hex);
        }
      }
    }
    if (const nlohmann::json* limit = r.Get("limit")) t.limit = ParseLimit(*limit, JoinPath(tp, "limit"), errors);
    r.Allow("weight");  // a scenario's tenant entry may be copied as is
    r.Finish();
    out.push_back(std::move(t));
  }
}

void ParseJwt(const nlohmann::json& v, const std::string& path, const std::string& base_dir,
              std::optional<PodJwtConfig>& out, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  PodJwtConfig j;
  if (auto x = r.String("secret_file", /*required=*/true)) j.secret_file = Resolve(base_dir, *x);
  if (auto x = r.Enum("algorithm", {"HS256"})) j.algorithm = *x;
  if (auto x = r.String("issuer")) j.issuer = *x;
  if (auto x = r.String("audience")) j.audience = *x;
  if (auto x = r.String("tenant_claim")) j.tenant_claim = *x;
  if (auto x = r.Duration("leeway", 0, 3600 * kNanosPerSecond)) j.leeway = *x;
  if (auto x = r.Bool("require_exp")) j.require_exp = *x;
  r.Finish();
  out = j;
}

void ParseWork(const nlohmann::json& v, const std::string& path, const FileReader& read_file, PodWorkConfig& w,
               ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto m = r.Enum("mode", {"sleep", "spin"}))
    w.mode = *m == "spin" ? PodWorkConfig::Mode::kSpin : PodWorkConfig::Mode::kSleep;
  if (const nlohmann::json* st = r.Get("service_time")) {
    if (auto d = ReadDistribution(*st, JoinPath(path, "service_time"), read_file, errors)) w.service_time = *d;
  }
  if (const nlohmann::json* routes = r.Get("routes")) {
    ObjectReader rr(*routes, JoinPath(path, "routes"), errors);
    for (int i = 0; i < kRouteCount; ++i) {
      const char* name = RouteName(static_cast<Route>(i));
      if (const nlohmann::json* d = rr.Get(name))
        w.routes[i] = ReadDistribution(*d, JoinPath(rr.path(), name), read_file, errors);
    }
    rr.Finish();
  }
  if (auto s = r.Uint64("seed")) w.seed = *s;
  r.Finish();
}

void ParseShutdown(const nlohmann::json& v, const std::string& path, PodShutdownConfig& s, ParseErrors& errors) {
  ObjectReader r(v, path, errors);
  if (auto x = r.Duration("grace_period", 0, 3600 * kNanosPerSecond)) s.grace_period = *x;
  if (auto x = r.Duration("drain_delay", 0, 3600 * kNanosPerSecond)) s.drain_delay = *x;
  if (s.drain_delay > s.grace_period)
    errors.AddMessage(JoinPath(path, "drain_delay"),
                      "must not exceed grace_period (" + FormatDuration(s.grace_period) + ")");
  r.Finish();
}

}  // namespace

bool ParseListenAddress(const std::string& text, std::string& host, int& port) {
  std::string h;
  int p = 0;
  if (!ParseListen(text, h, p)) return false;
  unsigned char addr[sizeof(in6_addr)];
  if (inet_pton(AF_INET, h.c_str(), addr) != 1 && inet_pton(AF_INET6, h.c_str(), addr) != 1) return false;
  host = h;
  port = p;
  return true;
}

Status ParseRedisUrl(const std::string& url, std::string& host, int& port) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return Status::InvalidArgument("expected redis://host:port, found " + url);
  std::string rest = url.substr(kScheme.size());
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    if (rest.substr(slash) != "/" && rest.substr(slash) != "/0")
      return Status::InvalidArgument("only database 0 is supported: " + url);
    rest = rest.substr(0, slash);
  }
  if (rest.find(':') == std::string::npos) rest += ":6379";
  std::string h;
  int p = 0;
  if (!ParseListen(rest, h, p) || p == 0) return Status::InvalidArgument("expected redis://host:port, found " + url);
  host = h;
  port = p;
  return Status::Ok();
}

Result<PodConfig> ParsePodConfig(const nlohmann::json& doc, const std::string& base_dir) {
  ParseErrors errors;
  PodConfig c;
  ObjectReader r(doc, "", errors);
  FileReader read_file = [&](const std::string& p) { return ReadWholeFile(Resolve(base_dir, p)); };
  r.Allow("$schema");
  c.pod = r.String("pod").value_or(DefaultPodName());
  if (auto listen = r.String("listen")) {
    if (!ParseListenAddress(*listen, c.listen_host, c.listen_port))
      errors.Add("/listen", "IP:PORT or [IPv6]:PORT (port 0..65535)", "string \"" + *listen + "\"");
  }
  if (auto x = r.String("public_base_url")) c.public_base_url = *x;
  if (auto x = r.Int("workers", 1, 4096)) c.workers = static_cast<int>(*x);
  if (auto x = r.Int("queue_limit", 0, 1'000'000)) c.queue_limit = *x;
  if (auto x = r.Int("io_threads", 1, 64)) c.io_threads = static_cast<int>(*x);
  if (const auto* v = r.Get("http")) ParseHttp(*v, "/http", c.http, errors);
  if (const auto* v = r.Get("storage"))
    ParseStorage(*v, "/storage", base_dir, c.storage, errors);
  else
    c.storage.path = Resolve(base_dir, c.storage.path);
  if (const auto* v = r.Get("redis")) ParseRedis(*v, "/redis", c.redis, errors);
  if (const auto* v = r.Get("limiter")) c.limiter = ParseLimiter(*v, "/limiter", errors);
  if (const auto* v = r.Get("cache")) ParseCache(*v, "/cache", c.cache, errors);
  if (const auto* v = r.Get("tenants")) ParseTenants(*v, "/tenants", c.tenants, errors);
  if (const auto* v = r.Get("auth")) {
    ObjectReader a(*v, "/auth", errors);
    if (const auto* j = a.Get("jwt")) ParseJwt(*j, "/auth/jwt", base_dir, c.jwt, errors);
    a.Finish();
  }
  if (const auto* v = r.Get("codes")) {
    ObjectReader cr(*v, "/codes", errors);
    if (auto x = cr.Int("length", 4, 32)) c.code_length = static_cast<int>(*x);
    cr.Finish();
  }
  if (const auto* v = r.Get("work")) ParseWork(*v, "/work", read_file, c.work, errors);
  if (const auto* v = r.Get("log")) {
    ObjectReader lr(*v, "/log", errors);
    if (auto x = lr.Enum("level", {"debug", "info", "warn", "error"})) c.log_level = *x;
    lr.Finish();
  }
  if (const auto* v = r.Get("shutdown")) ParseShutdown(*v, "/shutdown", c.shutdown, errors);
  if (const auto* v = r.Get("reload")) {
    ObjectReader rl(*v, "/reload", errors);
    if (auto x = rl.Duration("poll_interval", 10 * kNanosPerMilli, 3600 * kNanosPerSecond)) c.reload_poll_interval = *x;
    rl.Finish();
  }
  r.Finish();
  while (!c.public_base_url.empty() && c.public_base_url.back() == '/') c.public_base_url.pop_back();
  if (!errors.empty()) return errors.ToStatus("pod config");
  return c;
}

std::string PodConfigFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + "/config.json";
  return path;
}

Result<PodConfig> LoadPodConfig(const std::string& path) {
  const std::string file = PodConfigFile(path);
  Result<std::string> text = ReadWholeFile(file);
  if (!text.ok()) return text.status();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument(file + ": not valid JSON");
  const size_t slash = file.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : file.substr(0, slash);
  Result<PodConfig> cfg = ParsePodConfig(doc, base_dir);
  if (!cfg.ok()) return Status::InvalidArgument(file + ": " + cfg.status().message());
  return cfg;
}

std::vector<std::string> RestartOnlyChanges(const PodConfig& a, const PodConfig& b) {
  std::vector<std::string> keys;
  auto check = [&](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  check(a.pod == b.pod, "pod");
  check(a.listen_host == b.listen_host && a.listen_port == b.listen_port, "listen");
  check(a.public_base_url == b.public_base_url, "public_base_url");
  check(a.workers == b.workers, "workers");
  check(a.queue_limit == b.queue_limit, "queue_limit");
  check(a.io_threads == b.io_threads, "io_threads");
  const auto& ha = a.http;
  const auto& hb = b.http;
  check(ha.max_header_bytes == hb.max_header_bytes && ha.max_body_bytes == hb.max_body_bytes &&
            ha.read_timeout == hb.read_timeout && ha.write_timeout == hb.write_timeout &&
            ha.idle_timeout == hb.idle_timeout && ha.max_connections == hb.max_connections,
        "http");
  const auto& sa = a.storage;
  const auto& sb = b.storage;
  check(sa.backend == sb.backend && sa.path == sb.path && sa.url == sb.url && sa.pool_size == sb.pool_size &&
            sa.acquire_timeout == sb.acquire_timeout && sa.connect_timeout == sb.connect_timeout,
        "storage");
  const auto& ra = a.redis;
  const auto& rb = b.redis;
  check(ra.enabled == rb.enabled && ra.host == rb.host && ra.port == rb.port && ra.pool_size == rb.pool_size &&
            ra.acquire_timeout == rb.acquire_timeout && ra.connect_timeout == rb.connect_timeout &&
            ra.command_timeout == rb.command_timeout,
        "redis");
  check(a.cache.enabled == b.cache.enabled && a.cache.key_prefix == b.cache.key_prefix, "cache.enabled");
  check(a.code_length == b.code_length, "codes");
  check(a.shutdown.grace_period == b.shutdown.grace_period && a.shutdown.drain_delay == b.shutdown.drain_delay,
        "shutdown");
  check(a.reload_poll_interval == b.reload_poll_interval, "reload");
  return keys;
}

}  // namespace scaletwin
