// node_fetch_peer: the benchmark requests through Node's global fetch (the transport of
// Scenario's official JavaScript SDK), each body parsed with JSON.parse. fetch runs on undici;
// an undici Agent keeps at most --pool keep-alive connections, and callers beyond them queue.
// Takes the command line of every peer (see peer_common.py) and prints one JSON line.
//
//     node node_fetch_peer.mjs --base-url URL --ca-file PEM --key K --secret S ...

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'ca-file': { type: 'string', default: '' },
    key: { type: 'string' },
    secret: { type: 'string' },
    workload: { type: 'string', default: 'get' },
    concurrency: { type: 'string', default: '64' },
    pool: { type: 'string', default: '16' },
    count: { type: 'string', default: '20000' },
    'page-size': { type: 'string', default: '100' },
    ids: { type: 'string', default: '' },
    'consume-ms': { type: 'string', default: '0' },
    prefetch: { type: 'string', default: '0' },
  },
});
const baseUrl = args['base-url'];
const concurrency = Number(args.concurrency);
const pool = Number(args.pool);
const count = Number(args.count);
const pageSize = Number(args['page-size']);
const consumeMs = Number(args['consume-ms']);
const prefetch = args.prefetch === '1';

// The undici package (benchmarks/setup installs it) or else the Agent class of Node's own copy,
// whose default dispatcher sits under this global symbol once fetch has been used.
async function agentClass() {
  try {
    return (await import('undici')).Agent;
  } catch {
    await fetch('data:,');
    return globalThis[Symbol.for('undici.globalDispatcher.1')].constructor;
  }
}

const Agent = await agentClass();
const dispatcher = new Agent({
  connections: pool,
  connect: args['ca-file'] ? { ca: readFileSync(args['ca-file']) } : {},
});
let handshakes = 0;
dispatcher.on('connect', () => handshakes++);

const headers = {
  accept: 'application/json',
  authorization: 'Basic ' + Buffer.from(`${args.key}:${args.secret}`).toString('base64'),
};

async function getJson(url) {
  const response = await fetch(url, { headers, dispatcher });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return JSON.parse(text);
}

const results = { requests: 0, errors: 0, models: 0, pages: 0, checksum: 0, latencies: [] };
let firstError = '';
let started = performance.now();
let cpuStarted = process.cpuUsage();

async function getModels() {
  const urls = readFileSync(args.ids, 'utf8')
    .split('\n')
    .filter((id) => id)
    .map((id) => `${baseUrl}/models/${encodeURIComponent(id)}`);
  let next = 0;
  async function caller() {
    while (next < count) {
      const url = urls[next++ % urls.length];
      const start = performance.now();
      try {
        const body = await getJson(url);
        results.checksum += body.model.id.length;
        results.requests++;
      } catch (error) {
        if (results.errors++ === 0) firstError = String(error);
      }
      results.latencies.push(performance.now() - start);
    }
  }
  started = performance.now();
  cpuStarted = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, caller));
}

// Pages one after the other; with --consume-ms the consumer then waits that long on each, and
// with --prefetch the next page is asked for before it starts.
async function streamPages() {
  const pageUrl = (token) => {
    const query = new URLSearchParams({ pageSize: String(pageSize) });
    if (token) query.set('paginationToken', token);
    return `${baseUrl}/models/public?${query}`;
  };
  let start = performance.now();
  let page = await getJson(pageUrl(null));
  for (;;) {
    results.latencies.push(performance.now() - start);
    results.pages++;
    results.requests++;
    for (const model of page.models.slice(0, count - results.models)) {
      results.models++;
      results.checksum += model.id.length;
    }

    const token = page.nextPaginationToken;
    const more = Boolean(token) && results.models < count;
    const nextPage = more && prefetch ? getJson(pageUrl(token)) : null;
    if (consumeMs > 0) await sleep(consumeMs);
    if (!more) return;
    start = performance.now();
    page = await (nextPage ?? getJson(pageUrl(token)));
  }
}

if (args.workload === 'get') await getModels();
else await streamPages();

const wall = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStarted);
const latencies = results.latencies.sort((a, b) => a - b);
const percentile = (p) => {
  if (!latencies.length) return 0;
  return latencies[Math.min(Math.floor((p / 100) * latencies.length), latencies.length - 1)];
};

console.log(
  JSON.stringify({
    client: 'node-fetch',
    workload: args.workload,
    concurrency,
    pool,
    consume_ms: consumeMs,
    prefetch,
    requests: results.requests,
    errors: results.errors,
    models: results.models,
    pages: results.pages,
    handshakes,
    checksum: results.checksum,
    wall_s: wall,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    p50_ms: percentile(50),
    p99_ms: percentile(99),
  }),
);
if (results.errors) console.error(`node-fetch: ${results.errors} errors; the first: ${firstError}`);
await dispatcher.close();
process.exitCode = results.errors ? 2 : 0;
