#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node) baseline for bench/run.sh.
//
// usage: node bench/ort_bench.js <model.onnx> <test_data_dir> <runs> <threads> [--warmup N]
//        [--rtol R --atol A] (default: kiln run's tolerance)
//
// Reads <test_data_dir>/input_<i>.pb (ONNX TensorProto files), creates a CPU
// session with intraOpNumThreads=<threads>, interOpNumThreads=1 and
// graphOptimizationLevel 'all', warms up, times <runs> runs and prints one JSON
// object on stdout:
//   {"median_ms":..,"min_ms":..,"mean_ms":..,"max_ms":..,"runs":..,"threads":..,
//    "ort_version":"..","max_abs_diff":..}
// When output_<i>.pb exist, max_abs_diff is the largest difference from them and
// output_match says whether ORT's outputs pass the check `kiln run` applies
// (|got - expected| <= atol + rtol |expected|, rtol 1e-3, atol 1e-3 x the
// largest |expected| element, at least 1e-7); both are null without them.
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`ort_bench.js: ${msg}\n`);
  process.exit(2);
}

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  die(`cannot load onnxruntime-node (${e.message}); ` +
      `run: (cd bench && npm install --ignore-scripts)`);
}

// ---------------------------------------------------------------------------
// Minimal protobuf decoder for onnx.TensorProto
// ---------------------------------------------------------------------------

class Reader {
  constructor(buf, start = 0, end = buf.length) {
    this.buf = buf; this.pos = start; this.end = end;
  }
  eof() { return this.pos >= this.end; }
  varint() {  // returns BigInt (unsigned 64-bit)
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
    return result;
  }
  varintNum() { return Number(this.varint()); }
  bytes() {
    const len = this.varintNum();
    if (this.pos + len > this.end) throw new Error('truncated length-delimited field');
    const s = this.pos; this.pos += len;
    return [s, this.pos];
  }
  skip(wire) {
    switch (wire) {
      case 0: this.varint(); break;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); break;
      case 5: this.pos += 4; break;
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

// ONNX TensorProto.DataType -> [ort type name, TypedArray, element size]
const DTYPES = {
  1: ['float32', Float32Array, 4],
  2: ['uint8', Uint8Array, 1],
  3: ['int8', Int8Array, 1],
  4: ['uint16', Uint16Array, 2],
  5: ['int16', Int16Array, 2],
  6: ['int32', Int32Array, 4],
  7: ['int64', BigInt64Array, 8],
  9: ['bool', Uint8Array, 1],
  11: ['float64', Float64Array, 8],
  12: ['uint32', Uint32Array, 4],
  13: ['uint64', BigUint64Array, 8],
};

function decodeTensorProto(buf) {
  const r = new Reader(buf);
  const dims = [];
  let dataType = 0, name = '', raw = null;
  const floatData = [], int32Data = [], int64Data = [], doubleData = [], uint64Data = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

  // repeated scalar field, packed (wire 2) or not
  const repeated = (wire, out, readOne, fixedSize) => {
    if (wire === 2) {
      const [s, e] = r.bytes();
      if (fixedSize) {
        for (let p = s; p < e; p += fixedSize) out.push(readOne(p));
      } else {
        const sub = new Reader(buf, s, e);
        while (!sub.eof()) out.push(readOne(sub));
      }
    } else if (fixedSize) {
      out.push(readOne(r.pos)); r.pos += fixedSize;
    } else {
      out.push(readOne(r));
    }
  };

  while (!r.eof()) {
    const key = r.varintNum();
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: repeated(wire, dims, (rd) => Number(BigInt.asIntN(64, rd.varint()))); break;
      case 2: dataType = r.varintNum(); break;
      case 4: repeated(wire, floatData, (p) => dv.getFloat32(p, true), 4); break;
      case 5: repeated(wire, int32Data, (rd) => Number(BigInt.asIntN(32, rd.varint()))); break;
      case 7: repeated(wire, int64Data, (rd) => BigInt.asIntN(64, rd.varint())); break;
      case 8: { const [s, e] = r.bytes(); name = buf.toString('utf8', s, e); break; }
      case 9: { const [s, e] = r.bytes(); raw = buf.subarray(s, e); break; }
      case 10: repeated(wire, doubleData, (p) => dv.getFloat64(p, true), 8); break;
      case 11: repeated(wire, uint64Data, (rd) => rd.varint()); break;
      case 14:  // data_location
        if (r.varintNum() !== 0) throw new Error('external data is not supported');
        break;
      default: r.skip(wire);
    }
  }

  const dt = DTYPES[dataType];
  if (!dt) throw new Error(`unsupported TensorProto data_type ${dataType}`);
  const [ortType, Arr, size] = dt;
  const count = dims.reduce((a, b) => a * b, 1);
  let data;
  if (raw !== null) {
    if (raw.length !== count * size) {
      throw new Error(`raw_data has ${raw.length} bytes, expected ${count * size}`);
    }
    // copy into an aligned buffer (raw_data is generally unaligned), little-endian
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    data = new Arr(copy.buffer);
  } else {
    let src;
    switch (dataType) {
      case 1: src = floatData; break;
      case 7: src = int64Data; break;
      case 11: src = doubleData; break;
      case 12: case 13: src = uint64Data; break;
      default: src = int32Data;  // int32, int16, int8, uint16, uint8, bool
    }
    if (src.length !== count) {
      throw new Error(`tensor has ${src.length} elements, expected ${count}`);
    }
    if (dataType === 12) src = src.map(Number);
    data = Arr.from(src);
  }
  return { name, ortType, dims, data };
}

function loadTensors(dir, prefix) {
  const files = fs.readdirSync(dir)
    .map((f) => { const m = new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f); return m ? [Number(m[1]), f] : null; })
    .filter(Boolean)
    .sort((a, b) => a[0] - b[0]);
  return files.map(([i, f]) => {
    try {
      return decodeTensorProto(fs.readFileSync(path.join(dir, f)));
    } catch (e) {
      die(`${path.join(dir, f)}: ${e.message}`);
    }
  });
}

