// Extension benchmarks (docs/BENCHMARKS.md), each figure next to the anchor measured in the same run.
// Run through bench/extension/run.sh, which publishes the extension and installs the pinned Node client.
// Usage: NODE_PATH=<client>/node_modules node bench.cjs <duckton.duckdb_extension> [--processes N] [--calls N] [--runs N] [--load N]
//        ... bench.cjs <duckton.duckdb_extension> --info-loop N   (only N p2p_info() calls, for run.sh --perf)
//   --load N  also reads the 1 M rows while N busy processes compete for the cores (default: one per core; 0: skip).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, fork } = require('node:child_process');
const { DuckDBInstance, version } = require('@duckdb/node-api');

const now = () => process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quote = (s) => s.replaceAll("'", "''");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function open(extension) {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  if (extension) {
    await connection.run(`LOAD '${quote(extension)}'`);
  }
  return { instance, connection };
}

// One fresh process: how long opening DuckDB, the first LOAD (dlopen + .NET runtime start + registration), the first
// call, and a LOAD into a second database of the same process take.
async function child(extension) {
  const t0 = now();
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  const t1 = now();
  await connection.run(`LOAD '${quote(extension)}'`);
  const t2 = now();
  await connection.runAndReadAll('SELECT * FROM p2p_info()');
  const t3 = now();
  const second = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const c2 = await second.connect();
  const t4 = now();
  await c2.run(`LOAD '${quote(extension)}'`);
  const t5 = now();
  const rssKiB = Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  process.stdout.write(JSON.stringify({ open: ms(t0, t1), load: ms(t1, t2), firstCall: ms(t2, t3), secondLoad: ms(t4, t5), rssKiB }) + '\n');
}

// Median wall time per call of each statement, the statements interleaved so drift hits them alike.
async function perCall(connection, sqls, calls) {
  for (let i = 0; i < 200; i++) {
    for (const sql of sqls) {
      await connection.runAndReadAll(sql);
    }
  }
  const samples = sqls.map(() => []);
  for (let i = 0; i < calls; i++) {
    for (let k = 0; k < sqls.length; k++) {
      const t = now();
      await connection.runAndReadAll(sqls[k]);
      samples[k].push(ms(t, now()) * 1000);
    }
  }
  return samples.map(median);
}

// Median wall and CPU time (this process: the client, DuckDB's threads and the extension's) of reading each query's
// 1 M rows, the queries interleaved run by run so that drift and load hit them alike.
async function throughput(connection, sqls, runs, convert) {
  const wall = sqls.map(() => []);
  const cpu = sqls.map(() => []);
  for (let i = 0; i < runs + 1; i++) {
    for (let k = 0; k < sqls.length; k++) {
      const c0 = process.cpuUsage();
      const t = now();
      const reader = await connection.runAndReadAll(sqls[k]);
      const rows = convert ? reader.getColumnsJS()[0].length : reader.currentRowCount;
      const c = process.cpuUsage(c0);
      if (rows !== 1_000_000) {
        throw new Error(`expected 1000000 rows, read ${rows}`);
      }
      if (i > 0) {
        wall[k].push(ms(t, now()));
        cpu[k].push((c.user + c.system) / 1000);
      }
    }
  }
  return sqls.map((_, k) => ({ wall: median(wall[k]), cpu: median(cpu[k]) }));
}

// N processes that spin until killed: a machine whose cores are busy with other work.
async function withLoad(n, body) {
  const burners = [];
  for (let i = 0; i < n; i++) {
    burners.push(fork(__filename, ['--burn'], { stdio: 'ignore' }));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    return await body();
  } finally {
    for (const b of burners) {
      b.kill('SIGKILL');
    }
  }
}

