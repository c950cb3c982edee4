#!/usr/bin/python3
"""Runs the ONNX backend conformance suite (Debian's libonnx-testdata) through Kiln.

Every case is compiled and run with `kiln run --require-expected` on all of
its test_data_set_* directories and compared with the ONNX runner's defaults
(rtol 1e-3, atol 1e-7, NaN equals NaN, integers and booleans exact, dtypes and
shapes exact). Data inputs are always run-time inputs:

  strict  no input is compiled in;
  shapes  tried when strict does not pass: `--specialize-inputs shapes` compiles
          in only the inputs whose role decides a shape (Reshape shapes, Slice
          bounds, TopK k, axes, ...), and the compiled model checks them.

  test/conformance/run_conformance.py --kiln build/bin/kiln [--jobs 2]
      [--filter REGEX] [--out conformance.json] [--cxxflags FLAGS]
      [--update-expected] [--kiln-args "--target cuda --emulate"] [--sample N]

The generated code is built with the flags users get (`kiln run`'s -O3 and
-march); --cxxflags adds flags after them (CI passes -O1 to save build time).

Writes conformance.json (each case: pass with its mode, fail or error, with
the reason), prints strict / shape-specialised / total per suite and overall,
and exits non-zero if a case in expected-pass.txt does not pass in its listed
mode (a case listed as strict that passes only with shapes counts), or is no
longer in the suite. --update-expected adds every passing case to that list,
with its mode. Cases in exclusions.txt are not run; each has a reason there.
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


# Extra `kiln run` arguments for every case (--kiln-args), e.g. the emulated
# CUDA target.
KILN_ARGS = []


def run_kiln(kiln, case_dir, data, mode, cache, timeout, cxxflags):
    cmd = [kiln, "run", os.path.join(case_dir, "model.onnx"), "--json", "--require-expected",
           "--rtol", "1e-3", "--atol", "1e-7", "--name", "conformance_model"]
    if mode == "shapes":
        cmd += ["--specialize-inputs", "shapes"]
    cmd += KILN_ARGS
    for d in data:
        cmd += ["--data", os.path.join(case_dir, d)]
    env = dict(os.environ, KILN_CACHE_DIR=cache)
    if cxxflags:
        env["KILN_CXXFLAGS"] = cxxflags
    else:
        env.pop("KILN_CXXFLAGS", None)
    start = time.time()
    # The limit scales with the machine's load (a 2-core CI machine running
    # two cases, each compiling C++, is often loaded past its cores), and a
    # case that still times out gets one more try with twice the time.
    limit = timeout * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    for attempt in range(2):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env)
            break
        except subprocess.TimeoutExpired:
            if attempt == 1:
                return {"status": "error", "reason": f"timed out twice (last after {limit:.0f} s)",
                        "seconds": round(time.time() - start, 2)}
            limit *= 2
    seconds = round(time.time() - start, 2)
    report = {}
    if proc.returncode in (0, 1):
        try:
            report = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
    if proc.returncode == 0:
        return {"status": "pass", "seconds": seconds,
                "specialized": report.get("specialized", [])}
    if proc.returncode == 1:
        reason = "output mismatch"
        for ds in report.get("datasets", []):
            bad = [o for o in ds.get("outputs", []) if "mismatch" in o]
            if bad:
                reason = (f"{os.path.basename(ds['data'])}: output '{bad[0]['name']}': "
                          f"{bad[0]['mismatch']}")
                break
        return {"status": "fail", "reason": reason, "seconds": seconds,
                "specialized": report.get("specialized", [])}
    err = proc.stderr.strip().replace("\n", " ")
    err = re.sub(r"^kiln: error: ", "", err)
    return {"status": "error", "reason": err[:600] or f"exit code {proc.returncode}",
            "seconds": seconds}


def run_case(kiln, suite, case, cache, timeout, cxxflags):
    """Strict first; with shape specialisation only when strict does not pass."""
    case_dir = os.path.join(DATA_ROOT, suite, case)
    data = sorted(
        d for d in os.listdir(case_dir)
        if d.startswith("test_data_set_") and os.path.isdir(os.path.join(case_dir, d)))
    strict = run_kiln(kiln, case_dir, data, "strict", cache, timeout, cxxflags)
    if strict["status"] == "pass":
        strict["mode"] = "strict"
        return strict
    shaped = run_kiln(kiln, case_dir, data, "shapes", cache, timeout, cxxflags)
    if shaped["status"] == "pass" and not shaped["specialized"]:
        # Nothing was specialised: the same compilation passed the second
        # time (the first run timed out or failed under load).
        shaped["mode"] = "strict"
        shaped["strict_reason"] = "passed on a second run: " + strict.get("reason", "")
        return shaped
    if shaped["status"] == "pass" and shaped["specialized"]:
        shaped["mode"] = "shapes"
        shaped["strict_reason"] = strict.get("reason", "")
        shaped["seconds"] = round(strict["seconds"] + shaped["seconds"], 2)
        return shaped
    # Report the failure of the mode that got furthest: a mismatch over an
    # error, and the shape-specialised one when it specialised anything.
    worse = shaped if shaped.get("specialized") or strict["status"] == "error" else strict
    worse["seconds"] = round(strict["seconds"] + shaped["seconds"], 2)
    return worse


def read_expected(path):
    """expected-pass.txt: 'suite/case' (strict) or 'suite/case shapes'."""
    expected = {}
    for body in read_list(path):
        name, _, mode = body.partition(" ")
        expected[name] = mode.strip() or "strict"
    return expected


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--filter", default="", help="only cases whose suite/name matches")
    parser.add_argument("--out", default="conformance.json")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds per kiln run, scaled up by the load average per core; "
                             "a run that times out is retried once with twice the limit")
    parser.add_argument("--cxxflags", default="",
                        help="extra flags for building generated code (after kiln's -O3)")
    parser.add_argument("--update-expected", action="store_true")
    parser.add_argument("--sample", type=int, default=1,
                        help="run every Nth case only (in suite/name order; a fixed sample)")
    parser.add_argument("--kiln-args", default="",
                        help="extra kiln run arguments, e.g. '--target cuda --emulate'")
    args = parser.parse_args()
    KILN_ARGS.extend(args.kiln_args.split())

    expected_path = os.path.join(HERE, "expected-pass.txt")
    expected = read_expected(expected_path)
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
    sampled = {f"{s}/{c}" for s, c in cases[::max(args.sample, 1)]}
    present = {f"{s}/{c}" for s, c in cases}
    missing = sorted(k for k in list(expected) + list(exclusions)
                     if k not in present and (not args.filter or re.search(args.filter, k)))
    cases = [(s, c) for s, c in cases if f"{s}/{c}" in sampled]

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
                                    args.timeout, args.cxxflags)] = key
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()

    def count(keys):
        c = {"strict": 0, "shapes": 0, "passed": 0, "failed": 0, "excluded": 0,
             "cases": len(keys)}
        for k in keys:
            r = results[k]
            if r["status"] == "pass":
                c[r["mode"]] += 1
                c["passed"] += 1
            elif r["status"] == "excluded":
                c["excluded"] += 1
            else:
                c["failed"] += 1
        return c

    def line(c):
        return (f"{c['strict']} strict + {c['shapes']} shape-specialised = {c['passed']} "
                f"passed of {c['cases']}, {c['failed']} failed, {c['excluded']} excluded")

    summary = {}
    for suite in SUITES:
        keys = [k for k in results if k.startswith(suite + "/")]
        if keys:
            summary[suite] = count(keys)
            print(f"{suite}: {line(summary[suite])}")
    totals = count(list(results))

    def regressed(k):
        r = results[k]
        if r["status"] != "pass":
            return r.get("reason", r["status"])
        if expected[k] == "strict" and r["mode"] != "strict":
            return "passes only with shape specialisation (listed as strict): " + \
                r.get("strict_reason", "")
        return None

    regressions = {k: regressed(k) for k in expected if k in results and regressed(k)}
    with open(args.out, "w") as f:
        json.dump({"summary": summary, "totals": totals,
                   "cxxflags": args.cxxflags,
                   "seconds": round(time.time() - started, 1),
                   "regressions": sorted(regressions),
                   "missing_from_suite": missing,
                   "cases": dict(sorted(results.items()))}, f, indent=1)

    if args.update_expected:
        merged = dict(expected)
        for k, r in results.items():
            if r["status"] == "pass" and (k not in merged or r["mode"] == "strict"):
                merged[k] = r["mode"]
        with open(expected_path, "w") as f:
            f.write("# Conformance cases that must pass: 'suite/case' passes strict (every\n")
            f.write("# input at run time), 'suite/case shapes' with --specialize-inputs shapes.\n")
            f.write("# Only ever grows (or moves to strict); regenerate with\n")
            f.write("# run_conformance.py --update-expected.\n")
            for k in sorted(merged):
                f.write(k + ("" if merged[k] == "strict" else " " + merged[k]) + "\n")

    for k in sorted(regressions):
        print(f"REGRESSION {k}: {regressions[k]}")
    for k in missing:
        print(f"MISSING {k}: listed in expected-pass.txt or exclusions.txt but not in the suite")
    print(f"wrote {args.out} ({round(time.time() - started)} s)")
    print(line(totals))
    return 1 if regressions or missing else 0


if __name__ == "__main__":
    sys.exit(main())
