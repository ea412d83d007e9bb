// `scaletwin hpa eval|check`: the Kubernetes HPA algorithm of model/ on its own.
//
// `eval` runs one reconcile from a state file and explains it; `check` runs a
// test-vector file (hpa.md §1) and reports every case that disagrees. Both go
// through the model functions the simulator calls each sync period.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/scenario_file.h"
#include "model/hpa_controller.h"
#include "model/hpa_reconcile_input.h"
#include "model/hpa_vectors.h"

namespace scaletwin::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kHpaUsage = R"(usage: scaletwin hpa <eval|check> ...

  eval STATE.json [--format text|json]   one HPA reconcile from a state file
  check VECTORS.json                     run HPA test vectors (hpa.md §1)

Run `scaletwin hpa eval --help` or `scaletwin hpa check --help` for details.
)";

constexpr const char* kEvalHelp = R"(usage: scaletwin hpa eval STATE.json [--format text|json]

Runs one reconcile of the Kubernetes HorizontalPodAutoscaler controller
(autoscaling/v2, as kube-controller-manager does it) and prints the desired
replicas, each metric's proposal (current value, target, proposed replicas or
error), the recommendation after stabilization, the limit applied and the
conditions (AbleToScale / ScalingActive / ScalingLimited with Kubernetes'
reasons). With --format json it also prints the controller state after the
reconcile (recommendations and scale events, ages in seconds), which can be
pasted into the next state file.

STATE.json is the `controller_reconcile` input of hpa.md §1:
  min_replicas, max_replicas        (or a Kubernetes "spec", see below)
  metrics: [{source: Resource|ContainerResource|Pods|Object|External,
             name (resource or metric name), container (ContainerResource),
             target_type: Utilization|AverageValue|Value,
             target (percent for Utilization, else milli-units),
             value_milli (Object), values_milli (External, summed),
             fails: true (the metrics API call fails)}]
  behavior: null | {scale_up, scale_down: {select_policy, stabilization_window_s,
             policies: [{type: Pods|Percent, value, period_s}], tolerance}}
  spec_replicas, status_replicas (defaults to spec_replicas)
  pods: [{name?, phase, ready, cpu_untrusted, deleting,
          request_milli: n | {resource: n} | null,
          usage_milli: {metric-or-resource name: n}  (absent key = no sample)}]
  recommendations: null (no history: the current size is recorded first) |
                   [{replicas, age_s}]
  scale_up_events, scale_down_events: [{change, age_s}]
  tolerance (0.1), cpu_initialization_period_s (300), initial_readiness_delay_s
  (30), downscale_stabilization_window_s (300), scale_up_limit_factor (2.0),
  scale_up_limit_minimum (4.0) — Kubernetes' production defaults.
Instead of min_replicas/max_replicas/metrics/behavior a state file may give
  "spec": the spec of an autoscaling/v2 HorizontalPodAutoscaler, with
          Kubernetes field names and quantity strings ("500m", "1k"), and
  "metric_values": {name: {value_milli} | {values_milli: [...]} | {fails: true}}
          for its Object/External metrics (and failures of any metric), keyed
          by metric name (resource name for Resource metrics).
Pod readiness flags become the Kubernetes test-fixture timestamps: a
cpu_untrusted pod started now (its CPU sample is not trusted yet); other pods
started one minute before the CPU initialization period ended; a pod that is
not ready has never been ready.

Exit codes: 0 ok, 2 bad input (every error names its JSON pointer).

options)";

constexpr const char* kCheckHelp = R"(usage: scaletwin hpa check VECTORS.json

Runs every test vector of VECTORS.json (the schema of hpa.md §1; kinds
replica_calc, group_pods, stabilize_legacy, stabilize_behavior, legacy_clamp,
policy_limit, rate_limit_behavior, store_scale_events, behavior_defaults,
controller_reconcile) through the model's HPA functions. Prints one line per
disagreeing case (id, expected, actual) and as the last line "N/M cases agree".

Exit codes: 0 all cases agree, 1 some disagree, 2 unreadable or invalid file.

options)";

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, 64u << 20);
  if (!text.ok()) return text.status();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument(path + " is not valid JSON: " + e.what());
  }
}

std::string Percent(double x) {
  std::ostringstream s;
  s << std::setprecision(4) << x;
  return s.str();
}

