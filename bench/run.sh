#!/usr/bin/env bash
# Kiln vs ONNX Runtime CPU benchmark, with a per-pass ablation of Kiln.
#
# usage: bench/run.sh [--kiln PATH] [--models DIR] [--runs N] [--threads LIST]
#                     [--passes LIST] [--no-ablation] [--ort-only] [--out FILE]
#                     [--repeat R] [--warmup W] [--baseline PATH]
#
# For every DIR/<name>/ holding model.onnx and test_data_set_0/, at each thread
# count (default 1,2) it runs
#   kiln run DIR/<name>/model.onnx --data DIR/<name>/test_data_set_0 --bench N --threads T --warmup W --json
#   node bench/ort_bench.js DIR/<name>/model.onnx DIR/<name>/test_data_set_0 N T --warmup W
# interleaved: Kiln, ORT, Kiln, ORT ... R turns each (--repeat, default 2),
# each engine keeping its fastest median; both get the same W untimed warm-up
# runs per turn (--warmup, default min(10, max(2, N/5))). ORT's own outputs are
# checked against output_<i>.pb with kiln run's tolerance ("ort output" column),
# or with the RTOL ATOL in the model's tolerance.txt where it has one.
# --baseline PATH times a second kiln binary (an earlier build) in the same
# turns and adds the table "Against the baseline": each model's ort/kiln ratio
# beside the baseline's and their quotient (new/base, < 1 means slower), so
# two builds are compared on the same machine in the same run
# and, unless --no-ablation, the same kiln run once per pass P in --passes
# (default layout,sdpa,fusion,reuse,memplan) with --disable P, plus once per model
#   kiln compile DIR/<name>/model.onnx -o TMP --report [--disable P]
# It first measures the FMA peak (bench/fma_peak.cpp) at each thread count, then
# prints a table (ratio = ort/kiln, > 1 means Kiln is faster; achieved GFLOP/s
# from the compile report's flops and the % of that peak; the compiled model's
# peak RSS against weights + arena + 16 MiB, and the ORT process's; the size of
# the generated C++ and the seconds it took to build), the
# geometric-mean ratio per thread count against the goal, the table
# "Effect of each pass" (slowdown = no-P ms / all-on ms, > 1 means P helps) and
# the compile-report figures of each variant, and writes bench/results.json
# with a description of the machine (CPU, cores, memory, kernel, compiler, ORT
# and Node versions, the kiln commit).
# An unknown pass name makes it exit 2.  See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

KILN=""
BASELINE=""
MODELS="$ROOT/build/models"
RUNS=50
REPEAT=2
WARMUP=""
THREADS="1,2"
ORT_ONLY=0
OUT="$BENCH_DIR/results.json"
PASSES="layout,sdpa,fusion,reuse,memplan"
ABLATE=1

