// ONNX Runtime (onnxruntime-node, CPU execution provider) on one exported bench model: load time,
// latency percentiles, throughput and peak resident memory of this process, as one JSON line.
//
//   node bench/peers/ort_bench.js --model FILE.onnx --vocab 30522 --bert 1 --batch 1 --seq 128 \
//        --threads 1 --iters 50 [--warmup 5] [--dtype int8-dynamic]
//
// --engine NAME labels the row (default onnxruntime; e.g. onnxruntime-noamx under deny_amx.py).
// --dtype only labels the row: the graph decides what runs (run.sh passes FILE.int8.onnx, written
// by quantize_onnx.py, with --dtype int8-dynamic).
//
// Session options: graphOptimizationLevel 'all', intraOpNumThreads = threads, one inter-op thread,
// sequential execution. Inputs: the same ids as every engine (bench/peers/peer_model.py).
'use strict';
const ort = require('onnxruntime-node');

function args() {
  const out = { engine: 'onnxruntime', dtype: 'fp32', warmup: 5, iters: 50, batch: 1, seq: 128, threads: 1, bert: 1, vocab: 30522 };
  const argv = process.argv.slice(2);
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    out[key] = ['model', 'dtype', 'engine'].includes(key) ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
}

async function main() {
  const a = args();
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const n = a.batch * a.seq;
  const ids = new BigInt64Array(n), mask = new BigInt64Array(n), types = new BigInt64Array(n);
  for (let b = 0; b < a.batch; ++b)
    for (let t = 0; t < a.seq; ++t) {
      let id = 1000 + (t * 7919 + b * 104729) % (a.vocab - 1000);
      if (t === 0) id = 101;
      if (t === a.seq - 1) id = 102;
      ids[b * a.seq + t] = BigInt(id);
      mask[b * a.seq + t] = 1n;
    }
  const dims = [a.batch, a.seq];
  const feeds = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
  if (a.bert) feeds.token_type_ids = new ort.Tensor('int64', types, dims);

  let logits = null;
  for (let i = 0; i < a.warmup; ++i) logits = (await session.run(feeds)).logits;
  const ms = [], cpu = [];
  for (let i = 0; i < a.iters; ++i) {
    const c0 = process.cpuUsage();
    const s = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - s) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  ms.sort((x, y) => x - y);
  cpu.sort((x, y) => x - y);
  const total = ms.reduce((x, y) => x + y, 0);
  console.log(JSON.stringify({
    engine: a.engine, dtype: a.dtype, threads: a.threads, batch: a.batch, seq: a.seq,
    p50_ms: percentile(ms, 0.5), p95_ms: percentile(ms, 0.95), cpu_p50_ms: percentile(cpu, 0.5),
    seq_per_s: a.batch * ms.length / (total / 1e3),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024, load_ms: loadMs,
    first_logit: logits.data[0], ort_version: ort.env.versions.common,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
