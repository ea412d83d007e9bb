#!/usr/bin/env python3
"""The scenario JSON Schema and the loader agree.

usage: python3 schema_test.py SCENARIO_DIR [SCALETWIN]

Checks that scenario.schema.json is a valid draft 2020-12 schema; that every
scenario file (SCENARIO_DIR/*.json, examples/*.json) and every complete
scenario in README.md's ```json blocks validates; that a set of deliberately
bad documents is rejected. With SCALETWIN (the CLI binary), also checks that
`scaletwin validate` agrees on each document (exit 0 for schema-valid, 2 for
schema-invalid, naming the offending JSON pointer), and that the documented
gaps -- rules only the loader can check (duration ranges, time order,
uniqueness, min <= max, files) -- are rejected by the loader.

Needs python3-jsonschema (Debian) or `pip install jsonschema` (>= 4.0).
Prints one line per failure and "N passed, M failed"; exits 1 on any failure.
"""

import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("schema_test.py: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(1)

# A small valid base that each case edits.
BASE = {
    "version": 1,
    "name": "case",
    "duration": "10s",
    "traffic": {"rate": [{"at": "0s", "qps": 5}]},
}

# Side files the documents below name, written beside them in the temp dir.
AUX_FILES = {
    "trace.csv": "seconds,tenant,route\n0.5,acme,redirect\n1.0,-,create\n1.5\n# comment\n2.0\tacme\t-\n20,acme,redirect\n",
    "samples.txt": "# ms or durations\n4\n5.5ms\n1200us\n",
}


def doc(**fields):
    """BASE with top-level fields replaced (None deletes one)."""
    d = copy.deepcopy(BASE)
    for key, value in fields.items():
        if value is None:
            del d[key]
        else:
            d[key] = value
    return d


def at(path, value):
    """BASE with the value at a dotted path ("traffic.rate.0.at") replaced (None deletes it)."""
    d = copy.deepcopy(BASE)
    keys = path.split(".")
    node = d
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    last = int(keys[-1]) if isinstance(node, list) else keys[-1]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return d


def dist(d):
    return doc(pods={"service_time": d})


# (name, document) pairs the schema and the loader both accept.
GOOD = [
    ("base", doc()),
    ("with $schema", at("$schema", "./scenario.schema.json")),
    ("all top-level fields", doc(description="d", seed=0, warmup="1s", drain="0s", series_interval="250ms",
                                 ingress={"policy": "random"}, expect=[])),
    ("largest seed", doc(seed=18446744073709551615)),
    ("integer written as 4.0", doc(pods={"replicas": 4.0, "workers": 2})),
    ("duration .5s", doc(duration=".5s")),
    ("duration 5.s", doc(duration="5.s")),
    ("duration in µs", doc(duration="2500000µs")),
    ("duration in us", doc(duration="2500000us")),
    ("duration in minutes", doc(duration="1.5m", warmup="30s")),
    ("ramped rate points", doc(traffic={"arrivals": "uniform", "rate": [
        {"at": "1s", "qps": 10, "ramp": "2s"}, {"at": "3s", "qps": 0}, {"at": "5s", "qps": 7.5, "ramp": "0s"}]})),
    ("spike minimal", doc(traffic={"spike": {"base_qps": 1, "peak_qps": 9, "at": "2s", "hold": "1s"}})),
    ("spike full", doc(traffic={"arrivals": "poisson", "spike": {
        "base_qps": 1, "peak_qps": 9, "at": "0s", "ramp_up": "1s", "hold": "0s", "ramp_down": "2s"}})),
    ("diurnal minimal", doc(traffic={"diurnal": {"mean_qps": 3}})),
    ("diurnal full", doc(traffic={"arrivals": "uniform", "diurnal": {
        "mean_qps": 3, "amplitude": 1, "period": "1s", "phase": "0.25s"}})),
    ("trace", doc(tenants=[{"id": "acme"}], traffic={"arrivals": "trace", "trace_file": "trace.csv"})),
    ("mix one route", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "mix": {"create": 1}})),
    ("mix all routes", doc(traffic={"rate": [{"at": "0s", "qps": 5}],
                                    "mix": {"redirect": 0, "create": 2, "get_link": 3, "delete_link": 1e9}})),
    ("tenants, one weight 0", doc(tenants=[{"id": "a.b-c_1", "weight": 0}, {"id": "z"}])),
    ("queue 0", doc(pods={"queue": 0})),
    ("queue unbounded", doc(pods={"queue": "unbounded"})),
    ("queue largest", doc(pods={"queue": 100000000, "replicas": 10000, "workers": 100000})),
    ("dist constant 0s", dist({"dist": "constant", "value": "0s"})),
    ("dist exponential", dist({"dist": "exponential", "mean": "1ns"})),
    ("dist uniform equal", dist({"dist": "uniform", "min": "5ms", "max": "5ms"})),
    ("dist lognormal", dist({"dist": "lognormal", "p50": "8ms", "p99": "1h"})),
    ("dist empirical samples", dist({"dist": "empirical", "samples": ["0s", "1ms", "2.5ms"]})),
    ("dist empirical file", dist({"dist": "empirical", "file": "samples.txt"})),
    ("route service times", doc(pods={"route_service_time": {
        "redirect": {"dist": "constant", "value": "1ms"}, "create": {"dist": "exponential", "mean": "9ms"},
        "get_link": {"dist": "uniform", "min": "1ms", "max": "3ms"},
        "delete_link": {"dist": "lognormal", "p50": "2ms", "p99": "9ms"}}})),
    ("expect min only, max only, both", doc(expect=[
        {"metric": "summary.latency_ms.p99", "max": 100, "description": "why"},
        {"metric": "tenants.default.rejected", "min": 0}, {"metric": "series.offered.3", "min": -1e300, "max": 1e300}])),
]

