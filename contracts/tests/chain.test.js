// The local chain (chain/server.js) as a separate process, driven only over HTTP like any toncenter client: a signed
// wallet deployed by an external message, a contract deployed from it, getters, transactions with exit codes, replay
// protection, the clock, bad input, persistence across a restart and a clean stop on SIGTERM.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Address, beginCell, contractAddress, external, internal, storeMessage, storeMessageRelaxed, Cell } = require('@ton/core');
const { keyPairFromSeed, sign } = require('@ton/crypto');
const { compile } = require('../scripts/compile');
const L = require('./lib');

const TON = 1_000_000_000n;
const server = path.join(__dirname, '..', 'chain', 'server.js');
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'duckton-chain-test-'));
const keys = keyPairFromSeed(Buffer.alloc(32, 7));
let walletCode;
let chain; // { proc, rpc, base }

function start(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [server, '--port', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within 30 s: ${out} ${err}`)), 30000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const first = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        const m = /^ready rpc=(http:\/\/127\.0\.0\.1:\d+\/api\/v2)$/.exec(first);
        if (!m) return reject(new Error(`first stdout line is not the ready line: ${first}`));
        resolve({ proc, rpc: m[1], base: m[1].replace(/\/api\/v2$/, ''), stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`chain exited with ${code}: ${err}`)));
  });
}

function stop(c, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    c.proc.removeAllListeners('exit');
    c.proc.on('exit', (code, sig) => resolve({ code, sig }));
    c.proc.kill(signal);
  });
}

async function call(url, body) {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  return { status: res.status, ...json };
}

const api = (method, body) => call(`${chain.rpc}/${method}`, body);
const local = (method, body) => call(`${chain.base}/local/${method}`, body);

function walletInit() {
  const data = beginCell().storeUint(0, 32).storeBuffer(keys.publicKey).endCell();
  const init = { code: walletCode, data };
  return { init, address: contractAddress(0, init) };
}

// An external message for the test wallet: [signature][seqno][validUntil][mode][^internal].
function walletExternal(seqno, validUntil, inner, withInit) {
  const w = walletInit();
  const innerCell = beginCell().store(storeMessageRelaxed(inner)).endCell();
  const signed = beginCell().storeUint(seqno, 32).storeUint(validUntil, 32).storeUint(1, 8).storeRef(innerCell).endCell();
  const body = beginCell().storeBuffer(sign(signed.hash(), keys.secretKey)).storeSlice(signed.beginParse()).endCell();
  const msg = external({ to: w.address, init: withInit ? w.init : undefined, body });
  return beginCell().store(storeMessage(msg)).endCell().toBoc().toString('base64');
}

before(async () => {
  walletCode = Cell.fromBase64((await compile('TestWallet', path.join(__dirname, 'fixtures'))).codeBoc64);
  chain = await start(['--state', stateDir]);
});

after(async () => {
  if (chain) await stop(chain);
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test('local chain: a wallet and a contract deployed over HTTP, getters, transactions, replay refused, restart keeps state', async () => {
  assert.match(chain.stderr(), /network = local-emulator/);
  const info = await local('info');
  assert.equal(info.result.network, 'local-emulator');
  const w = walletInit();
  const admin = Address.parse('0:' + '11'.repeat(32)); // not the wallet: its UpdateParams below must fail
  const g = L.paramsInit({ admin, feeRecipient: admin, params: L.DEFAULT_PARAMS });

  // fund the wallet's (uninitialised) address, then deploy it and, from it, GlobalParams
  const funded = await local('fund', { address: w.address.toRawString(), amount: (10n * TON).toString() });
  assert.equal(funded.result.balance, (10n * TON).toString());
  assert.equal((await api('getAddressInformation', { address: w.address.toString() })).result.state, 'uninitialized');
  const now = (await local('now')).result.now;
  const deploy = walletExternal(0, now + 60, internal({ to: g.address, value: 1n * TON, init: g.init, body: L.opBody(L.OP.ParamsTopUp), bounce: false }), true);
  const sent = await api('sendBocReturnHash', { boc: deploy });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.result.transactions, 2);
  assert.equal((await api('getAddressInformation', { address: w.address.toRawString() })).result.state, 'active');
  const pinfo = (await api('getAddressInformation', { address: g.address.toString() })).result;
  assert.equal(pinfo.state, 'active');
  assert.equal(Cell.fromBase64(pinfo.code).hash().toString('hex').toUpperCase(), JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'build', 'GlobalParams.json'))).codeHashHex);

  // getters: ints, addresses (as a cell with the address), seqno on the wallet
  let r = await api('runGetMethod', { address: g.address.toString(), method: 'get_platform_fee_bps', stack: [] });
  assert.deepEqual(r.result.stack, [['num', '0x5dc']]);
  assert.equal(r.result.exit_code, 0);
  r = await api('runGetMethod', { address: g.address.toString(), method: 'get_fee_recipient', stack: [] });
  assert.ok(Cell.fromBase64(r.result.stack[0][1].bytes).beginParse().loadAddress().equals(admin));
  r = await api('runGetMethod', { address: w.address.toString(), method: 'seqno', stack: [] });
  assert.deepEqual(r.result.stack, [['num', '0x1']]);
  // a getter that throws answers with its exit code
  r = await api('runGetMethod', { address: g.address.toString(), method: 'no_such_getter' });
  assert.equal(r.ok, true);
  assert.notEqual(r.result.exit_code, 0);

  // transactions: the deploy on GlobalParams, with value and exit codes
  let txs = (await api('getTransactions', { address: g.address.toString(), limit: 5 })).result;
  assert.equal(txs.length, 1);
  assert.equal(txs[0].in_msg.value, (1n * TON).toString());
  assert.equal(Address.parse(txs[0].in_msg.source).equals(w.address), true);
  assert.equal(txs[0].in_msg.op, '0x47504100');
  assert.equal(txs[0].description.compute_ph.exit_code, 0);
  assert.equal(txs[0].description.action.result_code, 0);
  assert.equal(txs[0].description.aborted, false);
  assert.ok(BigInt(txs[0].fee) > 0n);

  // an UpdateParams from the wallet (not the admin): the chain records exit 260 and the bounce
  const update = walletExternal(1, now + 60, internal({ to: g.address, value: TON / 10n, body: L.updateParamsBody(admin, L.DEFAULT_PARAMS) }), false);
  assert.equal((await api('sendBoc', { boc: update })).ok, true);
  txs = (await api('getTransactions', { address: g.address.toRawString(), limit: 1 })).result;
  assert.equal(txs.length, 1);
  assert.equal(txs[0].description.compute_ph.exit_code, 260);
  assert.equal(txs[0].description.aborted, true);
  assert.equal(txs[0].out_msgs.length, 1, 'the bounce');
  assert.equal(txs[0].out_msgs[0].bounced, true);
  const walletTxs = (await api('getTransactions', { address: w.address.toString(), limit: 10 })).result;
  assert.equal(walletTxs.length, 3, 'deploy, update, the bounce coming back');
  assert.ok(BigInt(walletTxs[0].lt ?? walletTxs[0].transaction_id.lt) > BigInt(walletTxs[1].transaction_id.lt), 'newest first');

  // replaying the same external (seqno 1 again) is refused and records nothing
  const replay = await api('sendBoc', { boc: update });
  assert.equal(replay.ok, false);
  assert.equal(replay.code, 500);
  assert.equal((await api('getTransactions', { address: w.address.toString(), limit: 10 })).result.length, 3);
  // an expired valid_until is refused too
  const expired = walletExternal(2, now - 1, internal({ to: g.address, value: TON / 10n, bounce: false }), false);
  assert.equal((await api('sendBoc', { boc: expired })).ok, false);

  // the clock: move it a week forward
  const t = await local('time', { advance_seconds: 604800 });
  assert.ok(t.result.now >= now + 604800);
  assert.equal((await local('time', { now: 1 })).ok, false, 'the clock never goes back');

  // restart with the same state directory: balances, code, seqno and transactions come back
  const balance = (await api('getAddressBalance', { address: w.address.toString() })).result;
  const stopped = await stop(chain);
  assert.equal(stopped.code, 0);
  chain = await start(['--state', stateDir]);
  assert.equal((await api('getAddressBalance', { address: w.address.toString() })).result, balance);
  r = await api('runGetMethod', { address: w.address.toString(), method: 'seqno' });
  assert.deepEqual(r.result.stack, [['num', '0x2']]);
  assert.equal((await api('getTransactions', { address: g.address.toString() })).result.length, 2);
  assert.ok((await local('now')).result.now >= now + 604800, 'the clock offset survives the restart');
  // the next wallet message still works (seqno 2), valid_until from the chain's clock
  const next = walletExternal(2, (await local('now')).result.now + 60, internal({ to: g.address, value: TON / 10n, body: L.opBody(L.OP.ParamsTopUp), bounce: false }), false);
  // sent as GET with the base64 not URL-encoded (its '+' arrive as spaces): still accepted
  const viaGet = await call(`${chain.rpc}/sendBoc?boc=${next}`);
  assert.equal(viaGet.ok, true, JSON.stringify(viaGet));

  // getters with arguments: RecordAnchor.compute_root(leaf, proof cell) and get_root(epoch) with a negative number
  const a = L.anchorInit({ keeper: admin, treasury: admin, verdictAuthority: admin, minStakeWeight: 0n, disputeBondMin: TON / 100n });
  const deployAnchor = walletExternal(3, (await local('now')).result.now + 60, internal({ to: a.address, value: TON / 10n, init: a.init, bounce: false }), false);
  assert.equal((await api('sendBoc', { boc: deployAnchor })).ok, true);
  const m = L.merkle([5n, 6n, 7n]);
  const proof = L.proofCell(m.proofs[1]).toBoc().toString('base64');
  r = await api('runGetMethod', { address: a.address.toString(), method: 'compute_root', stack: [['num', '6'], ['tvm.Cell', proof]] });
  assert.equal(r.result.exit_code, 0);
  assert.equal(BigInt(r.result.stack[0][1]), m.root);
  r = await api('runGetMethod', { address: a.address.toString(), method: 'compute_root', stack: [['num', '0x6'], ['tvm.Cell', proof]] });
  assert.equal(BigInt(r.result.stack[0][1]), m.root);
  r = await api('runGetMethod', { address: a.address.toString(), method: 'get_root', stack: [['num', '-0x1']] });
  assert.equal(r.result.exit_code, 0);
  assert.deepEqual(r.result.stack, [['num', '0x0']]);
  r = await api('runGetMethod', { address: a.address.toString(), method: 'get_root', stack: [['num', '0xzz']] });
  assert.equal(r.code, 400);
});

test('local chain: bad input is a clear error', async () => {
  let r = await api('sendBoc', { boc: 'not base64 at all' });
  assert.equal(r.ok, false);
  assert.equal(r.code, 400);
  assert.match(r.error, /bag of cells/);
  r = await api('sendBoc', {});
  assert.match(r.error, /missing boc/);
  // an internal message cannot be injected from outside
  const a = Address.parse('0:' + '22'.repeat(32));
  const int = beginCell().store(storeMessage({
    info: { type: 'internal', src: a, dest: a, value: { coins: 1n }, bounce: false, bounced: false, ihrDisabled: true, ihrFee: 0n, forwardFee: 0n, createdLt: 0n, createdAt: 0 },
    body: Cell.EMPTY,
  })).endCell();
  r = await api('sendBoc', { boc: int.toBoc().toString('base64') });
  assert.match(r.error, /only external/);
  r = await api('getAddressBalance', { address: 'EQnonsense' });
  assert.equal(r.code, 400);
  assert.match(r.error, /not a TON address/);
  r = await api('getTransactions', { address: '0:' + '22'.repeat(32), limit: 0 });
  assert.equal(r.code, 400);
  r = await local('fund', { address: '0:' + '22'.repeat(32), amount: '-5' });
  assert.equal(r.code, 400);
  r = await api('nope');
  assert.equal(r.code, 404);
  const raw = await fetch(`${chain.rpc}/getAddressBalance`, { method: 'POST', body: '{oops' });
  assert.equal(raw.status, 400);
  r = await call(`${chain.rpc}/jsonRPC`, { method: 'getAddressBalance', params: { address: '0:' + '22'.repeat(32) }, id: 7, jsonrpc: '2.0' });
  assert.deepEqual([r.ok, r.result, r.id], [true, '0', 7]);
});