void PrintDecisionText(const HpaDecision& d) {
  std::cout << "desired replicas: " << d.desired_replicas << " (current " << d.current_replicas
            << (d.rescale ? ", rescale" : ", no change") << ")\n";
  if (!d.rescale_reason.empty() && d.rescale) std::cout << "reason: " << d.rescale_reason << "\n";
  std::cout << "tolerance: scale-down " << Percent(d.tolerances.scale_down) << ", scale-up "
            << Percent(d.tolerances.scale_up) << "\n";
  if (d.proposals.empty()) std::cout << "metrics: not evaluated\n";
  for (const MetricProposal& p : d.proposals) {
    std::cout << "metric " << p.metric << ": target " << p.target << ", ";
    if (!p.ok) {
      std::cout << "error (" << p.failure_reason << "): " << p.error << "\n";
      continue;
    }
    std::string current;
    if (p.proposal.utilization_percent) current += std::to_string(*p.proposal.utilization_percent) + "%";
    if (p.proposal.average_value_milli) {
      current += (current.empty() ? "" : ", average ") + FormatMilli(*p.proposal.average_value_milli);
    }
    if (p.proposal.value_milli) current += (current.empty() ? "" : ", ") + FormatMilli(*p.proposal.value_milli);
    std::cout << "current " << current << ", proposes " << p.proposal.replicas << "\n";
  }
  if (d.metric_replicas) std::cout << "max over metrics: " << *d.metric_replicas << "\n";
  if (d.stabilized_replicas) std::cout << "after stabilization: " << *d.stabilized_replicas << "\n";
  if (!d.limiting_reason.empty()) std::cout << "limits: " << d.limiting_reason << " -> " << d.desired_replicas << "\n";
  if (!d.error.empty()) std::cout << "error: " << d.error << "\n";
  for (const HpaCondition& c : d.conditions) {
    std::cout << "condition " << c.type << "=" << ConditionStatusName(c.status) << " (" << c.reason << ")\n";
  }
}

int EvalCommand(const std::vector<std::string>& args) {
  std::string path, format = "text";
  po::options_description opts(kEvalHelp);
  opts.add_options()("help,h", "show this help")("format", po::value<std::string>(&format), "text (default) or json");
  po::options_description hidden;
  hidden.add_options()("state", po::value<std::string>(&path));
  po::positional_options_description pos;
  pos.add("state", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (path.empty()) {
    std::cerr << "scaletwin hpa eval: a state file is required\n\n" << opts;
    return kExitBadInput;
  }
  if (format != "text" && format != "json") {
    std::cerr << "scaletwin hpa eval: --format must be text or json, not \"" << format << "\"\n";
    return kExitBadInput;
  }
  Result<nlohmann::json> doc = ReadJsonFile(path);
  if (!doc.ok()) {
    std::cerr << "scaletwin hpa eval: " << doc.status().message() << "\n";
    return kExitBadInput;
  }
  ParseErrors errors;
  std::optional<ReconcileInput> in = ParseReconcileInput(*doc, "", errors);
  if (!in) {
    std::cerr << "scaletwin hpa eval: " << errors.ToStatus(path).message() << "\n";
    return kExitBadInput;
  }
  HpaReconcileResult r = ReconcileHpa(in->spec, in->options, in->observation, in->state, in->now);
  if (format == "json") {
    nlohmann::json out = DecisionToJson(r.decision);
    out["state_after"] = StateToJson(r.state, in->now);
    std::cout << out.dump(2) << "\n";
  } else {
    PrintDecisionText(r.decision);
  }
  return kExitOk;
}

int CheckCommand(const std::vector<std::string>& args) {
  std::string path;
  po::options_description opts(kCheckHelp);
  opts.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("vectors", po::value<std::string>(&path));
  po::positional_options_description pos;
  pos.add("vectors", 1);
  po::variables_map vm;
  if (int code = ParseOptions(args, opts, hidden, pos, vm); code >= 0) return code;
  if (path.empty()) {
    std::cerr << "scaletwin hpa check: a vector file is required\n\n" << opts;
    return kExitBadInput;
  }
  Result<nlohmann::json> doc = ReadJsonFile(path);
  if (!doc.ok()) {
    std::cerr << "scaletwin hpa check: " << doc.status().message() << "\n";
    return kExitBadInput;
  }
  Result<std::vector<VectorOutcome>> outcomes = RunHpaVectors(*doc);
  if (!outcomes.ok()) {
    std::cerr << "scaletwin hpa check: " << path << ": " << outcomes.status().message() << "\n";
    return kExitBadInput;
  }
  size_t agree = 0;
  for (const VectorOutcome& o : *outcomes) {
    if (o.agree) {
      ++agree;
      continue;
    }
    std::cout << o.id << ": expected " << o.expected.dump() << ", actual " << o.actual.dump() << "\n";
  }
  std::cout << agree << "/" << outcomes->size() << " cases agree\n";
  return agree == outcomes->size() ? kExitOk : kExitFailed;
}

}  // namespace

int HpaCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kHpaUsage;
    return kExitBadInput;
  }
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "eval") return EvalCommand(rest);
  if (sub == "check") return CheckCommand(rest);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kHpaUsage;
    return kExitOk;
  }
  std::cerr << "scaletwin hpa: unknown subcommand \"" << sub << "\"\n\n" << kHpaUsage;
  return kExitBadInput;
}

}  // namespace scaletwin::cli