# (name, document, JSON pointer the loader must name) the schema and the loader both reject.
BAD = [
    ("not an object", [1, 2], "/"),
    ("unknown top-level key", doc(podz={}), "/podz"),
    ("hpa without spec", doc(hpa={}), "/hpa/spec"),
    ("unknown limiter algorithm", doc(tenants=[{"id": "a", "limit": {"requests": 5, "window": "1s"}}],
                                      limiter={"algorithm": "leaky"}), "/limiter/algorithm"),
    ("limit without window", doc(tenants=[{"id": "a", "limit": {"requests": 5}}]), "/tenants/0/limit/window"),
    ("unknown key in redis", doc(tenants=[{"id": "a", "limit": {"requests": 5, "window": "1s"}}],
                                 redis={"maxmemory_polcy": "allkeys-lru"}), "/redis/maxmemory_polcy"),
    ("hpa spec without maxReplicas", doc(hpa={"spec": {"minReplicas": 1}}), "/hpa/spec/maxReplicas"),
    ("unknown key in hpa", doc(hpa={"spec": {"maxReplicas": 3}, "controler": {}}), "/hpa/controler"),
    ("unknown event kind", doc(events=[{"at": "1s", "kind": "pod_explode"}]), "/events/0/kind"),
    ("unknown retry condition", doc(ingress={"retries": {"on": ["http_504"]}}), "/ingress/retries/on/0"),
    ("retry tries beyond 8", doc(ingress={"retries": {"tries": 9}}), "/ingress/retries/tries"),
    ("unknown startup stage", doc(pods={"startup": {"boto": {"dist": "constant", "value": "1s"}}}), "/pods/startup/boto"),
    ("unknown key in pods", doc(pods={"worker": 4}), "/pods/worker"),
    ("unknown key in rate point", at("traffic.rate.0.rmap", "1s"), "/traffic/rate/0/rmap"),
    ("unknown key in distribution", dist({"dist": "constant", "value": "1ms", "mean": "1ms"}), "/pods/service_time/mean"),
    ("unknown key in tenant", doc(tenants=[{"id": "a", "wieght": 2}]), "/tenants/0/wieght"),
    ("unknown key in expectation", doc(expect=[{"metric": "m", "max": 1, "maxx": 2}]), "/expect/0/maxx"),
    ("missing version", doc(version=None), "/version"),
    ("missing name", doc(name=None), "/name"),
    ("missing duration", doc(duration=None), "/duration"),
    ("missing traffic", doc(traffic=None), "/traffic"),
    ("missing rate point qps", at("traffic.rate.0.qps", None), "/traffic/rate/0/qps"),
    ("missing tenant id", doc(tenants=[{"weight": 1}]), "/tenants/0/id"),
    ("missing expectation metric", doc(expect=[{"max": 1}]), "/expect/0/metric"),
    ("missing spike hold", doc(traffic={"spike": {"base_qps": 1, "peak_qps": 2, "at": "1s"}}), "/traffic/spike/hold"),
    ("missing dist", dist({"value": "1ms"}), "/pods/service_time/dist"),
    ("version 2", doc(version=2), "/version"),
    ("version as string", doc(version="1"), "/version"),
    ("name with a space", doc(name="my scenario"), "/name"),
    ("name too long", doc(name="n" * 65), "/name"),
    ("empty name", doc(name=""), "/name"),
    ("seed negative", doc(seed=-1), "/seed"),
    ("seed as string", doc(seed="7"), "/seed"),
    ("description not a string", doc(description=5), "/description"),
    ("duration as number", doc(duration=10), "/duration"),
    ("duration without unit", doc(duration="10"), "/duration"),
    ("duration with a space", doc(duration="10 s"), "/duration"),
    ("duration unknown unit", doc(duration="10sec"), "/duration"),
    ("duration in days", doc(duration="1d"), "/duration"),
    ("duration negative", doc(duration="-5s"), "/duration"),
    ("duration two dots", doc(duration="1.2.3s"), "/duration"),
    ("duration exponent", doc(duration="1e3s"), "/duration"),
    ("duration upper-case unit", doc(duration="10S"), "/duration"),
    ("duration only a dot", doc(duration=".s"), "/duration"),
    ("bad duration in rate point", at("traffic.rate.0.at", "0"), "/traffic/rate/0/at"),
    ("bad duration in samples", dist({"dist": "empirical", "samples": ["1ms", "2 ms"]}), "/pods/service_time/samples/1"),
    ("traffic not an object", doc(traffic=[]), "/traffic"),
    ("unknown arrival process", at("traffic.arrivals", "bursty"), "/traffic/arrivals"),
    ("no rate shape", doc(traffic={"arrivals": "poisson"}), "/traffic"),
    ("two shapes", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "diurnal": {"mean_qps": 5}}), "/traffic"),
    ("three shapes", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "diurnal": {"mean_qps": 5},
                                  "spike": {"base_qps": 1, "peak_qps": 2, "at": "1s", "hold": "1s"}}), "/traffic"),
    ("trace without trace_file", doc(traffic={"arrivals": "trace"}), "/traffic/trace_file"),
    ("trace with a rate", doc(traffic={"arrivals": "trace", "trace_file": "trace.csv",
                                       "rate": [{"at": "0s", "qps": 5}]}), "/traffic"),
    ("trace_file without trace", at("traffic.trace_file", "trace.csv"), "/traffic/trace_file"),
    ("trace_file not a string", doc(traffic={"arrivals": "trace", "trace_file": 3}), "/traffic/trace_file"),
    ("rate empty", doc(traffic={"rate": []}), "/traffic/rate"),
    ("rate not an array", doc(traffic={"rate": {"at": "0s", "qps": 5}}), "/traffic/rate"),
    ("qps negative", at("traffic.rate.0.qps", -1), "/traffic/rate/0/qps"),
    ("qps above 1e7", at("traffic.rate.0.qps", 10000001), "/traffic/rate/0/qps"),
    ("qps as string", at("traffic.rate.0.qps", "5"), "/traffic/rate/0/qps"),
    ("amplitude above 1", doc(traffic={"diurnal": {"mean_qps": 5, "amplitude": 1.5}}), "/traffic/diurnal/amplitude"),
    ("mix all zero", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "mix": {"redirect": 0, "create": 0}}), "/traffic/mix"),
    ("mix empty", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "mix": {}}), "/traffic/mix"),
    ("mix unknown route", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "mix": {"redirects": 1}}), "/traffic/mix/redirects"),
    ("mix negative", doc(traffic={"rate": [{"at": "0s", "qps": 5}], "mix": {"redirect": 1, "create": -1}}), "/traffic/mix/create"),
    ("tenants empty", doc(tenants=[]), "/tenants"),
    ("tenants not an array", doc(tenants={"id": "a"}), "/tenants"),
    ("tenant id with a slash", doc(tenants=[{"id": "a/b"}]), "/tenants/0/id"),
    ("tenant weights all zero", doc(tenants=[{"id": "a", "weight": 0}, {"id": "b", "weight": 0}]), "/tenants"),
    ("tenant weight negative", doc(tenants=[{"id": "a", "weight": -1}]), "/tenants/0/weight"),
    ("ingress unknown policy", doc(ingress={"policy": "least_conn"}), "/ingress/policy"),
    ("workers 0", doc(pods={"workers": 0}), "/pods/workers"),
    ("workers fractional", doc(pods={"workers": 1.5}), "/pods/workers"),
    ("workers as string", doc(pods={"workers": "8"}), "/pods/workers"),
    ("replicas above 10000", doc(pods={"replicas": 10001}), "/pods/replicas"),
    ("queue negative", doc(pods={"queue": -1}), "/pods/queue"),
    ("queue fractional", doc(pods={"queue": 1.5}), "/pods/queue"),
    ("queue above bound", doc(pods={"queue": 100000001}), "/pods/queue"),
    ("queue unknown word", doc(pods={"queue": "infinite"}), "/pods/queue"),
    ("unknown dist", dist({"dist": "normal", "mean": "1ms"}), "/pods/service_time/dist"),
    ("dist not an object", dist("10ms"), "/pods/service_time"),
    ("exponential without mean", dist({"dist": "exponential"}), "/pods/service_time/mean"),
    ("uniform without max", dist({"dist": "uniform", "min": "1ms"}), "/pods/service_time/max"),
    ("lognormal with mean", dist({"dist": "lognormal", "mean": "1ms"}), "/pods/service_time/p50"),
    ("empirical with samples and file", dist({"dist": "empirical", "samples": ["1ms"], "file": "samples.txt"}),
     "/pods/service_time"),
    ("empirical with neither", dist({"dist": "empirical"}), "/pods/service_time"),
    ("empirical samples empty", dist({"dist": "empirical", "samples": []}), "/pods/service_time/samples"),
    ("route_service_time unknown route", doc(pods={"route_service_time": {
        "shorten": {"dist": "constant", "value": "1ms"}}}), "/pods/route_service_time/shorten"),
    ("expect not an array", doc(expect={"metric": "m", "max": 1}), "/expect"),
    ("expect without min or max", doc(expect=[{"metric": "summary.latency_ms.p99"}]), "/expect/0"),
    ("expect max as string", doc(expect=[{"metric": "m", "max": "5"}]), "/expect/0/max"),
]

