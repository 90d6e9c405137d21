// The committed build outputs (contracts/build/*.json) must be what the pinned compiler makes of the sources.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Cell } = require('@ton/core');
const { compile, CONTRACTS } = require('../scripts/compile');

for (const name of CONTRACTS) {
  test(`${name}: recompiled code hash equals build/${name}.json`, async () => {
    const committed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'build', `${name}.json`), 'utf8'));
    const fresh = await compile(name);
    assert.equal(fresh.tolkVersion, '1.3.0');
    assert.equal(fresh.codeHashHex, committed.codeHashHex, `build/${name}.json is stale: run npm run build`);
    assert.equal(fresh.codeBoc64, committed.codeBoc64);
    // the hash is the code cell's representation hash
    assert.equal(Cell.fromBase64(committed.codeBoc64).hash().toString('hex').toUpperCase(), committed.codeHashHex);
  });
}

test('docs/TON.md lists the current code hashes', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'TON.md'), 'utf8');
  for (const name of CONTRACTS) {
    const committed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'build', `${name}.json`), 'utf8'));
    assert.ok(doc.includes(`| ${name} | \`${committed.codeHashHex}\` |`), `docs/TON.md: update the hash of ${name} to ${committed.codeHashHex}`);
  }
});