async function main() {
  if (process.argv.includes('--burn')) {
    for (;;) {} // eslint-disable-line no-empty
  }
  const extension = path.resolve(process.argv[2]);
  if (process.argv.includes('--child')) {
    return child(extension);
  }
  if (process.argv.includes('--info-loop')) {
    // Only p2p_info() calls, for a profiler to attribute their CPU time (run.sh --perf).
    const calls = option('--info-loop', 20000);
    const { connection } = await open(extension);
    for (let i = 0; i < calls; i++) {
      await connection.runAndReadAll('SELECT * FROM p2p_info()');
    }
    process.stdout.write(`${calls}\n`);
    return;
  }
  const processes = option('--processes', 15);
  const calls = option('--calls', 3000);
  const runs = option('--runs', 5);
  const load = option('--load', require('node:os').cpus().length);
  const libduckdb = require.resolve('@duckdb/node-bindings-linux-x64/libduckdb.so');
  const out = { duckdb: version(), node: process.version, cpus: require('node:os').cpus().length };

  out.sizeBytes = fs.statSync(extension).size;
  out.libduckdbBytes = fs.statSync(libduckdb).size;

  const loads = [];
  for (let i = 0; i < processes; i++) {
    const line = execFileSync(process.execPath, [__filename, extension, '--child'], { encoding: 'utf8' });
    loads.push(JSON.parse(line.trim().split('\n').pop()));
  }
  for (const key of ['open', 'load', 'firstCall', 'secondLoad']) {
    out[`${key}Ms`] = median(loads.map((l) => l[key]));
  }
  out.rssKiB = median(loads.map((l) => l.rssKiB));

  const { connection } = await open(extension);
  [out.select42Us, out.p2pInfoUs, out.range6Us] =
    await perCall(connection, ['SELECT 42', 'SELECT * FROM p2p_info()', 'SELECT * FROM range(6)'], calls);
  [out.smallDirectUs, out.smallP2pQueryUs] =
    await perCall(connection, ['SELECT 42 AS answer', "SELECT * FROM p2p_query('SELECT 42 AS answer')"], Math.min(calls, 1000));
  // The same small query with pauses, so the engine's warm instances are ready again before each call; the direct
  // query is paused the same way (interleaved), since a call after a pause costs more for it too.
  const spaced = [];
  const spacedDirect = [];
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    let t = now();
    await connection.runAndReadAll('SELECT 42 AS answer');
    spacedDirect.push(ms(t, now()) * 1000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    t = now();
    await connection.runAndReadAll("SELECT * FROM p2p_query('SELECT 42 AS answer')");
    spaced.push(ms(t, now()) * 1000);
  }
  out.smallP2pQuerySpacedUs = median(spaced);
  out.smallDirectSpacedUs = median(spacedDirect);

  const query = "SELECT i::INTEGER AS i, i*1.5 AS d, 'row-'||i AS s FROM range(1000000) t(i)";
  const viaP2p = `SELECT * FROM p2p_query('${quote(query)}')`;
  [out.directChunks, out.p2pChunks] = await throughput(connection, [query, viaP2p], runs, false);
  [out.directValues, out.p2pValues] = await throughput(connection, [query, viaP2p], runs, true);
  out.load = load;
  if (load > 0) {
    [out.directChunksLoaded, out.p2pChunksLoaded] = await withLoad(load, () => throughput(connection, [query, viaP2p], runs, false));
  }

  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(report(out, { processes, calls, runs, load }));
}

