#include "model/scenario.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "model/json_reader.h"
#include "model/scenario_sections.h"

namespace scaletwin {

const char* RouteName(Route r) {
  switch (r) {
    case Route::kRedirect: return "redirect";
    case Route::kCreate: return "create";
    case Route::kGetLink: return "get_link";
    case Route::kDeleteLink: return "delete_link";
  }
  return "?";
}

std::optional<Route> RouteFromName(std::string_view name) {
  for (int i = 0; i < kRouteCount; ++i) {
    if (name == RouteName(static_cast<Route>(i))) return static_cast<Route>(i);
  }
  return std::nullopt;
}

const char* IngressPolicyName(IngressPolicy p) {
  switch (p) {
    case IngressPolicy::kRoundRobin: return "round_robin";
    case IngressPolicy::kRandom: return "random";
    case IngressPolicy::kLeastRequest: return "least_request";
    case IngressPolicy::kEwma: return "ewma";
  }
  return "?";
}

namespace {

constexpr double kMaxQps = 10'000'000;
constexpr Nanos kMaxRunDuration = 7 * 24 * 3600 * kNanosPerSecond;

using scenario_internal::ParseContext;

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void ParseTenants(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  if (!v.is_array() || v.empty() || v.size() > 10'000) {
    ctx.errors.Add(path, "a non-empty array of tenants", DescribeJson(v));
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), ctx.errors);
    Tenant t;
    if (auto id = r.String("id", true)) {
      if (!ValidId(*id)) {
        ctx.errors.Add(JoinPath(r.path(), "id"), "1-64 letters, digits, '-', '_' or '.'", DescribeJson(v[i]["id"]));
      } else if (std::any_of(ctx.s.tenants.begin(), ctx.s.tenants.end(), [&](const Tenant& o) { return o.id == *id; })) {
        ctx.errors.AddMessage(JoinPath(r.path(), "id"), "duplicate tenant id \"" + *id + "\"");
      }
      t.id = *id;
    }
    t.weight = r.Number("weight", 0, 1e9).value_or(1);
    scenario_internal::ParseTenantLimit(r, t, ctx);
    r.Finish();
    ctx.s.tenants.push_back(std::move(t));
  }
  double total = 0;
  for (const Tenant& t : ctx.s.tenants) total += t.weight;
  if (total <= 0) ctx.errors.AddMessage(path, "tenant weights sum to 0; at least one must be positive");
}

void ParseRatePoints(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  if (!v.is_array() || v.empty() || v.size() > 100'000) {
    ctx.errors.Add(path, "a non-empty array of {\"at\", \"qps\", \"ramp\"}", DescribeJson(v));
    return;
  }
  std::vector<RatePoint> points;
  Nanos free_from = 0;  // earliest time the next point may start
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), ctx.errors);
    RatePoint p;
    auto at = r.Duration("at", 0, kMaxRunDuration, true);
    auto qps = r.Number("qps", 0, kMaxQps, true);
    p.ramp = r.Duration("ramp", 0, kMaxRunDuration).value_or(0);
    r.Finish();
    if (!at || !qps) continue;
    p.at = *at;
    p.qps = *qps;
    if (p.at < free_from) {
      ctx.errors.AddMessage(JoinPath(r.path(), "at"),
                            "points must be in time order and not inside the previous ramp (this one starts at " +
                                FormatDuration(p.at) + ", the previous ends at " + FormatDuration(free_from) + ")");
    }
    free_from = p.at + p.ramp;
    points.push_back(p);
  }
  ctx.s.traffic.profile = RateProfile::FromPoints(points);
}

void ParseSpike(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  SpikeShape s;
  s.base_qps = r.Number("base_qps", 0, kMaxQps, true).value_or(0);
  s.peak_qps = r.Number("peak_qps", 0, kMaxQps, true).value_or(0);
  s.at = r.Duration("at", 0, kMaxRunDuration, true).value_or(0);
  s.ramp_up = r.Duration("ramp_up", 0, kMaxRunDuration).value_or(0);
  s.hold = r.Duration("hold", 0, kMaxRunDuration, true).value_or(0);
  s.ramp_down = r.Duration("ramp_down", 0, kMaxRunDuration).value_or(0);
  r.Finish();
  ctx.s.traffic.profile = RateProfile::FromSpike(s);
}

