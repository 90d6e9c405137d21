// Loads duckton.duckdb_extension into the DuckDB Node client and reports what it saw as one JSON line.
// Usage: NODE_PATH=<client>/node_modules node scenario.cjs <path to duckton.duckdb_extension>
// It never calls process.exit: the process must end by itself once the work is done (the test checks its exit code).
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

const extension = process.argv[2];

async function open() {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${extension.replaceAll("'", "''")}'`);
  return { instance, connection };
}

async function keyValues(connection, sql, keyColumn, valueColumn) {
  const reader = await connection.runAndReadAll(sql);
  const out = {};
  for (const row of reader.getRowObjectsJson()) {
    out[row[keyColumn]] = row[valueColumn];
  }
  return out;
}

async function main() {
  const report = {};
  const { instance, connection } = await open();

  report.info = await keyValues(connection, 'SELECT * FROM p2p_info()', 'key', 'value');

  const answer = await connection.runAndReadAll("SELECT * FROM p2p_query('SELECT 42 AS answer')");
  report.answer = {
    names: answer.columnNames(),
    types: answer.columnTypes().map((t) => t.toString()),
    typeIds: answer.columnTypes().map((t) => t.typeId),
    rows: answer.getRowsJS().map((r) => r.map((v) => (typeof v === 'bigint' ? `${v}n` : v))),
  };

  report.meta = await keyValues(connection, "SELECT * FROM p2p_query_meta('SELECT * FROM range(3)')", 'key', 'value');

  try {
    await connection.run("SELECT * FROM p2p_query('SELEC 1')");
    report.badQuery = { error: null };
  } catch (e) {
    report.badQuery = { error: String(e.message) };
  }
  const after = await connection.runAndReadAll("SELECT * FROM p2p_query('SELECT 7 AS seven')");
  report.afterError = after.getRowsJS()[0][0];

  // Four connections of one database, each running several queries, all at once.
  const connections = await Promise.all([1, 2, 3, 4].map(() => instance.connect()));
  report.concurrent = await Promise.all(connections.map(async (c, index) => {
    const k = index + 1;
    const seen = [];
    for (let round = 0; round < 5; round++) {
      const n = 50000 * k + round;
      const r = await c.runAndReadAll(
        `SELECT * FROM p2p_query('SELECT count(*)::BIGINT AS n, sum(i)::BIGINT AS s FROM range(${n}) t(i)')`);
      const [count, sum] = r.getRowsJS()[0];
      seen.push({ n, count: Number(count), sum: String(sum) });
      await c.runAndReadAll('SELECT * FROM p2p_info()');
    }
    return seen;
  }));

  // A second database in the same process loads the same file (init runs again).
  const second = await open();
  const r2 = await second.connection.runAndReadAll("SELECT * FROM p2p_query('SELECT ''second'' AS who')");
  report.secondDatabase = r2.getRowsJS()[0][0];

  const ext = await connection.runAndReadAll(
    "SELECT loaded, extension_version FROM duckdb_extensions() WHERE extension_name = 'duckton'");
  report.extension = ext.getRowObjectsJson()[0] ?? null;

  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`scenario failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