// ---------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Tolerance of the output check, from --rtol/--atol (bench/run.sh passes a
// model's tolerance.txt).
let rtolGiven, atolGiven;

async function main() {
  const argv = process.argv.slice(2);
  let warmup = null;
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--warmup') warmup = Number(argv[++i]);
    else if (argv[i] === '--rtol') rtolGiven = Number(argv[++i]);
    else if (argv[i] === '--atol') atolGiven = Number(argv[++i]);
    else pos.push(argv[i]);
  }
  if (pos.length !== 4) {
    die('usage: node ort_bench.js <model.onnx> <test_data_dir> <runs> <threads> [--warmup N]');
  }
  const [modelPath, dataDir] = pos;
  const runs = Number(pos[2]), threads = Number(pos[3]);
  if (!Number.isInteger(runs) || runs < 1) die(`bad <runs>: ${pos[2]}`);
  if (!Number.isInteger(threads) || threads < 1) die(`bad <threads>: ${pos[3]}`);
  if (warmup === null) warmup = Math.min(10, Math.max(2, Math.ceil(runs / 5)));
  if (!fs.existsSync(modelPath)) die(`no such model: ${modelPath}`);
  if (!fs.existsSync(dataDir)) die(`no such test data dir: ${dataDir}`);

  const inputs = loadTensors(dataDir, 'input');
  if (inputs.length === 0) die(`no input_<i>.pb in ${dataDir}`);
  const expected = loadTensors(dataDir, 'output');

  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });

  const names = session.inputNames;
  if (inputs.length !== names.length) {
    die(`model has ${names.length} inputs, ${dataDir} has ${inputs.length} input_<i>.pb`);
  }
  const feeds = {};
  inputs.forEach((t, i) => {
    const n = names.includes(t.name) ? t.name : names[i];
    feeds[n] = new ort.Tensor(t.ortType, t.data, t.dims);
  });

  let out;
  for (let i = 0; i < warmup; i++) out = await session.run(feeds);
  if (warmup === 0) out = await session.run(feeds);

  let maxAbsDiff = null, outputMatch = null;
  if (expected.length > 0) {
    maxAbsDiff = 0;
    outputMatch = true;
    session.outputNames.forEach((n, i) => {
      const exp = expected.find((t) => t.name === n) || expected[i];
      if (!exp) return;
      const got = out[n].data;
      if (got.length !== exp.data.length) die(`output ${n}: ${got.length} elements, expected ${exp.data.length}`);
      let largest = 0;
      for (let j = 0; j < exp.data.length; j++) {
        const e = Math.abs(Number(exp.data[j]));
        if (Number.isFinite(e) && e > largest) largest = e;
      }
      const atol = atolGiven !== undefined ? atolGiven : Math.max(1e-7, 1e-3 * largest);
      const rtol = rtolGiven !== undefined ? rtolGiven : 1e-3;
      for (let j = 0; j < got.length; j++) {
        const g = Number(got[j]), e = Number(exp.data[j]);
        const d = Math.abs(g - e);
        if (!(d <= maxAbsDiff)) maxAbsDiff = d;  // also catches NaN
        if (!(d <= atol + rtol * Math.abs(e)) && !(Number.isNaN(g) && Number.isNaN(e)) && g !== e)
          outputMatch = false;
      }
    });
  }

  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const round = (x) => Math.round(x * 1000) / 1000;
  const result = {
    median_ms: round(median(times)),
    min_ms: round(Math.min(...times)),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
    max_ms: round(Math.max(...times)),
    runs,
    warmup,
    threads,
    ort_version: require('onnxruntime-node/package.json').version,
    max_abs_diff: maxAbsDiff,
    output_match: outputMatch,
    // peak resident size of this node process (ORT, its weights and node)
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  if (session.release) await session.release();
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
