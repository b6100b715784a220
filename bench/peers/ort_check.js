// Compares an int8 ONNX graph (quantize_onnx.py) with the fp32 graph it came from, in ONNX Runtime
// (same session options as ort_bench.js, 1 thread), on one input: batch 1 x 128 of the bench ids.
// Prints the cosine similarity of the encoder's last hidden state and of the logits; exits 1 if
// the hidden-state cosine is below 0.99. Called by quantize_onnx.py --check.
//
//   node bench/peers/ort_check.js --fp32 A.onnx --int8 B.onnx --hidden TENSOR --bert 1 [--optimized OUT.onnx]
'use strict';
const ort = require('onnxruntime-node');

function args() {
  const out = { bert: '1', seq: '128', vocab: '30522' };
  const argv = process.argv.slice(2);
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; ++i) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function run(path, feeds, hidden, optimized) {
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1,
                 interOpNumThreads: 1, executionMode: 'sequential' };
  if (optimized) Object.assign(opts, { optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  const session = await ort.InferenceSession.create(path, opts);
  const out = await session.run(feeds, ['logits', hidden]);
  return { logits: out.logits.data, hidden: out[hidden].data };
}

async function main() {
  const a = args();
  const seq = Number(a.seq), vocab = Number(a.vocab);
  const ids = new BigInt64Array(seq), mask = new BigInt64Array(seq), types = new BigInt64Array(seq);
  for (let t = 0; t < seq; ++t) {
    let id = 1000 + (t * 7919) % (vocab - 1000);
    if (t === 0) id = 101;
    if (t === seq - 1) id = 102;
    ids[t] = BigInt(id);
    mask[t] = 1n;
  }
  const feeds = { input_ids: new ort.Tensor('int64', ids, [1, seq]), attention_mask: new ort.Tensor('int64', mask, [1, seq]) };
  if (a.bert === '1') feeds.token_type_ids = new ort.Tensor('int64', types, [1, seq]);
  const f = await run(a.fp32, feeds, a.hidden, null);
  const q = await run(a.int8, feeds, a.hidden, a.optimized);
  const ch = cosine(f.hidden, q.hidden), cl = cosine(f.logits, q.logits);
  console.log(`int8 vs fp32 (ONNX Runtime ${ort.env.versions.common}, 1 x ${seq}): hidden-state cosine ${ch.toFixed(6)}` +
              ` (max |diff| ${maxAbsDiff(f.hidden, q.hidden).toFixed(4)}), logits cosine ${cl.toFixed(6)}` +
              ` (fp32 [${Array.from(f.logits).map((v) => v.toFixed(4))}], int8 [${Array.from(q.logits).map((v) => v.toFixed(4))}])`);
  if (!(ch >= 0.99)) { console.error('hidden-state cosine below 0.99'); process.exit(1); }
}

main().catch((e) => { console.error(e); process.exit(1); });
