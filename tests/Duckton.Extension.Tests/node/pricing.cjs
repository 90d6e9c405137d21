// LOADs the extension and drives p2p_pricing / p2p_bidding as a Node user would: show, set, read back typed values,
// and one refused value (its error is reported, and the process carries on). Prints one JSON line.
// Usage: NODE_PATH=<client>/node_modules P2P_CONFIG_DIR=<dir> node pricing.cjs <path to duckton.duckdb_extension>
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const instance = await DuckDBInstance.create(':memory:', { allow_unsigned_extensions: 'true' });
  const connection = await instance.connect();
  await connection.run(`LOAD '${process.argv[2].replaceAll("'", "''")}'`);
  const row = async (sql) => {
    const r = await connection.runAndReadAll(sql);
    return { names: r.columnNames(), types: r.columnTypes().map((t) => t.toString()), values: r.getRowsJS()[0].map((v) => (typeof v === 'bigint' ? v.toString() : v)) };
  };
  const before = await row('SELECT * FROM p2p_pricing()');
  const set = await row("SELECT model, unit_price_ton, quote_nanoton, quote FROM p2p_pricing(model => 'fixed', unit_price => 7)");
  const bidding = await row('SELECT max_bid_ton, max_bid_nanoton, w_price FROM p2p_bidding(max_bid => 9, w_price => 0.4)');
  let error = null;
  try {
    await connection.run("SELECT * FROM p2p_pricing(model => 'auction')");
  } catch (e) {
    error = String(e && e.message ? e.message : e);
  }
  const after = await row('SELECT unit_price_ton FROM p2p_pricing()');
  process.stdout.write(JSON.stringify({ before, set, bidding, error, after }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`pricing failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
