// Loads duckton.duckdb_extension into the DuckDB Node client and exercises the economics functions (no chain needed):
// the default row, the economics-off error, switching on, p2p_status's network, the no-wallet error. One JSON line.
// Usage: NODE_PATH=<client>/node_modules P2P_CONFIG_DIR=<dir> node economics.cjs <extension> <rpc url>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function rows(connection, sql) {
  const reader = await connection.runAndReadAll(sql);
  return {
    names: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: reader.getRowObjectsJson(),
  };
}

async function error(connection, sql) {
  try {
    await connection.run(sql);
    return null;
  } catch (e) {
    return String(e.message);
  }
}

async function main() {
  const [extension, rpc] = process.argv.slice(2);
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${extension.replaceAll("'", "''")}'`);
  const report = {};
  report.defaults = await rows(connection, 'SELECT * FROM p2p_economics()');
  report.offError = await error(connection, 'SELECT * FROM p2p_fees()');
  report.enabled = await rows(connection, `SELECT * FROM p2p_economics(enabled => true, network => 'local', rpc => '${rpc}')`);
  report.status = await rows(connection, "SELECT value FROM p2p_status() WHERE key = 'network'");
  report.noWallet = await error(connection, 'SELECT * FROM p2p_stake(1)');
  report.mainnet = await error(connection, "SELECT * FROM p2p_economics(network => 'mainnet')");
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