die() { echo "bench/run.sh: error: $*" >&2; exit 2; }
# the comment block at the top of this file, up to the first line that is not a comment
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --kiln)    [[ $# -ge 2 ]] || die "--kiln needs a path"; KILN="$2"; shift 2 ;;
    --baseline) [[ $# -ge 2 ]] || die "--baseline needs a path"; BASELINE="$2"; shift 2 ;;
    --models)  [[ $# -ge 2 ]] || die "--models needs a directory"; MODELS="$2"; shift 2 ;;
    --runs)    [[ $# -ge 2 ]] || die "--runs needs a number"; RUNS="$2"; shift 2 ;;
    --repeat)  [[ $# -ge 2 ]] || die "--repeat needs a number"; REPEAT="$2"; shift 2 ;;
    --warmup)  [[ $# -ge 2 ]] || die "--warmup needs a number"; WARMUP="$2"; shift 2 ;;
    --threads) [[ $# -ge 2 ]] || die "--threads needs a list such as 1,2"; THREADS="$2"; shift 2 ;;
    --out)     [[ $# -ge 2 ]] || die "--out needs a file"; OUT="$2"; shift 2 ;;
    --passes)  [[ $# -ge 2 ]] || die "--passes needs a list such as layout,sdpa,fusion,reuse,memplan"; PASSES="$2"; shift 2 ;;
    --no-ablation) ABLATE=0; shift ;;
    --ort-only) ORT_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer (got '$RUNS')"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer (got '$REPEAT')"
[[ -n "$WARMUP" ]] || WARMUP=$(( (RUNS + 4) / 5 < 2 ? 2 : ((RUNS + 4) / 5 > 10 ? 10 : (RUNS + 4) / 5) ))
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be a non-negative integer (got '$WARMUP')"
[[ "$THREADS" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--threads must look like 1,2 (got '$THREADS')"
IFS=',' read -r -a THREAD_LIST <<< "$THREADS"
[[ "$PASSES" =~ ^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$ ]] \
  || die "--passes must be a comma-separated list of pass names such as layout,sdpa,fusion,reuse,memplan (got '$PASSES')"
PASS_LIST=()
IFS=',' read -r -a _passes <<< "$PASSES"
for p in "${_passes[@]}"; do                      # drop repeats, keep the order
  [[ " ${PASS_LIST[*]-} " == *" $p "* ]] || PASS_LIST+=("$p")
done
[[ $ORT_ONLY -eq 0 ]] || ABLATE=0                 # the ablation is Kiln-only

command -v node >/dev/null 2>&1 || die "node (Node.js) is not on PATH; it runs the ONNX Runtime baseline"

# --- models ------------------------------------------------------------------
[[ -d "$MODELS" ]] || die "models directory '$MODELS' does not exist; generate it with: models/generate.py --out $MODELS"
MODEL_DIRS=()
for d in "$MODELS"/*/; do
  d="${d%/}"
  [[ -f "$d/model.onnx" ]] || continue
  if [[ ! -d "$d/test_data_set_0" ]]; then
    echo "bench/run.sh: warning: skipping $d (no test_data_set_0/)" >&2
    continue
  fi
  MODEL_DIRS+=("$d")
done
[[ ${#MODEL_DIRS[@]} -gt 0 ]] || die "no <name>/model.onnx with test_data_set_0/ under '$MODELS'"

# --- kiln binary -------------------------------------------------------------
if [[ $ORT_ONLY -eq 0 ]]; then
  if [[ -z "$KILN" ]]; then
    if [[ -x "$ROOT/build/bin/kiln" ]]; then KILN="$ROOT/build/bin/kiln"
    elif command -v kiln >/dev/null 2>&1; then KILN="$(command -v kiln)"
    else die "no kiln binary: not at build/bin/kiln nor on PATH; pass --kiln PATH (or --ort-only)"
    fi
  fi
  [[ -f "$KILN" && -x "$KILN" ]] || die "--kiln '$KILN' is not an executable file"
  KILN="$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")"
fi
if [[ -n "$BASELINE" ]]; then
  [[ $ORT_ONLY -eq 0 ]] || die "--baseline compares two kiln builds; it does not go with --ort-only"
  [[ -f "$BASELINE" && -x "$BASELINE" ]] || die "--baseline '$BASELINE' is not an executable file"
  BASELINE="$(cd "$(dirname "$BASELINE")" && pwd)/$(basename "$BASELINE")"
fi

# --- scratch space and helpers -----------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
RECORDS="$TMP/records.jsonl"          # one line per model/threads: all-on kiln + ort
ABL_RUNS="$TMP/ablation_runs.jsonl"   # one line per model/threads/disabled pass
ABL_COMPILE="$TMP/ablation_compile.jsonl"  # one line per model/variant: report figures
: > "$RECORDS"; : > "$ABL_RUNS"; : > "$ABL_COMPILE"
FAILED=0

# last line of a file that parses as a JSON object, or nothing
json_line() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").reverse();
    for (const l of lines) {
      const s = l.trim();
      if (!s.startsWith("{")) continue;
      try { const o = JSON.parse(s); if (o && typeof o === "object") { console.log(JSON.stringify(o)); break; } } catch (e) {}
    }' "$1"
}

# the compile-report figures the ablation keeps (null where a report lacks one)
report_fields() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const keys = ["kernels", "unique_kernels", "sdpa_matched", "layout_conversions", "arena_bytes",
                  "arena_live_bound_bytes", "generated_source_bytes", "compile_seconds", "disabled_passes"];
    const o = {};
    for (const k of keys) o[k] = k in r ? r[k] : null;
    console.log(JSON.stringify(o));' "$1"
}

# exit 2 if kiln's stderr ($1) says that the pass $2 is unknown
check_pass_known() {
  local msg
  msg="$(grep -m1 'unknown pass' "$1" || true)"
  [[ -z "$msg" ]] || die "--passes: kiln does not know the pass '$2' ($msg)"
}

# --- ablation, part 1: compile reports (this also checks the pass names) ------
if [[ $ABLATE -eq 1 ]]; then
  for d in "${MODEL_DIRS[@]}"; do
    name="$(basename "$d")"
    for p in "" "${PASS_LIST[@]}"; do
      if [[ -z "$p" ]]; then label="all-on"; disable=(); disabled_json="null"
      else label="no-$p"; disable=(--disable "$p"); disabled_json="\"$p\""
      fi
      echo "== $name: kiln compile --report ($label)" >&2
      cdir="$TMP/compile"; rm -rf "$cdir"
      report="null"
      if "$KILN" compile "$d/model.onnx" -o "$cdir" --report ${disable[@]+"${disable[@]}"} \
           > "$TMP/compile.out" 2> "$TMP/compile.err"; then
        reports=("$cdir"/*.report.json)
        if [[ -f "${reports[0]}" ]]; then
          report="$(report_fields "${reports[0]}")" \
            || { echo "bench/run.sh: unreadable report ${reports[0]} for $name ($label)" >&2; report="null"; FAILED=1; }
        else
          echo "bench/run.sh: kiln compile --report wrote no <name>.report.json for $name ($label)" >&2; FAILED=1
        fi
      else
        rc=$?
        [[ -z "$p" ]] || check_pass_known "$TMP/compile.err" "$p"
        echo "bench/run.sh: kiln compile --report failed on $name ($label, exit $rc):" >&2
        tail -n 20 "$TMP/compile.err" >&2; FAILED=1
      fi
      rm -rf "$cdir"
      printf '{"model":"%s","disabled":%s,"report":%s}\n' "$name" "$disabled_json" "$report" >> "$ABL_COMPILE"
    done
  done
fi

# --- onnxruntime-node --------------------------------------------------------
if ! (cd "$BENCH_DIR" && node -e "require.resolve('onnxruntime-node')" >/dev/null 2>&1); then
  command -v npm >/dev/null 2>&1 || die "onnxruntime-node is not installed in bench/node_modules and npm is not on PATH"
  echo "bench/run.sh: installing onnxruntime-node into bench/node_modules ..." >&2
  (cd "$BENCH_DIR" && npm install --ignore-scripts --no-audit --no-fund >&2) \
    || die "npm install --ignore-scripts onnxruntime-node failed (in $BENCH_DIR)"
fi

# The JSON object (of kiln run or ort_bench.js) with the smaller median_ms;
# either may be null.
faster() {
  node -e 'const [a, b] = process.argv.slice(1).map((x) => JSON.parse(x));
    const m = (x) => (x && typeof x.median_ms === "number" ? x.median_ms : Infinity);
    console.log(JSON.stringify(m(b) < m(a) ? b : a));' "$1" "$2"
}

# Times one kiln configuration: kiln_bench NAME MODEL DATA THREADS [PASS]
# (the binary is $BENCH_BIN, default $KILN). Sets KILN_JSON to kiln's JSON
# object, or to null after reporting a failure.
kiln_bench() {
  local name="$1" model="$2" data="$3" t="$4" p="${5:-}" what="kiln" rc
  local bin="${BENCH_BIN:-$KILN}"
  [[ "$bin" == "$KILN" ]] || what="baseline kiln"
  local disable=() warm=()
  # an earlier build (--baseline) may predate --warmup; it then uses its own
  "$bin" run --help 2>/dev/null | grep -q -- '--warmup' && warm=(--warmup "$WARMUP")
  if [[ -n "$p" ]]; then disable=(--disable "$p"); what="kiln --disable $p"; fi
  echo "== $name threads=$t: $what" >&2
  KILN_JSON="null"
  if "$bin" run "$model" --data "$data" --bench "$RUNS" --threads "$t" "${warm[@]}" --json \
       "${disable[@]}" "${TOLERANCE[@]}" > "$TMP/kiln.out" 2> "$TMP/kiln.err"; then
    KILN_JSON="$(json_line "$TMP/kiln.out")"
    if [[ -z "$KILN_JSON" ]]; then
      echo "bench/run.sh: $what printed no JSON object for $name (threads=$t); stdout was:" >&2
      cat "$TMP/kiln.out" >&2; KILN_JSON="null"; FAILED=1
    fi
  else
    rc=$?
    [[ -z "$p" ]] || check_pass_known "$TMP/kiln.err" "$p"
    echo "bench/run.sh: $what failed on $name (threads=$t, exit $rc):" >&2
    tail -n 20 "$TMP/kiln.err" >&2; FAILED=1
  fi
}

# --- the machine's FMA peak (bench/fma_peak.cpp), per thread count ------------
PEAKS="$TMP/peaks.jsonl"; : > "$PEAKS"
echo "== fma_peak" >&2
if ${CXX:-c++} -O3 -march=native -std=c++17 -pthread "$BENCH_DIR/fma_peak.cpp" -o "$TMP/fma_peak" 2> "$TMP/peak.err"; then
  for t in "${THREAD_LIST[@]}"; do "$TMP/fma_peak" "$t" | tail -n 1 >> "$PEAKS" || FAILED=1; done
else
  echo "bench/run.sh: cannot build bench/fma_peak.cpp:" >&2; cat "$TMP/peak.err" >&2; FAILED=1
fi

# --- run -----------------------------------------------------------------------
for d in "${MODEL_DIRS[@]}"; do
  name="$(basename "$d")"
  model="$d/model.onnx"
  data="$d/test_data_set_0"
  # A model whose reference its kernels cannot match to float32 rounding
  # (quantised models) states its own tolerance: "RTOL ATOL" in tolerance.txt.
  TOLERANCE=()
  if [[ -f "$d/tolerance.txt" ]]; then
    read -r rtol atol < "$d/tolerance.txt"
    TOLERANCE=(--rtol "$rtol" --atol "$atol")
  fi
  # Compile and build once, untimed, so that no timed run follows straight
  # after the C++ build (the machine is still busy with it); failures show
  # in the timed runs below.
  if [[ $ORT_ONLY -eq 0 ]]; then
    echo "== $name: kiln build" >&2
    "$KILN" run "$model" --data "$data" --bench 1 > /dev/null 2>&1 || true
    [[ -z "$BASELINE" ]] || "$BASELINE" run "$model" --data "$data" --bench 1 > /dev/null 2>&1 || true
  fi
  for t in "${THREAD_LIST[@]}"; do
    # Kiln and ORT take turns (ABAB, --repeat R times); each keeps its
    # fastest median, so a slow spell of the machine does not decide the ratio.
    kiln_json="null"; ort_json="null"; base_json="null"
    for ((rep = 1; rep <= REPEAT; ++rep)); do
      if [[ $ORT_ONLY -eq 0 ]]; then
        kiln_bench "$name" "$model" "$data" "$t"
        kiln_json="$(faster "$kiln_json" "$KILN_JSON")"
      fi
      if [[ -n "$BASELINE" ]]; then
        BENCH_BIN="$BASELINE" kiln_bench "$name" "$model" "$data" "$t"
        base_json="$(faster "$base_json" "$KILN_JSON")"
      fi
      echo "== $name threads=$t: onnxruntime" >&2
      if node "$BENCH_DIR/ort_bench.js" "$model" "$data" "$RUNS" "$t" --warmup "$WARMUP" \
           "${TOLERANCE[@]}" > "$TMP/ort.out" 2> "$TMP/ort.err"; then
        this="$(json_line "$TMP/ort.out")"
        [[ -n "$this" ]] || { echo "bench/run.sh: ort_bench.js printed no JSON for $name" >&2; this="null"; FAILED=1; }
        ort_json="$(faster "$ort_json" "$this")"
      else
        rc=$?
        echo "bench/run.sh: onnxruntime failed on $name (threads=$t, exit $rc):" >&2
        tail -n 20 "$TMP/ort.err" >&2; FAILED=1
      fi
    done
    printf '{"model":"%s","threads":%d,"kiln":%s,"ort":%s,"baseline":%s}\n' \
      "$name" "$t" "$kiln_json" "$ort_json" "$base_json" >> "$RECORDS"
    # ablation, part 2: the same kiln run with one pass left out at a time
    if [[ $ABLATE -eq 1 ]]; then
      for p in "${PASS_LIST[@]}"; do
        kiln_bench "$name" "$model" "$data" "$t" "$p"
        abl_json="$KILN_JSON"
        printf '{"model":"%s","threads":%d,"disabled":"%s","kiln":%s}\n' \
          "$name" "$t" "$p" "$abl_json" >> "$ABL_RUNS"
      done
    fi
  done
done

# --- tables + results.json ------------------------------------------------------
CPU="$( (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || echo ': unknown') | sed 's/^[^:]*: *//')"
export MACHINE_MEM="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
export MACHINE_KERNEL="$(uname -sr)"
export MACHINE_COMPILER="$(${CXX:-c++} --version 2>/dev/null | head -n 1)"
export KILN_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
export BENCH_WARMUP="$WARMUP" BENCH_REPEAT="$REPEAT"
ABLATION_PASSES=""
[[ $ABLATE -eq 0 ]] || ABLATION_PASSES="$(IFS=','; echo "${PASS_LIST[*]}")"
BENCH_DIR="$BENCH_DIR" ABLATION_PASSES="$ABLATION_PASSES" ABL_RUNS="$ABL_RUNS" ABL_COMPILE="$ABL_COMPILE" PEAKS="$PEAKS" \
node - "$RECORDS" "$OUT" "$RUNS" "$CPU" "${KILN:-}" "${BASELINE:-}" <<'JS'
const fs = require('fs');
const [records, out, runs, cpu, kiln, baseline] = process.argv.slice(2);
const readJsonl = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const rows = readJsonl(records);
const num = (o, k) => (o && typeof o[k] === 'number' ? o[k] : null);
const round3 = (x) => Math.round(x * 1000) / 1000;
const peaks = readJsonl(process.env.PEAKS);
const peakOf = (t) => (peaks.find((p) => p.threads === t) || {}).gflops || null;
const MiB = 1024 * 1024;
for (const r of rows) {
  const k = num(r.kiln, 'median_ms'), o = num(r.ort, 'median_ms'), f = num(r.kiln, 'flops');
  r.ratio = k && o ? round3(o / k) : null;
  r.kiln_gflops = k && f ? round3(f / (k * 1e6)) : null;
  r.ort_gflops = o && f ? round3(f / (o * 1e6)) : null;
  r.peak_gflops = peakOf(r.threads);
  r.kiln_pct_peak = r.kiln_gflops && r.peak_gflops ? round3(100 * r.kiln_gflops / r.peak_gflops) : null;
  r.ort_pct_peak = r.ort_gflops && r.peak_gflops ? round3(100 * r.ort_gflops / r.peak_gflops) : null;
  // The compiled model's peak RSS against its budget: weights + arena + 16 MiB.
  r.kiln_model_rss_bytes = num(r.kiln, 'model_peak_rss_bytes');
  r.kiln_process_rss_bytes = num(r.kiln, 'peak_rss_bytes');
  r.rss_budget_bytes = r.kiln ? num(r.kiln, 'weights_bytes') + num(r.kiln, 'arena_bytes') + 16 * MiB : null;
  r.ort_process_rss_bytes = num(r.ort, 'peak_rss_bytes');
  const b = num(r.baseline, 'median_ms');
  r.baseline_ratio = b && o ? round3(o / b) : null;
  r.vs_baseline = r.ratio && r.baseline_ratio ? round3(r.ratio / r.baseline_ratio) : null;
  r.ort_output_match = r.ort && typeof r.ort.output_match === 'boolean' ? r.ort.output_match : null;
}
const fmt = (x, d = 3) => (x === null ? '-' : x.toFixed(d));
// a text table: the first `left` columns left-aligned, the rest right-aligned
const table = (head, body, left = 1) => {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => (i < left ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  body.forEach((b) => console.log(line(b)));
};
const mib = (x) => (typeof x === 'number' ? (x / MiB).toFixed(1) : '-');
const opt = (x, d) => (x === null || x === undefined ? '-' : x.toFixed(d));
console.log(`FMA peak (bench/fma_peak.cpp): ${peaks.map((p) => `${p.gflops} GFLOP/s at ${p.threads} thread(s)`).join(', ') || '-'}\n`);
table(['model', 'threads', 'kiln ms', 'ort ms', 'ort/kiln', 'kiln GFLOP/s', 'kiln % peak', 'ort % peak',
  'kiln RSS MiB', 'budget MiB', 'ort RSS MiB', 'source KiB', 'build s', 'ort output'],
  rows.map((r) => [r.model, String(r.threads), fmt(num(r.kiln, 'median_ms')),
    fmt(num(r.ort, 'median_ms')), r.ratio === null ? '-' : r.ratio.toFixed(2),
    opt(r.kiln_gflops, 1), opt(r.kiln_pct_peak, 1), opt(r.ort_pct_peak, 1),
    mib(r.kiln_model_rss_bytes), mib(r.rss_budget_bytes), mib(r.ort_process_rss_bytes),
    opt(num(r.kiln, 'generated_source_bytes') && num(r.kiln, 'generated_source_bytes') / 1024, 1),
    opt(num(r.kiln, 'build_seconds'), 1),
    r.ort_output_match === null ? '-' : r.ort_output_match ? 'ok' : 'DIFFERS']));
const ortWrong = rows.filter((r) => r.ort_output_match === false);
if (ortWrong.length)
  console.log(`\nONNX Runtime's outputs differ from the reference on ${ortWrong.map((r) => `${r.model}@${r.threads}T`).join(', ')}`);
// The goal: geometric mean of ort/kiln >= 1.0 and no model below 0.8, per thread count.
const summary = [...new Set(rows.map((r) => r.threads))].map((t) => {
  const ratios = rows.filter((r) => r.threads === t && r.ratio).map((r) => r.ratio);
  const geomean = ratios.length ? Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length) : null;
  const min = ratios.length ? Math.min(...ratios) : null;
  return { threads: t, models: ratios.length, geomean_ratio: geomean && round3(geomean), min_ratio: min,
           goal_met: geomean !== null && geomean >= 1.0 && min >= 0.8 };
});
console.log('');
for (const x of summary)
  console.log(`${x.threads} thread(s): geomean ort/kiln ${opt(x.geomean_ratio, 2)}, lowest ${opt(x.min_ratio, 2)} ` +
              `over ${x.models} models; goal (geomean >= 1.0, none < 0.8) ${x.goal_met ? 'met' : 'NOT met'}`);

// --- against the baseline build (--baseline) ---
if (baseline) {
  console.log(`\nAgainst the baseline ${baseline} (new/base = (ort/kiln) / (ort/base); < 1: the new build is slower)\n`);
  table(['model', 'threads', 'kiln ms', 'base ms', 'ort ms', 'ort/kiln', 'ort/base', 'new/base'],
    rows.map((r) => [r.model, String(r.threads), fmt(num(r.kiln, 'median_ms')), fmt(num(r.baseline, 'median_ms')),
      fmt(num(r.ort, 'median_ms')), opt(r.ratio, 2), opt(r.baseline_ratio, 2), opt(r.vs_baseline, 2)]));
  const low = rows.filter((r) => r.vs_baseline !== null && r.vs_baseline < 0.95);
  console.log(`\n${low.length} of ${rows.length} model/thread pairs below 0.95 of the baseline's ratio` +
              (low.length ? `: ${low.map((r) => `${r.model}@${r.threads}T ${r.vs_baseline.toFixed(2)}`).join(', ')}` : ''));
}

// --- ablation: each pass left out in turn ---
const passes = (process.env.ABLATION_PASSES || '').split(',').filter(Boolean);
let ablation = null;
if (passes.length > 0) {
  const runsOff = readJsonl(process.env.ABL_RUNS);
  const compiles = readJsonl(process.env.ABL_COMPILE);
  const results = rows.map((r) => {
    const allOn = num(r.kiln, 'median_ms');
    const disabled = {};
    for (const p of passes) {
      const a = runsOff.find((x) => x.model === r.model && x.threads === r.threads && x.disabled === p);
      const k = a ? a.kiln : null, m = num(k, 'median_ms');
      disabled[p] = { median_ms: m, min_ms: num(k, 'min_ms'), slowdown: m && allOn ? round3(m / allOn) : null, kiln: k };
    }
    return { model: r.model, threads: r.threads, all_on: { median_ms: allOn, min_ms: num(r.kiln, 'min_ms') }, disabled };
  });
  const compile = [...new Set(rows.map((r) => r.model))].map((m) => {
    const report = (p) => (compiles.find((x) => x.model === m && x.disabled === p) || { report: null }).report;
    const disabled = {};
    for (const p of passes) disabled[p] = report(p);
    return { model: m, all_on: report(null), disabled };
  });
  ablation = {
    passes,
    slowdown: 'disabled[P].median_ms / all_on.median_ms; > 1 means pass P makes the model faster',
    results, compile,
  };

  console.log('\nEffect of each pass (no-P = kiln --disable P; slowdown = no-P ms / all-on ms, > 1: P helps)\n');
  table(['model', 'threads', 'all-on ms', ...passes.flatMap((p) => [`no-${p} ms`, 'slowdown'])],
    results.map((r) => [r.model, String(r.threads), fmt(r.all_on.median_ms),
      ...passes.flatMap((p) => {
        const x = r.disabled[p];
        return [fmt(x.median_ms), x.slowdown === null ? '-' : `${x.slowdown.toFixed(2)}x`];
      })]));

  console.log('\nWhat each pass changes (kiln compile --report; KiB = 1024 bytes)\n');
  const kib = (x) => (typeof x === 'number' ? (x / 1024).toFixed(1) : '-');
  const int = (x) => (typeof x === 'number' ? String(x) : '-');
  // C++ build time of the generated code (-O3 -march=native), from kiln run.
  const buildSeconds = (model, p) => {
    const r = results.find((x) => x.model === model);
    const k = !r ? null : p ? r.disabled[p].kiln : rows.find((x) => x.model === model).kiln;
    const b = num(k, 'build_seconds');
    return b ? b.toFixed(1) : '-';
  };
  table(['model', 'variant', 'kernels', 'unique kernels', 'sdpa matched', 'layout conv', 'arena KiB',
    'source KiB', 'build s'],
    compile.flatMap((c) => [['all-on', c.all_on, ''], ...passes.map((p) => [`no-${p}`, c.disabled[p], p])]
      .map(([v, rep, p]) => [c.model, v, int(rep && rep.kernels), int(rep && rep.unique_kernels),
        int(rep && rep.sdpa_matched), int(rep && rep.layout_conversions), kib(rep && rep.arena_bytes),
        kib(rep && rep.generated_source_bytes), buildSeconds(c.model, p)])), 2);
}

let ortVersion = null;
try { ortVersion = require(require.resolve('onnxruntime-node/package.json', { paths: [process.env.BENCH_DIR] })).version; } catch (e) {}
const doc = {
  date: new Date().toISOString(),
  cpu, nproc: require('os').cpus().length,
  machine: {
    cpu, cores: require('os').cpus().length, memory: process.env.MACHINE_MEM || null,
    kernel: process.env.MACHINE_KERNEL || null, compiler: process.env.MACHINE_COMPILER || null,
    node: process.version, kiln_commit: process.env.KILN_COMMIT || null,
  },
  runs: Number(runs), warmup: Number(process.env.BENCH_WARMUP), turns: Number(process.env.BENCH_REPEAT),
  kiln: kiln || null, baseline: baseline || null,
  ort_version: ortVersion || (rows.find((r) => r.ort && r.ort.ort_version) || {ort: {}}).ort.ort_version || null,
  fma_peak: peaks,
  summary,
  results: rows,
  ablation,
};
fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
console.log(`\nwrote ${out}`);
JS

if [[ $FAILED -ne 0 ]]; then
  echo "bench/run.sh: some runs failed (see messages above)" >&2
  exit 1
fi