void ParseDiurnal(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  DiurnalShape d;
  d.mean_qps = r.Number("mean_qps", 0, kMaxQps, true).value_or(0);
  d.amplitude = r.Number("amplitude", 0, 1).value_or(0.5);
  d.period = r.Duration("period", kNanosPerSecond, kMaxRunDuration).value_or(d.period);
  d.phase = r.Duration("phase", 0, kMaxRunDuration).value_or(0);
  r.Finish();
  ctx.s.traffic.profile = RateProfile::FromDiurnal(d);
}

// Trace lines: "<seconds> [tenant] [route]", separated by spaces, tabs or commas.
void ParseTraceText(const std::string& text, const std::string& path, ParseContext& ctx) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  Nanos last = 0;
  bool first_row = true;
  auto bad = [&](const std::string& msg) { ctx.errors.AddMessage(path, "line " + std::to_string(line_no) + ": " + msg); };
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    std::string ts, tenant, route, extra;
    if (!(fields >> ts)) continue;
    const bool header = first_row && !std::isdigit(static_cast<unsigned char>(ts[0])) && ts[0] != '.';
    first_row = false;
    if (header) continue;  // e.g. "time,tenant,route"
    fields >> tenant >> route >> extra;
    char* end = nullptr;
    const double seconds = std::strtod(ts.c_str(), &end);
    if (end != ts.c_str() + ts.size() || !(seconds >= 0) || seconds > ToSeconds(kMaxRunDuration)) {
      bad("expected a time in seconds from run start, found \"" + ts + "\"");
      return;
    }
    TraceArrival a;
    a.time = static_cast<Nanos>(std::llround(seconds * kNanosPerSecond));
    if (a.time < last) {
      bad("times must not decrease (" + ts + " s comes after " + std::to_string(ToSeconds(last)) + " s)");
      return;
    }
    last = a.time;
    if (!tenant.empty() && tenant != "-") {
      auto it = std::find_if(ctx.s.tenants.begin(), ctx.s.tenants.end(), [&](const Tenant& t) { return t.id == tenant; });
      if (it == ctx.s.tenants.end()) {
        bad("unknown tenant \"" + tenant + "\" (declare it in /tenants)");
        return;
      }
      a.tenant = static_cast<int>(it - ctx.s.tenants.begin());
    }
    if (!route.empty() && route != "-") {
      auto r = RouteFromName(route);
      if (!r) {
        bad("unknown route \"" + route + "\" (redirect, create, get_link, delete_link)");
        return;
      }
      a.route = static_cast<int>(*r);
    }
    if (!extra.empty()) {
      bad("expected at most three fields (time, tenant, route), found \"" + extra + "\"");
      return;
    }
    ctx.s.traffic.trace.push_back(a);
  }
  if (ctx.s.traffic.trace.empty()) ctx.errors.AddMessage(path, "the trace file holds no arrivals");
}

void ParseTraffic(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  Traffic& t = ctx.s.traffic;
  std::string arrivals = r.Enum("arrivals", {"poisson", "uniform", "trace"}).value_or("poisson");
  t.arrivals = arrivals == "poisson" ? ArrivalProcess::kPoisson
               : arrivals == "uniform" ? ArrivalProcess::kUniform
                                       : ArrivalProcess::kTrace;
  const nlohmann::json* rate = r.Get("rate");
  const nlohmann::json* spike = r.Get("spike");
  const nlohmann::json* diurnal = r.Get("diurnal");
  const nlohmann::json* trace = r.Get("trace_file");
  const int shapes = (rate != nullptr) + (spike != nullptr) + (diurnal != nullptr);
  if (t.arrivals == ArrivalProcess::kTrace) {
    if (shapes) ctx.errors.AddMessage(path, "\"arrivals\": \"trace\" takes its times from \"trace_file\"; remove rate/spike/diurnal");
    if (!trace) {
      ctx.errors.AddMessage(JoinPath(path, "trace_file"), "required with \"arrivals\": \"trace\" (a file of arrival times)");
    } else if (!trace->is_string()) {
      ctx.errors.Add(JoinPath(path, "trace_file"), "a file name", DescribeJson(*trace));
    } else {
      Result<std::string> text = ctx.read_file(trace->get<std::string>());
      if (!text.ok()) ctx.errors.AddMessage(JoinPath(path, "trace_file"), text.status().message());
      else ParseTraceText(*text, JoinPath(path, "trace_file"), ctx);
    }
  } else {
    if (trace) ctx.errors.AddMessage(JoinPath(path, "trace_file"), "only used with \"arrivals\": \"trace\"");
    if (shapes != 1) {
      ctx.errors.AddMessage(path, "exactly one of \"rate\", \"spike\" or \"diurnal\" is required, found " +
                                      std::to_string(shapes));
    } else if (rate) {
      ParseRatePoints(*rate, JoinPath(path, "rate"), ctx);
    } else if (spike) {
      ParseSpike(*spike, JoinPath(path, "spike"), ctx);
    } else {
      ParseDiurnal(*diurnal, JoinPath(path, "diurnal"), ctx);
    }
  }
  if (const nlohmann::json* mix = r.Get("mix")) {
    ObjectReader m(*mix, JoinPath(path, "mix"), ctx.errors);
    double total = 0;
    for (int i = 0; i < kRouteCount; ++i) {
      t.mix[i] = m.Number(RouteName(static_cast<Route>(i)), 0, 1e9).value_or(0);
      total += t.mix[i];
    }
    m.Finish();
    if (m.valid() && total <= 0) {
      ctx.errors.AddMessage(JoinPath(path, "mix"), "route weights sum to 0; at least one must be positive");
    } else if (total > 0) {
      for (double& w : t.mix) w /= total;
    }
  }
  r.Finish();
}

