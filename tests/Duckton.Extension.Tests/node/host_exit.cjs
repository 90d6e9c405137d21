// LOADs the extension, starts hosting in this process with p2p_share (listener and gossip run in the background),
// checks the node serves, then ends. The process must still exit by itself with code 0: background grid work never
// keeps a DuckDB host process alive or crashes it at exit.
// Usage: NODE_PATH=<client>/node_modules P2P_CONFIG_DIR=<dir> node host_exit.cjs <path to duckton.duckdb_extension>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${process.argv[2].replaceAll("'", "''")}'`);
  const share = await connection.runAndReadAll("SELECT key, value FROM p2p_share(memory => '256MB', threads => 1, max_jobs => 1)");
  const rows = Object.fromEntries(share.getRowsJS());
  process.stdout.write(`status=${rows.status} listen=${rows.listen_addr}\n`);
}

main().catch((e) => {
  process.stderr.write(`host_exit failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