# Documents the schema accepts but the loader rejects: the rules JSON Schema
# cannot express. Listed so the gap is known and stays documented (README.md).
LOADER_ONLY = [
    ("duration below 1ms", doc(duration="0.5ms"), "/duration"),
    ("duration above 168h", doc(duration="169h"), "/duration"),
    ("warmup not below duration", doc(warmup="10s"), "/warmup"),
    ("series_interval above 1h", doc(series_interval="2h"), "/series_interval"),
    ("too many series intervals", doc(duration="168h", series_interval="1ms"), "/series_interval"),
    ("diurnal period below 1s", doc(traffic={"diurnal": {"mean_qps": 5, "period": "500ms"}}), "/traffic/diurnal/period"),
    ("rate points out of order", doc(traffic={"rate": [{"at": "5s", "qps": 5}, {"at": "1s", "qps": 1}]}),
     "/traffic/rate/1/at"),
    ("rate point inside a ramp", doc(traffic={"rate": [{"at": "0s", "qps": 5, "ramp": "4s"}, {"at": "2s", "qps": 1}]}),
     "/traffic/rate/1/at"),
    ("duplicate tenant ids", doc(tenants=[{"id": "a"}, {"id": "a"}]), "/tenants/1/id"),
    ("exponential mean 0s", dist({"dist": "exponential", "mean": "0s"}), "/pods/service_time/mean"),
    ("constant above 1h", dist({"dist": "constant", "value": "61m"}), "/pods/service_time/value"),
    ("uniform min above max", dist({"dist": "uniform", "min": "5ms", "max": "4ms"}), "/pods/service_time/max"),
    ("lognormal p99 not above p50", dist({"dist": "lognormal", "p50": "5ms", "p99": "5ms"}), "/pods/service_time/p99"),
    ("expect min above max", doc(expect=[{"metric": "m", "min": 2, "max": 1}]), "/expect/0/max"),
    ("trace file missing", doc(traffic={"arrivals": "trace", "trace_file": "missing.csv"}), "/traffic/trace_file"),
    ("trace names an undeclared tenant", doc(traffic={"arrivals": "trace", "trace_file": "trace.csv"}),
     "/traffic/trace_file"),
    ("sample file missing", dist({"dist": "empirical", "file": "missing.txt"}), "/pods/service_time/file"),
]


