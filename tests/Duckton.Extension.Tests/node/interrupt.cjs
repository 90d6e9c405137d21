// Loads duckton.duckdb_extension into the DuckDB Node client, starts p2p_query / p2p_query_meta statements that would run
// for minutes, and cancels them with the client's own DuckDBConnection.interrupt() (duckdb_interrupt); also checks that
// timeout_ms still ends a long query. Reports what it saw as one JSON line; never calls process.exit.
// Usage: NODE_PATH=<client>/node_modules node interrupt.cjs <path to duckton.duckdb_extension>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

// 10^11 rows hashed by the inner engine: minutes of work.
const LONG = 'SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function failure(promise) {
  const started = process.hrtime.bigint();
  try {
    await promise;
    return { error: null, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  } catch (e) {
    return { error: String(e.message), ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }
}

async function interrupted(connection, sql) {
  const running = connection.run(sql);
  let settled = false;
  running.then(() => { settled = true; }, () => { settled = true; });
  await sleep(2000); // the statement is binding: the inner engine is hashing rows
  const finishedEarly = settled;
  const started = process.hrtime.bigint();
  connection.interrupt();
  const r = await failure(running);
  return { finishedEarly, error: r.error, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

async function main() {
  const report = {};
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${process.argv[2].replaceAll("'", "''")}'`);
  await connection.run("SELECT * FROM p2p_query('SELECT 1 AS warm')"); // the node and its engine exist

  report.query = await interrupted(connection, `SELECT * FROM p2p_query('${LONG}')`);
  report.meta = await interrupted(connection, `SELECT * FROM p2p_query_meta('${LONG}')`);
  const after = await connection.runAndReadAll("SELECT * FROM p2p_query('SELECT 7 AS seven')");
  report.after = after.getRowsJS()[0][0];
  report.timeout = await failure(connection.run(`SELECT * FROM p2p_query('${LONG}', timeout_ms => 500)`));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e) => {
  process.stderr.write(`interrupt scenario failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
