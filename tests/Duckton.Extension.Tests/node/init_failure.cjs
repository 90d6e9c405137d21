// LOADs the extension in a process where its init is made to fail (DUCKTON_EXTENSION_FAIL_INIT=1 in the
// environment) and reports the LOAD error and whether the database still works, as one JSON line.
// Usage: DUCKTON_EXTENSION_FAIL_INIT=1 NODE_PATH=<client>/node_modules node init_failure.cjs <path to duckton.duckdb_extension>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  let error = null;
  try {
    await connection.run(`LOAD '${process.argv[2].replaceAll("'", "''")}'`);
  } catch (e) {
    error = String(e.message);
  }
  const after = (await connection.runAndReadAll('SELECT 1 + 1 AS two')).getRowsJS()[0][0];
  const exists = (await connection.runAndReadAll(
    "SELECT count(*) > 0 FROM duckdb_functions() WHERE function_name = 'p2p_info'")).getRowsJS()[0][0];
  process.stdout.write(JSON.stringify({ error, after, p2pInfoExists: exists }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`init_failure failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
