// sim::Run: the simulator's entry point — one scenario in, one RunResult out.
//
// Deterministic: the same scenario (including seed) gives a RunResult whose
// report.json is byte-identical, on any machine with this build.
#pragma once

#include "model/run_result.h"
#include "model/scenario.h"
#include "sim/world.h"

namespace scaletwin::sim {

RunResult Run(const Scenario& scenario, const ProgressFn& progress = nullptr);

}  // namespace scaletwin::sim
