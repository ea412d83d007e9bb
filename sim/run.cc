#include "sim/run.h"

namespace scaletwin::sim {

RunResult Run(const Scenario& scenario, const ProgressFn& progress) {
  World world(scenario);
  return world.Run(progress);
}

}  // namespace scaletwin::sim