def readme_documents(block):
    """(complete scenario, None), (None, [documents built from a fragment]) or (None, None)."""
    try:
        document = json.loads(block)
        if isinstance(document, dict) and "version" in document:
            return document, None
    except ValueError:
        pass
    try:
        fragment = json.loads("{" + block + "}")
    except ValueError:
        fragment = None
    if isinstance(fragment, dict):
        d = copy.deepcopy(BASE)
        for key, value in fragment.items():
            if key in ("rate", "spike", "diurnal"):
                d["traffic"] = {k: v for k, v in d["traffic"].items() if k not in ("rate", "spike", "diurnal")}
                d["traffic"][key] = value
            elif key in ("arrivals", "trace_file", "mix"):
                d["traffic"][key] = value
            else:
                d[key] = value
        return None, [d]
    try:
        lines = [json.loads(l) for l in block.splitlines() if l.strip()]
    except ValueError:
        return None, None
    if lines and all(isinstance(l, dict) and "dist" in l for l in lines):
        return None, [dist(l) for l in lines]
    return None, None


class Test:
    def __init__(self, scenario_dir, binary):
        self.scenario_dir = scenario_dir
        self.binary = binary
        self.passed = 0
        self.failed = 0
        with open(os.path.join(scenario_dir, "scenario.schema.json"), encoding="utf-8") as f:
            self.schema = json.load(f)
        self.validator = None

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL " + what)

    def schema_errors(self, document):
        return sorted(self.validator.iter_errors(document), key=lambda e: list(e.absolute_path))

    def loader(self, path):
        """(exit code, stderr) of `scaletwin validate path`."""
        try:
            p = subprocess.run([self.binary, "validate", path], capture_output=True, text=True, timeout=20)
        except OSError as e:
            return -1, str(e)
        except subprocess.TimeoutExpired:
            return -1, "timed out"
        return p.returncode, p.stderr

    def expect_valid(self, name, document, path=None):
        errors = self.schema_errors(document)
        self.check(not errors, "schema rejects good document %s: %s" %
                   (name, "; ".join("%s: %s" % ("/" + "/".join(map(str, e.absolute_path)), e.message[:200])
                                    for e in errors[:3])))
        if self.binary and path:
            code, err = self.loader(path)
            self.check(code == 0, "loader rejects good document %s (exit %d): %s" % (name, code, err.strip()[:600]))

    def expect_invalid(self, name, document, path, pointer, schema_rejects=True):
        errors = self.schema_errors(document)
        if schema_rejects:
            self.check(bool(errors), "schema accepts bad document %s: %s" % (name, json.dumps(document)[:300]))
        else:
            self.check(not errors, "schema rejects %s, a rule documented as loader-only: %s" %
                       (name, "; ".join(e.message[:200] for e in errors[:3])))
        if self.binary:
            code, err = self.loader(path)
            self.check(code == 2, "loader exit %d, want 2, on bad document %s: %s" % (code, name, err.strip()[:600]))
            # Every loader error line reads "<pointer>: ..."; the pointer must be on one of them.
            lines = [l.strip() for l in err.splitlines()]
            named = any(l.startswith(pointer + ":") for l in lines)
            self.check(code != 2 or named, "loader error for %s does not name %s: %s" % (name, pointer, err.strip()[:600]))

    def run(self):
        try:
            jsonschema.Draft202012Validator.check_schema(self.schema)
            self.check(True, "")
        except jsonschema.exceptions.SchemaError as e:
            self.check(False, "scenario.schema.json is not a valid draft 2020-12 schema: %s" % e.message)
            return
        self.validator = jsonschema.Draft202012Validator(self.schema)
        self.check(self.schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema",
                   "scenario.schema.json does not declare draft 2020-12")

        # Shipped scenario files and examples, validated where they are (they may name side files).
        files = sorted(glob.glob(os.path.join(self.scenario_dir, "*.json")))
        files = [f for f in files if os.path.basename(f) != "scenario.schema.json"]
        self.check(len(files) > 0, "no scenario files in %s" % self.scenario_dir)
        files += sorted(glob.glob(os.path.join(self.scenario_dir, "examples", "*.json")))
        for f in files:
            try:
                with open(f, encoding="utf-8") as fh:
                    document = json.load(fh)
            except (OSError, ValueError) as e:
                self.check(False, "%s: %s" % (f, e))
                continue
            self.expect_valid(os.path.relpath(f, self.scenario_dir), document, f)

        with tempfile.TemporaryDirectory(prefix="scaletwin-schema-test-") as tmp:
            for name, text in AUX_FILES.items():
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                    fh.write(text)

            def write(i, document):
                path = os.path.join(tmp, "doc%03d.json" % i)
                with open(path, "w", encoding="utf-8") as fh:
                    json.dump(document, fh, ensure_ascii=False, indent=1)
                return path

            i = 0
            # README.md's ```json blocks: complete scenarios run through the schema and the
            # loader; fragments ("rate": [...], one distribution per line) through the schema,
            # placed into BASE, so the guide cannot drift from the format.
            readme = os.path.join(self.scenario_dir, "README.md")
            if os.path.exists(readme):
                with open(readme, encoding="utf-8") as fh:
                    blocks = re.findall(r"```json\n(.*?)```", fh.read(), re.S)
                self.check(len(blocks) > 0, "README.md has no ```json blocks")
                for n, block in enumerate(blocks):
                    label = "README.md json block %d" % (n + 1)
                    complete, fragments = readme_documents(block)
                    if complete is None and fragments is None:
                        self.check(False, "%s is neither a scenario, a fragment nor distributions:\n%s" % (label, block))
                    elif complete is not None:
                        i += 1
                        self.expect_valid(label, complete, write(i, complete))
                    else:
                        for document in fragments:
                            self.expect_valid(label, document)
            for name, document in GOOD:
                i += 1
                self.expect_valid(name, document, write(i, document))
            for name, document, pointer in BAD:
                i += 1
                self.expect_invalid(name, document, write(i, document), pointer)
            for name, document, pointer in LOADER_ONLY:
                i += 1
                self.expect_invalid(name, document, write(i, document), pointer, schema_rejects=False)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2])
        return 2
    binary = os.path.abspath(argv[2]) if len(argv) == 3 else None
    if binary and not os.access(binary, os.X_OK):
        print("FAIL %s is not an executable" % binary)
        print("0 passed, 1 failed")
        return 1
    t = Test(os.path.abspath(argv[1]), binary)
    t.run()
    print("%d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
