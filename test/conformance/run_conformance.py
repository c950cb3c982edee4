#!/usr/bin/python3
"""Runs the ONNX backend conformance suite (Debian's libonnx-testdata) through Kiln.

Every case is compiled and run with `kiln run` on all of its test_data_set_*
directories and compared with the ONNX runner's defaults (rtol 1e-3, atol 1e-7,
NaN equals NaN, integers and booleans exact, dtypes and shapes exact).

  test/conformance/run_conformance.py --kiln build/bin/kiln [--jobs 2]
      [--filter REGEX] [--out conformance.json] [--update-expected]

Writes conformance.json (each case: pass, fail or error, with the reason),
prints "N passed, M failed" per suite and in total, and exits non-zero if a
case listed in expected-pass.txt does not pass. --update-expected adds every
passing case to that list (it only ever grows). Cases in exclusions.txt are
not run; each has a reason there.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_ROOT = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]


def read_list(path):
    """Lines of a list file, without comments; 'name  # reason' keeps the reason."""
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            body, _, reason = line.partition("#")
            body = body.strip()
            if body:
                entries[body] = reason.strip()
    return entries


def run_case(kiln, suite, case, cache, timeout):
    case_dir = os.path.join(DATA_ROOT, suite, case)
    data = sorted(
        d for d in os.listdir(case_dir)
        if d.startswith("test_data_set_") and os.path.isdir(os.path.join(case_dir, d)))
    cmd = [kiln, "run", os.path.join(case_dir, "model.onnx"), "--json",
           "--rtol", "1e-3", "--atol", "1e-7", "--name", "conformance_model",
           "--specialize-inputs", "auto"]
    for d in data:
        cmd += ["--data", os.path.join(case_dir, d)]
    env = dict(os.environ, KILN_CACHE_DIR=cache, KILN_CXXFLAGS="-O1")
    start = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {timeout} s", "seconds": timeout}
    seconds = round(time.time() - start, 2)
    if proc.returncode == 0:
        return {"status": "pass", "seconds": seconds}
    if proc.returncode == 1:
        reason = "output mismatch"
        try:
            report = json.loads(proc.stdout.strip().splitlines()[-1])
            for ds in report.get("datasets", []):
                for out in ds.get("outputs", []):
                    if "mismatch" in out:
                        reason = f"{os.path.basename(ds['data'])}: output '{out['name']}': {out['mismatch']}"
                        raise StopIteration
        except (ValueError, IndexError, StopIteration):
            pass
        return {"status": "fail", "reason": reason, "seconds": seconds}
    err = proc.stderr.strip().replace("\n", " ")
    err = re.sub(r"^kiln: error: ", "", err)
    return {"status": "error", "reason": err[:600] or f"exit code {proc.returncode}",
            "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--filter", default="", help="only cases whose suite/name matches")
    parser.add_argument("--out", default="conformance.json")
    parser.add_argument("--timeout", type=int, default=120)
    parser.add_argument("--update-expected", action="store_true")
    args = parser.parse_args()

    expected_path = os.path.join(HERE, "expected-pass.txt")
    expected = read_list(expected_path)
    exclusions = read_list(os.path.join(HERE, "exclusions.txt"))
    if not os.path.isdir(DATA_ROOT):
        sys.exit(f"run_conformance: {DATA_ROOT} is missing (apt-get install libonnx-testdata)")

    cases = []
    for suite in SUITES:
        for case in sorted(os.listdir(os.path.join(DATA_ROOT, suite))):
            key = f"{suite}/{case}"
            if not os.path.exists(os.path.join(DATA_ROOT, suite, case, "model.onnx")):
                continue
            if args.filter and not re.search(args.filter, key):
                continue
            cases.append((suite, case))

    results = {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="kiln-conformance-") as cache:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {}
            for suite, case in cases:
                key = f"{suite}/{case}"
                if key in exclusions:
                    results[key] = {"status": "excluded", "reason": exclusions[key]}
                    continue
                futures[pool.submit(run_case, args.kiln, suite, case,
                                    os.path.join(cache, str(len(futures) % 8)),
                                    args.timeout)] = key
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()

    totals = {"passed": 0, "failed": 0, "excluded": 0}
    summary = {}
    for suite in SUITES:
        keys = [k for k in results if k.startswith(suite + "/")]
        passed = sum(results[k]["status"] == "pass" for k in keys)
        excluded = sum(results[k]["status"] == "excluded" for k in keys)
        failed = len(keys) - passed - excluded
        summary[suite] = {"passed": passed, "failed": failed, "excluded": excluded}
        totals["passed"] += passed
        totals["failed"] += failed
        totals["excluded"] += excluded
        if keys:
            print(f"{suite}: {passed} passed, {failed} failed, {excluded} skipped")

    regressions = sorted(k for k in expected if k in results and results[k]["status"] != "pass")
    with open(args.out, "w") as f:
        json.dump({"summary": summary, "totals": totals,
                   "seconds": round(time.time() - started, 1),
                   "regressions": regressions,
                   "cases": dict(sorted(results.items()))}, f, indent=1)

    if args.update_expected:
        passing = {k for k, r in results.items() if r["status"] == "pass"}
        merged = sorted(set(expected) | passing)
        with open(expected_path, "w") as f:
            f.write("# Conformance cases that must pass (suite/case). Only ever grows;\n")
            f.write("# regenerate with run_conformance.py --update-expected.\n")
            for k in merged:
                f.write(k + "\n")

    for k in regressions:
        print(f"REGRESSION {k}: {results[k].get('reason', '')}")
    print(f"wrote {args.out} ({round(time.time() - started)} s)")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['excluded']} skipped")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
