#!/usr/bin/env bash
# Kiln vs ONNX Runtime CPU benchmark.
#
# usage: bench/run.sh [--kiln PATH] [--models DIR] [--runs N] [--threads LIST]
#                     [--ort-only] [--out FILE]
#
# For every DIR/<name>/ holding model.onnx and test_data_set_0/, at each thread
# count (default 1,2) it runs
#   kiln run DIR/<name>/model.onnx --data DIR/<name>/test_data_set_0 --bench N --threads T --rtol 1e-3 --atol 1e-4 --json
#   node bench/ort_bench.js DIR/<name>/model.onnx DIR/<name>/test_data_set_0 N T
# prints a table (ratio = ort/kiln, > 1 means Kiln is faster) and writes
# bench/results.json.  See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

KILN=""
MODELS="$ROOT/build/models"
RUNS=50
THREADS="1,2"
ORT_ONLY=0
OUT="$BENCH_DIR/results.json"

die() { echo "bench/run.sh: error: $*" >&2; exit 2; }
usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --kiln)    [[ $# -ge 2 ]] || die "--kiln needs a path"; KILN="$2"; shift 2 ;;
    --models)  [[ $# -ge 2 ]] || die "--models needs a directory"; MODELS="$2"; shift 2 ;;
    --runs)    [[ $# -ge 2 ]] || die "--runs needs a number"; RUNS="$2"; shift 2 ;;
    --threads) [[ $# -ge 2 ]] || die "--threads needs a list such as 1,2"; THREADS="$2"; shift 2 ;;
    --out)     [[ $# -ge 2 ]] || die "--out needs a file"; OUT="$2"; shift 2 ;;
    --ort-only) ORT_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer (got '$RUNS')"
[[ "$THREADS" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--threads must look like 1,2 (got '$THREADS')"
IFS=',' read -r -a THREAD_LIST <<< "$THREADS"

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

# --- onnxruntime-node --------------------------------------------------------
if ! (cd "$BENCH_DIR" && node -e "require.resolve('onnxruntime-node')" >/dev/null 2>&1); then
  command -v npm >/dev/null 2>&1 || die "onnxruntime-node is not installed in bench/node_modules and npm is not on PATH"
  echo "bench/run.sh: installing onnxruntime-node into bench/node_modules ..." >&2
  (cd "$BENCH_DIR" && npm install --ignore-scripts --no-audit --no-fund >&2) \
    || die "npm install --ignore-scripts onnxruntime-node failed (in $BENCH_DIR)"
fi

# --- run -----------------------------------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
RECORDS="$TMP/records.jsonl"
: > "$RECORDS"
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

for d in "${MODEL_DIRS[@]}"; do
  name="$(basename "$d")"
  model="$d/model.onnx"
  data="$d/test_data_set_0"
  for t in "${THREAD_LIST[@]}"; do
    kiln_json="null"; ort_json="null"
    if [[ $ORT_ONLY -eq 0 ]]; then
      echo "== $name threads=$t: kiln" >&2
      if "$KILN" run "$model" --data "$data" --bench "$RUNS" --threads "$t" --rtol 1e-3 --atol 1e-4 --json \
           > "$TMP/kiln.out" 2> "$TMP/kiln.err"; then
        kiln_json="$(json_line "$TMP/kiln.out")"
        if [[ -z "$kiln_json" ]]; then
          echo "bench/run.sh: kiln printed no JSON object for $name (threads=$t); stdout was:" >&2
          cat "$TMP/kiln.out" >&2; kiln_json="null"; FAILED=1
        fi
      else
        rc=$?
        echo "bench/run.sh: kiln failed on $name (threads=$t, exit $rc):" >&2
        tail -n 20 "$TMP/kiln.err" >&2; FAILED=1
      fi
    fi
    echo "== $name threads=$t: onnxruntime" >&2
    if node "$BENCH_DIR/ort_bench.js" "$model" "$data" "$RUNS" "$t" \
         > "$TMP/ort.out" 2> "$TMP/ort.err"; then
      ort_json="$(json_line "$TMP/ort.out")"
      [[ -n "$ort_json" ]] || { echo "bench/run.sh: ort_bench.js printed no JSON for $name" >&2; ort_json="null"; FAILED=1; }
    else
      rc=$?
      echo "bench/run.sh: onnxruntime failed on $name (threads=$t, exit $rc):" >&2
      tail -n 20 "$TMP/ort.err" >&2; FAILED=1
    fi
    printf '{"model":"%s","threads":%d,"kiln":%s,"ort":%s}\n' \
      "$name" "$t" "$kiln_json" "$ort_json" >> "$RECORDS"
  done
done

# --- table + results.json ------------------------------------------------------
CPU="$( (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || echo ': unknown') | sed 's/^[^:]*: *//')"
BENCH_DIR="$BENCH_DIR" node - "$RECORDS" "$OUT" "$RUNS" "$CPU" "${KILN:-}" <<'JS'
const fs = require('fs');
const [records, out, runs, cpu, kiln] = process.argv.slice(2);
const rows = fs.readFileSync(records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const num = (o, k) => (o && typeof o[k] === 'number' ? o[k] : null);
for (const r of rows) {
  const k = num(r.kiln, 'median_ms'), o = num(r.ort, 'median_ms');
  r.ratio = k && o ? Math.round((o / k) * 1000) / 1000 : null;
}
const fmt = (x, d = 3) => (x === null ? '-' : x.toFixed(d));
const head = ['model', 'threads', 'kiln median ms', 'ort median ms', 'ratio (ort/kiln)'];
const body = rows.map((r) => [r.model, String(r.threads), fmt(num(r.kiln, 'median_ms')),
  fmt(num(r.ort, 'median_ms')), r.ratio === null ? '-' : r.ratio.toFixed(2)]);
const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(line(head));
console.log(w.map((n) => '-'.repeat(n)).join('  '));
body.forEach((b) => console.log(line(b)));
let ortVersion = null;
try { ortVersion = require(require.resolve('onnxruntime-node/package.json', { paths: [process.env.BENCH_DIR] })).version; } catch (e) {}
const doc = {
  date: new Date().toISOString(),
  cpu, nproc: require('os').cpus().length,
  runs: Number(runs), kiln: kiln || null,
  ort_version: ortVersion || (rows.find((r) => r.ort && r.ort.ort_version) || {ort: {}}).ort.ort_version || null,
  results: rows,
};
fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
console.log(`\nwrote ${out}`);
JS

if [[ $FAILED -ne 0 ]]; then
  echo "bench/run.sh: some runs failed (see messages above)" >&2
  exit 1
fi
