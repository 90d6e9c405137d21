// LOADs the extension into the DuckDB Node client, joins a running grid (`duckton grid up`) over TLS, runs verified
// remote queries (replicas 3, quorum 2, prefer remote) and reports what it saw as one JSON line.
// Node carries its own OpenSSL and exports it: this is the host process in which the extension's TLS must still work.
// Usage: NODE_PATH=<client>/node_modules P2P_CONFIG_DIR=<empty dir> node grid_query.cjs <extension> <seed> <hosts> [timed runs]
'use strict';
const fs = require('node:fs');
const { DuckDBInstance } = require('@duckdb/node-api');

const [extension, seed, hostsText, timedText] = process.argv.slice(2);
const hosts = Number(hostsText);
const timedRuns = Number(timedText ?? '7');
const remote = "replicas => 3, quorum => 2, prefer => 'remote'";
// Several column types, so the test sees each one travel through the grid and back into the Node client.
const typedSql = "SELECT i::INTEGER AS i, (i * 1000000000000)::BIGINT AS big, 'row-' || i AS label, i / 4 AS quarter, "
  + "i % 2 = 0 AS even, DATE '2024-01-01' + i::INTEGER AS day, (i * 1.25)::DECIMAL(10,2) AS price "
  + 'FROM range(5) t(i) ORDER BY i';

// The shared OpenSSL libraries mapped into this process (none: node links its OpenSSL in, and so does the extension).
function sharedOpenSsl() {
  const paths = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '');
  return [...new Set(paths.filter((p) => /\/lib(ssl|crypto)\.so/.test(p)))];
}

function quote(sql) {
  return `'${sql.replaceAll("'", "''")}'`;
}

async function keyValues(connection, sql) {
  const reader = await connection.runAndReadAll(sql);
  return Object.fromEntries(reader.getRowsJS().map((r) => [r[r.length - 2], r[r.length - 1]]));
}

async function main() {
  const report = { hosts };
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD ${quote(extension)}`);

  report.join = await keyValues(connection, `SELECT key, value FROM p2p_join(bootstrap => [${quote(seed)}])`);
  // The join's one gossip round may not learn every host; gossip goes on in the background.
  const started = Date.now();
  let status = await keyValues(connection, 'SELECT key, value FROM p2p_status()');
  while (Number(status.peers_live) < hosts && Date.now() - started < 60000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await keyValues(connection, 'SELECT key, value FROM p2p_status()');
  }
  report.peersLive = Number(status.peers_live);
  report.lastGossipError = status.last_gossip_error;
  report.joinMs = Date.now() - started;
  report.sharedOpenSsl = sharedOpenSsl();
  if (report.peersLive < hosts) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }

  const typed = await connection.runAndReadAll(`SELECT * FROM p2p_query(${quote(typedSql)}, ${remote})`);
  report.typed = {
    names: typed.columnNames(),
    types: typed.columnTypes().map((t) => t.toString()),
    typeIds: typed.columnTypes().map((t) => t.typeId),
    // The client's JSON form: BIGINT and DECIMAL as exact strings, DATE as 'YYYY-MM-DD'.
    rows: typed.getRowsJson(),
  };

  report.meta = await keyValues(connection,
    `SELECT key, value FROM p2p_query_meta(${quote('SELECT sum(i)::BIGINT AS s, count(*) AS n FROM range(100000) t(i)')}, ${remote})`);

  // The time of one verified remote query as a Node user sees it (a different SQL text each time: nothing cached).
  report.timedMs = [];
  for (let run = 0; run < timedRuns; run++) {
    const n = 1000 + run;
    const t0 = performance.now();
    const r = await connection.runAndReadAll(`SELECT * FROM p2p_query(${quote(`SELECT count(*) AS c, sum(i) AS s FROM range(${n}) t(i)`)}, ${remote})`);
    report.timedMs.push(performance.now() - t0);
    const [c, s] = r.getRowsJS()[0];
    if (Number(c) !== n || BigInt(s) !== BigInt(n * (n - 1) / 2)) {
      throw new Error(`wrong answer for range(${n}): ${c}, ${s}`);
    }
  }
  report.peers = (await connection.runAndReadAll('SELECT node_id FROM p2p_peers()')).getRowsJS().map((r) => r[0]);
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`grid_query failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