function report(o, n) {
  const f = (x, d = 1) => x.toFixed(d);
  const overhead = o.p2pInfoUs - o.select42Us;
  return `
| figure | duckton | anchor (same run) | ratio | target |
|---|---|---|---|---|
| file size | ${(o.sizeBytes / 1048576).toFixed(2)} MiB | libduckdb.so ${(o.libduckdbBytes / 1048576).toFixed(1)} MiB | ${f(o.sizeBytes / o.libduckdbBytes, 3)}× | — |
| first LOAD in a fresh process (median of ${n.processes}) | ${f(o.loadMs)} ms | opening an in-memory DuckDB: ${f(o.openMs)} ms | ${f(o.loadMs / o.openMs, 2)}× | — |
| LOAD into a second database of the same process | ${f(o.secondLoadMs, 2)} ms | opening an in-memory DuckDB: ${f(o.openMs)} ms | ${f(o.secondLoadMs / o.openMs, 2)}× | — |
| first \`p2p_info()\` call after LOAD | ${f(o.firstCallMs, 2)} ms | — | — | — |
| \`SELECT * FROM p2p_info()\` per call (median of ${n.calls}) | ${f(o.p2pInfoUs)} µs | \`SELECT 42\`: ${f(o.select42Us)} µs | ${f(o.p2pInfoUs / o.select42Us, 2)}× (+${f(overhead)} µs) | ≤ +50 µs |
| DuckDB's own table function \`SELECT * FROM range(6)\` per call (same loop) | ${f(o.range6Us)} µs | \`SELECT 42\`: ${f(o.select42Us)} µs | ${f(o.range6Us / o.select42Us, 2)}× (+${f(o.range6Us - o.select42Us)} µs) | — |
| small \`p2p_query('SELECT 42 AS answer')\`, one call every 150 ms (median of 30) | ${f(o.smallP2pQuerySpacedUs)} µs | \`SELECT 42 AS answer\` also after 150 ms: ${f(o.smallDirectSpacedUs)} µs | ${f(o.smallP2pQuerySpacedUs / o.smallDirectSpacedUs, 2)}× | ≤ 2 ms |
| small \`p2p_query('SELECT 42 AS answer')\`, back to back (median of ${Math.min(n.calls, 1000)}) | ${f(o.smallP2pQueryUs)} µs | \`SELECT 42 AS answer\`: ${f(o.smallDirectUs)} µs | ${f(o.smallP2pQueryUs / o.smallDirectUs, 2)}× | ≤ 2 ms |
| 1 M rows (int, double, varchar), chunks read by the client (median of ${n.runs}, interleaved) | ${f(o.p2pChunks.wall)} ms, CPU ${f(o.p2pChunks.cpu, 0)} ms | same query direct: ${f(o.directChunks.wall)} ms, CPU ${f(o.directChunks.cpu, 0)} ms | ${f(o.p2pChunks.wall / o.directChunks.wall, 2)}× wall, ${f(o.p2pChunks.cpu / o.directChunks.cpu, 2)}× CPU | ≤ 1.3× |
| 1 M rows, converted to JS values (median of ${n.runs}) | ${f(o.p2pValues.wall)} ms | same query direct: ${f(o.directValues.wall)} ms | ${f(o.p2pValues.wall / o.directValues.wall, 2)}× | ≤ 1.3× |
${n.load > 0 ? loaded(o, n, f) : ''}
RSS of a fresh Node process after LOAD + first call: ${(o.rssKiB / 1024).toFixed(1)} MiB. DuckDB ${o.duckdb}, Node ${o.node}, ${o.cpus} cores.
`;
}

// The chunk read again while n.load busy processes compete for the cores: the extension should slow down no more than
// DuckDB's own query does.
function loaded(o, n, f) {
  const direct = o.directChunksLoaded.wall / o.directChunks.wall;
  const p2p = o.p2pChunksLoaded.wall / o.p2pChunks.wall;
  return `| 1 M rows, chunks, with ${n.load} busy processes on the ${o.cpus} cores (median of ${n.runs}, interleaved) | ${f(o.p2pChunksLoaded.wall)} ms, CPU ${f(o.p2pChunksLoaded.cpu, 0)} ms | same query direct: ${f(o.directChunksLoaded.wall)} ms, CPU ${f(o.directChunksLoaded.cpu, 0)} ms | ${f(o.p2pChunksLoaded.wall / o.directChunksLoaded.wall, 2)}× wall, ${f(o.p2pChunksLoaded.cpu / o.directChunksLoaded.cpu, 2)}× CPU | ≤ 1.3× |
| slowdown under that load (loaded / quiet wall time) | \`p2p_query\` ${f(p2p, 2)}× | direct ${f(direct, 2)}× | ${f(p2p / direct, 2)}× | no worse than direct |
`;
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