void ParseIngress(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  if (auto p = r.Enum("policy", {"round_robin", "random", "least_request", "ewma"})) {
    for (IngressPolicy policy : {IngressPolicy::kRoundRobin, IngressPolicy::kRandom, IngressPolicy::kLeastRequest,
                                 IngressPolicy::kEwma}) {
      if (*p == IngressPolicyName(policy)) ctx.s.ingress.policy = policy;
    }
  }
  ctx.s.ingress.ewma_decay = r.Duration("ewma_decay", kNanosPerMilli, 3600 * kNanosPerSecond).value_or(ctx.s.ingress.ewma_decay);
  scenario_internal::ParseIngressKubernetes(r, ctx);
  r.Finish();
}

void ParsePods(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  PodSpec& p = ctx.s.pods;
  p.replicas = static_cast<int>(r.Int("replicas", 1, 10'000).value_or(1));
  p.workers = static_cast<int>(r.Int("workers", 1, 100'000).value_or(1));
  if (const nlohmann::json* q = r.Get("queue")) {
    if (q->is_string() && q->get<std::string>() == "unbounded") {
      p.queue_limit = -1;
    } else if (q->is_number() && q->get<double>() >= 0 && q->get<double>() <= 100'000'000 &&
               std::nearbyint(q->get<double>()) == q->get<double>()) {
      p.queue_limit = static_cast<int64_t>(q->get<double>());
    } else {
      ctx.errors.Add(JoinPath(path, "queue"), "an integer in [0, 100000000] or \"unbounded\"", DescribeJson(*q));
    }
  } else {
    p.queue_limit = -1;
  }
  if (const nlohmann::json* st = r.Get("service_time")) {
    if (auto d = ReadDistribution(*st, JoinPath(path, "service_time"), ctx.read_file, ctx.errors)) p.service_time = *d;
  }
  if (const nlohmann::json* routes = r.Get("route_service_time")) {
    ObjectReader rr(*routes, JoinPath(path, "route_service_time"), ctx.errors);
    for (int i = 0; i < kRouteCount; ++i) {
      const char* name = RouteName(static_cast<Route>(i));
      if (const nlohmann::json* d = rr.Get(name)) {
        p.route_service_time[i] = ReadDistribution(*d, JoinPath(rr.path(), name), ctx.read_file, ctx.errors);
      }
    }
    rr.Finish();
  }
  scenario_internal::ParsePodLifecycle(r, ctx);
  scenario_internal::ParseClockSkewKey(r, ctx);
  r.Finish();
}

void ParseExpect(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  if (!v.is_array()) {
    ctx.errors.Add(path, "an array of {\"metric\", \"min\", \"max\"}", DescribeJson(v));
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    ObjectReader r(v[i], JoinPath(path, i), ctx.errors);
    Expectation e;
    e.metric = r.String("metric", true).value_or("");
    e.min = r.Number("min", -1e300, 1e300);
    e.max = r.Number("max", -1e300, 1e300);
    e.description = r.String("description").value_or("");
    r.Finish();
    if (r.valid() && !e.min && !e.max) ctx.errors.AddMessage(r.path(), "an expectation needs \"min\", \"max\" or both");
    if (e.min && e.max && *e.min > *e.max) ctx.errors.Add(JoinPath(r.path(), "max"), "max >= min", DescribeJson(v[i]["max"]));
    ctx.s.expect.push_back(std::move(e));
  }
}

// Default query times: an indexed read ~0.5 ms median, a write ~2 ms (local PostgreSQL 15).
DurationDistribution DefaultQueryTime(Route r) {
  const bool write = r == Route::kCreate || r == Route::kDeleteLink;
  return write ? DurationDistribution::Lognormal(2 * kNanosPerMilli, 10 * kNanosPerMilli)
               : DurationDistribution::Lognormal(kNanosPerMilli / 2, 5 * kNanosPerMilli);
}

void ParseDatabase(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  DatabaseSpec d;
  d.max_connections = static_cast<int>(r.Int("max_connections", 1, 262'143).value_or(d.max_connections));
  d.superuser_reserved_connections = static_cast<int>(
      r.Int("superuser_reserved_connections", 0, 262'143).value_or(d.superuser_reserved_connections));
  d.max_active_queries = static_cast<int>(r.Int("max_active_queries", 1, 100'000).value_or(d.max_active_queries));
  for (int i = 0; i < kRouteCount; ++i) d.query_time[i] = DefaultQueryTime(static_cast<Route>(i));
  if (const nlohmann::json* qt = r.Get("query_time")) {
    ObjectReader q(*qt, JoinPath(path, "query_time"), ctx.errors);
    for (int i = 0; i < kRouteCount; ++i) {
      const char* name = RouteName(static_cast<Route>(i));
      if (const nlohmann::json* dist = q.Get(name)) {
        if (auto parsed = ReadDistribution(*dist, JoinPath(q.path(), name), ctx.read_file, ctx.errors)) {
          d.query_time[i] = *parsed;
        }
      }
    }
    q.Finish();
  }
  if (r.valid() && d.superuser_reserved_connections >= d.max_connections) {
    ctx.errors.AddMessage(JoinPath(path, "superuser_reserved_connections"),
                          "must be below max_connections (PostgreSQL refuses to start otherwise)");
  }
  r.Finish();
  ctx.s.database = d;
}

void ParsePools(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  if (const nlohmann::json* pg = r.Get("postgres")) {
    ObjectReader p(*pg, JoinPath(path, "postgres"), ctx.errors);
    PoolConfig& c = ctx.s.postgres_pool;
    c.size = static_cast<int>(p.Int("size", 1, 100'000).value_or(c.size));
    c.min_idle = static_cast<int>(p.Int("min_idle", 0, 100'000).value_or(c.min_idle));
    c.acquire_timeout = p.Duration("acquire_timeout", 0, 3600 * kNanosPerSecond).value_or(c.acquire_timeout);
    c.connect_time = p.Duration("connect_time", kNanosPerMicro, 60 * kNanosPerSecond).value_or(c.connect_time);
    if (p.valid() && c.min_idle > c.size) {
      ctx.errors.AddMessage(JoinPath(p.path(), "min_idle"), "must not exceed size (" + std::to_string(c.size) + ")");
    }
    p.Finish();
  }
  scenario_internal::ParseRedisPoolSection(r, ctx);
  r.Finish();
}

void ParseRoutes(const nlohmann::json& v, const std::string& path, ParseContext& ctx) {
  ObjectReader r(v, path, ctx.errors);
  for (int i = 0; i < kRouteCount; ++i) {
    const char* name = RouteName(static_cast<Route>(i));
    const nlohmann::json* route = r.Get(name);
    if (!route) continue;
    ObjectReader w(*route, JoinPath(path, name), ctx.errors);
    RouteWork& work = ctx.s.routes[i];
    work.db_queries = static_cast<int>(w.Int("db_queries", 0, 1000).value_or(work.db_queries));
    work.cache_hit_ratio = w.Number("cache_hit_ratio", 0, 1).value_or(work.cache_hit_ratio);
    w.Finish();
  }
  r.Finish();
}

using SectionParser = void (*)(const nlohmann::json&, const std::string&, ParseContext&);

// Top-level sections in parse order (tenants before traffic: traces name tenants).
// A new capability adds its section here.
const std::vector<std::pair<const char*, SectionParser>>& SectionParsers() {
  static const std::vector<std::pair<const char*, SectionParser>> kParsers = {
      {"tenants", ParseTenants}, {"traffic", ParseTraffic}, {"ingress", ParseIngress},
      {"pods", ParsePods},       {"database", ParseDatabase}, {"redis", scenario_internal::ParseRedis},
      {"limiter", scenario_internal::ParseLimiterSection},      {"cache", scenario_internal::ParseCache},
      {"pools", ParsePools},
      {"routes", ParseRoutes},   {"hpa", scenario_internal::ParseHpa},
      {"events", scenario_internal::ParseEvents}, {"expect", ParseExpect},
  };
  return kParsers;
}

}  // namespace

Result<Scenario> ParseScenario(const nlohmann::json& doc, const FileReader& read_file) {
  Scenario s;
  ParseErrors errors;
  ObjectReader r(doc, "", errors);
  if (!r.valid()) return errors.ToStatus("scenario");
  r.Allow("$schema");
  if (auto version = r.Int("version", 0, 1'000'000, true); version && *version != kScenarioVersion) {
    errors.Add("/version", "version " + std::to_string(kScenarioVersion) + " (the only format this scaletwin reads)",
               DescribeJson(doc["version"]));
  }
  if (auto name = r.String("name", true)) {
    if (!ValidId(*name)) errors.Add("/name", "1-64 letters, digits, '-', '_' or '.'", DescribeJson(doc["name"]));
    s.name = *name;
  }
  s.description = r.String("description").value_or("");
  s.seed = r.Uint64("seed").value_or(1);
  s.duration = r.Duration("duration", kNanosPerMilli, kMaxRunDuration, true).value_or(0);
  s.warmup = r.Duration("warmup", 0, kMaxRunDuration).value_or(0);
  s.drain = r.Duration("drain", 0, kMaxRunDuration).value_or(s.drain);
  s.series_interval = r.Duration("series_interval", kNanosPerMilli, 3600 * kNanosPerSecond).value_or(kNanosPerSecond);
  if (s.duration > 0 && s.warmup >= s.duration) {
    errors.Add("/warmup", "a warmup shorter than the duration (" + FormatDuration(s.duration) + ")",
               DescribeJson(doc["warmup"]));
  }
  if (s.duration > 0 && s.duration / s.series_interval > 1'000'000) {
    errors.AddMessage("/series_interval", "more than 1000000 intervals; choose a longer series_interval");
  }

  // The implicit tenant exists before traffic is parsed, so traces may name it.
  if (!r.Has("tenants")) s.tenants.push_back({"default", 1});
  ParseContext ctx{s, errors, read_file};
  for (const auto& [key, parse] : SectionParsers()) {
    if (const nlohmann::json* section = r.Get(key)) parse(*section, JoinPath("", key), ctx);
  }
  if (!r.Has("traffic")) errors.AddMessage("/traffic", "required section is missing");
  if (!s.database && r.Has("routes")) {
    errors.AddMessage("/routes", "route work only matters with a \"database\" section; add one or remove this");
  }
  if (!s.database && r.Has("pools") && doc["pools"].is_object() && doc["pools"].contains("postgres")) {
    errors.AddMessage("/pools/postgres", "a PostgreSQL pool only matters with a \"database\" section; add one or remove this");
  }
  scenario_internal::CheckLimiter(r, ctx);
  scenario_internal::CheckKubernetes(ctx);
  r.Finish();
  if (!errors.empty()) return errors.ToStatus("scenario");
  s.source = doc;
  return s;
}

Status ApplyOverride(nlohmann::json& doc, const std::string& path, const std::string& value) {
  if (path.empty()) return Status::InvalidArgument("--set needs path=value, e.g. pods.workers=12");
  nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) parsed = value;
  nlohmann::json* node = &doc;
  std::stringstream parts(path);
  std::string part;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) keys.push_back(part);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    if (k.empty()) return Status::InvalidArgument("--set " + path + ": empty path component");
    const bool last = i + 1 == keys.size();
    if (node->is_array()) {
      char* end = nullptr;
      const unsigned long idx = std::strtoul(k.c_str(), &end, 10);
      if (*end != '\0' || idx >= node->size()) {
        return Status::InvalidArgument("--set " + path + ": \"" + k + "\" is not an index of an array of " +
                                       std::to_string(node->size()));
      }
      node = &(*node)[idx];
    } else {
      if (node->is_null()) *node = nlohmann::json::object();
      if (!node->is_object()) {
        return Status::InvalidArgument("--set " + path + ": cannot descend into " + DescribeJson(*node) + " at \"" + k + "\"");
      }
      node = &(*node)[k];
    }
    if (last) *node = parsed;
  }
  return Status::Ok();
}

}  // namespace scaletwin
