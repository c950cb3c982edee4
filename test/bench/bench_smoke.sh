#!/usr/bin/env bash
# CI check that the benchmark runs (bench/README.md): bench/run.sh on one
# small generated model at 1 and 2 threads, with a one-pass ablation, and
# the fields of the JSON it writes. It times nothing against a target.
#
# usage: bench_smoke.sh KILN MODELS_DIR WORK_DIR
set -euo pipefail
kiln="$1" models="$2" work="$3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rm -rf "$work" && mkdir -p "$work/models"
ln -s "$models/mobilenet_v3_small" "$work/models/mobilenet_v3_small"
"$root/bench/run.sh" --kiln "$kiln" --models "$work/models" --runs 2 --threads 1,2 \
  --passes fusion --out "$work/results.json" | tee "$work/table.txt"
grep -q "geomean ort/kiln" "$work/table.txt"
node - "$work/results.json" <<'JS'
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const fail = (m) => { console.error(`bench_smoke: ${m}`); process.exit(1); };
const isNum = (x) => typeof x === 'number' && Number.isFinite(x) && x > 0;
if (!Array.isArray(r.fma_peak) || r.fma_peak.length !== 2 || !r.fma_peak.every((p) => isNum(p.gflops)))
  fail('fma_peak should hold the peak at 1 and 2 threads');
if (!Array.isArray(r.results) || r.results.length !== 2) fail('expected 2 result rows (1 model x 2 thread counts)');
for (const x of r.results) {
  const where = `${x.model} at ${x.threads} thread(s)`;
  if (!x.kiln || x.kiln.match !== true) fail(`${where}: kiln's outputs do not match the test data`);
  for (const k of ['median_ms', 'flops', 'peak_rss_bytes', 'build_seconds', 'generated_source_bytes'])
    if (!isNum(x.kiln[k])) fail(`${where}: kiln.${k} missing`);
  if (!x.ort || !isNum(x.ort.median_ms) || !isNum(x.ort.peak_rss_bytes)) fail(`${where}: no ONNX Runtime timing or RSS`);
  if (x.ort.output_match !== true) fail(`${where}: ONNX Runtime's outputs were not checked, or differ from the reference`);
  if (x.kiln.warmup !== r.warmup || x.ort.warmup !== r.warmup) fail(`${where}: Kiln and ORT did not get the same warm-up`);
  for (const k of ['ratio', 'kiln_gflops', 'kiln_pct_peak', 'ort_pct_peak', 'rss_budget_bytes'])
    if (!isNum(x[k])) fail(`${where}: ${k} missing`);
}
if (!Array.isArray(r.summary) || r.summary.length !== 2 || !r.summary.every((s) => isNum(s.geomean_ratio) && typeof s.goal_met === 'boolean'))
  fail('summary should give the geomean and goal per thread count');
if (!r.ablation || r.ablation.passes.join() !== 'fusion' || r.ablation.results.length !== 2)
  fail('ablation should hold the no-fusion runs');
if (r.turns !== 2) fail('Kiln and ORT should take two interleaved turns by default');
for (const k of ['cpu', 'cores', 'memory', 'kernel', 'compiler', 'node', 'kiln_commit'])
  if (!r.machine || !r.machine[k]) fail(`machine.${k} missing`);
console.log('bench_smoke: results.json has every field');
JS
