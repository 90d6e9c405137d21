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
  report.status = await keyValues(connection, 'SELECT key, value FROM p2p_status()', 'key', 'value');

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

  // Job proofs: the worked example of docs/PROTOCOL.md ("Job records and epoch roots") checked offline, then tampered.
  const proof = {
    format: 'duckton-job-proof-v1',
    record: { job_id: 'job-1', query_hash: 'q', result_hash: 'h', certificate_hash: '00'.repeat(32),
      requester: 'b3:' + 'a'.repeat(64), winner: 'b3:' + 'b'.repeat(64), epoch: 1 },
    leaf: '581c50073e23a4788e2bb1b113859d8d65b48fa03117e6c17bbc886adc343d56',
    index: 0,
    leaf_count: 3,
    path: [{ side: 'right', hash: '07f41b5b286d7fdaa092e70b24b41f6b2e62015c3e1311e6fee1408d08003f62' },
      { side: 'right', hash: 'b86086ac8a72f4cc8f7aac06aba2b43210a603d280c1adb077700e51eb3a3b2b' }],
    root: '887cf49c4359cad874b2b3b324b86f0a51c852bce27471fa992bb86d6ecc523d',
    anchor: null,
  };
  const verify = async (doc) => (await connection.runAndReadAll(
    `SELECT valid, error, job_id, epoch::VARCHAR AS epoch, typeof(epoch) AS epoch_type FROM p2p_verify_proof('${JSON.stringify(doc).replaceAll("'", "''")}')`)).getRowObjectsJson()[0];
  report.proofValid = await verify(proof);
  report.proofTampered = await verify({ ...proof, record: { ...proof.record, epoch: 2 } });
  try {
    await connection.run("SELECT * FROM p2p_job_proof('no-such-job')");
    report.jobProofUnknown = { error: null };
  } catch (e) {
    report.jobProofUnknown = { error: String(e.message) };
  }
  report.epochs = (await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM p2p_epochs()')).getRowsJS()[0][0];

  const ext = await connection.runAndReadAll(
    "SELECT loaded, extension_version FROM duckdb_extensions() WHERE extension_name = 'duckton'");
  report.extension = ext.getRowObjectsJson()[0] ?? null;

  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`scenario failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
