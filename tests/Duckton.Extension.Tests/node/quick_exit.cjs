// LOADs the extension, runs one p2p_query (which starts the engine's background warm-up) and ends at once,
// while that background work is still going. The process must still exit by itself with code 0.
// Usage: NODE_PATH=<client>/node_modules node quick_exit.cjs <path to duckton.duckdb_extension>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${process.argv[2].replaceAll("'", "''")}'`);
  const r = await connection.runAndReadAll("SELECT * FROM p2p_query('SELECT 42 AS answer')");
  process.stdout.write(`answer=${r.getRowsJS()[0][0]}\n`);
}

main().catch((e) => {
  process.stderr.write(`quick_exit failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
