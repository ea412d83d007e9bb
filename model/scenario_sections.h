// Section parsers of the scenario loader, one file per capability.
//
// Internal to ParseScenario (scenario.cc): each parser reads its part of the
// document into ctx.s and appends every problem to ctx.errors (JSON-pointer
// paths, never a throw). scenario.cc owns the core sections; this header lets
// capability files (scenario_kubernetes.cc, ...) add theirs without growing
// one file without end.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/json_reader.h"
#include "model/scenario.h"

namespace scaletwin::scenario_internal {

struct ParseContext {
  Scenario& s;
  ParseErrors& errors;
  const FileReader& read_file;
};

// The pod-lifecycle keys of `pods` (startup, readiness_probe, termination,
// cpu_request, cpu_per_busy_worker, slow_pods), read from the section's reader.
void ParsePodLifecycle(ObjectReader& pods, ParseContext& ctx);
// The Kubernetes keys of `ingress` (endpoint_propagation, retries).
void ParseIngressKubernetes(ObjectReader& ingress, ParseContext& ctx);
// Top-level `hpa` and `events`.
void ParseHpa(const nlohmann::json& v, const std::string& path, ParseContext& ctx);
void ParseEvents(const nlohmann::json& v, const std::string& path, ParseContext& ctx);
// Cross-section checks once every section is read (e.g. hpa vs pods.replicas).
void CheckKubernetes(ParseContext& ctx);
// Top-level `redis` and `limiter`; the limit of one tenant; `pools.redis`;
// `pods.clock_skew`; checks across them.
void ParseRedis(const nlohmann::json& v, const std::string& path, ParseContext& ctx);
void ParseLimiterSection(const nlohmann::json& v, const std::string& path, ParseContext& ctx);
void ParseTenantLimit(ObjectReader& tenant, Tenant& t, ParseContext& ctx);
void ParseRedisPoolSection(ObjectReader& pools, ParseContext& ctx);
void ParseClockSkewKey(ObjectReader& pods, ParseContext& ctx);
void CheckLimiter(const ObjectReader& root, ParseContext& ctx);
void ParseCache(const nlohmann::json& v, const std::string& path, ParseContext& ctx);

}  // namespace scaletwin::scenario_internal
