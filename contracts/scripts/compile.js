#!/usr/bin/env node
// Compiles contracts/src/<Name>.tolk with @ton/tolk-js (pinned in package-lock.json) into contracts/build/<Name>.json
// {name, tolkVersion, codeBoc64, codeHashHex}. `--check` recompiles and fails if any committed build output differs
// (the contract tests run it). Usage: node scripts/compile.js [--check] [Name...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { runTolkCompiler } = require('@ton/tolk-js');

const CONTRACTS = ['JobEscrow', 'StakeVault', 'GlobalParams', 'RecordAnchor'];
const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'src');
const buildDir = path.join(root, 'build');

async function compile(name, dir = srcDir) {
  const result = await runTolkCompiler({
    entrypointFileName: `${name}.tolk`,
    // tolk-js asks for imports relative to the entry file's folder; @stdlib/* is served by the compiler itself.
    fsReadCallback: (p) => fs.readFileSync(path.join(dir, p), 'utf8'),
    optimizationLevel: 2,
  });
  if (result.status !== 'ok') throw new Error(`${name}: ${result.message}`);
  return { name, tolkVersion: result.tolkVersion, codeBoc64: result.codeBoc64, codeHashHex: result.codeHashHex.toUpperCase() };
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const names = args.filter((a) => !a.startsWith('--'));
  const list = names.length > 0 ? names : CONTRACTS;
  let failed = 0;
  for (const name of list) {
    const started = Date.now();
    const out = await compile(name);
    const file = path.join(buildDir, `${name}.json`);
    const text = JSON.stringify(out, null, 2) + '\n';
    if (check) {
      const committed = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
      if (!committed || committed.codeHashHex !== out.codeHashHex || committed.codeBoc64 !== out.codeBoc64) {
        console.error(`${name}: build/${name}.json is stale (committed ${committed?.codeHashHex ?? 'none'}, compiled ${out.codeHashHex}); run npm run build`);
        failed++;
      } else {
        console.log(`${name}: ${out.codeHashHex} matches build/${name}.json`);
      }
    } else {
      fs.mkdirSync(buildDir, { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`${name}: ${out.codeHashHex} (${Date.now() - started} ms) -> build/${name}.json`);
    }
  }
  if (failed > 0) process.exit(1);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
}

module.exports = { compile, CONTRACTS };
