// RecordAnchor in @ton/sandbox: epochs advance by one and chain by prevRoot; bonded inclusion-proof disputes.
'use strict';
const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { Blockchain } = require('@ton/sandbox');
const { beginCell } = require('@ton/core');
const L = require('./lib');

const { TON, OP } = L;
const GAS = 50_000_000n;
const BOND = 1n * TON;

async function setup(opts = {}) {
  const bc = await Blockchain.create();
  const keeper = await bc.treasury('keeper');
  const judge = await bc.treasury('judge');
  const treasury = await bc.treasury('treasury');
  const challenger = await bc.treasury('challenger');
  const a = L.anchorInit({
    keeper: keeper.address, treasury: treasury.address, verdictAuthority: judge.address,
    minStakeWeight: opts.minStakeWeight ?? 10n * TON, disputeBondMin: opts.disputeBondMin ?? BOND,
  });
  const r = await keeper.send({ to: a.address, value: 1n * TON, init: a.init, body: L.opBody(OP.AnchorTopUp), bounce: false });
  assert.equal(L.exitCode(L.txOn(r, a.address)), 0);
  return { bc, keeper, judge, treasury, challenger, anchor: a.address };
}

const LEAVES1 = [11n, 22n, 33n, 44n, 55n]; // five leaves: the fifth is promoted unchanged at two levels
const LEAVES2 = [0xdeadn, 0xbeefn];

async function submit(s, epoch, root, prev, weight = 10n * TON, from = s.keeper) {
  const r = await from.send({ to: s.anchor, value: GAS, body: L.submitRootBody(epoch, root, prev, weight) });
  return L.txOn(r, s.anchor);
}

async function anchorState(s) {
  const r = (await s.bc.runGetMethod(s.anchor, 'get_anchor_state')).stackReader;
  return [r.readNumber(), r.readBigNumber(), r.readNumber()];
}

describe('RecordAnchor', () => {
  after(() => {
    for (const g of L.gasLog) console.log(`gas ${g.operation}: ${g.gas} gas units, ${g.fee} nanoton in fees`);
  });

  test('two epochs anchored in order; regression, bad prevRoot, low stake, zero root and non-keeper refused', async () => {
    const s = await setup();
    const m1 = L.merkle(LEAVES1);
    const m2 = L.merkle(LEAVES2);
    let tx = await submit(s, 1, m1.root, 0n);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('RecordAnchor submit root', tx);
    assert.deepEqual(await anchorState(s), [1, m1.root, 0]);
    assert.equal(L.exitCode(await submit(s, 1, m2.root, m1.root)), 241, 'same epoch again');
    assert.equal(L.exitCode(await submit(s, 3, m2.root, m1.root)), 241, 'skipping an epoch');
    assert.equal(L.exitCode(await submit(s, 2, m2.root, 0n)), 240, 'wrong prevRoot');
    assert.equal(L.exitCode(await submit(s, 2, m2.root, m1.root, 10n * TON - 1n)), 242, 'stake weight below the minimum');
    assert.equal(L.exitCode(await submit(s, 2, 0n, m1.root)), 251, 'zero root');
    assert.equal(L.exitCode(await submit(s, 2, m2.root, m1.root, 10n * TON, s.challenger)), 250, 'not the keeper');
    assert.equal(L.exitCode(await submit(s, 2, m2.root, m1.root)), 0);
    assert.deepEqual(await anchorState(s), [2, m2.root, 0]);
    assert.equal((await s.bc.runGetMethod(s.anchor, 'get_root', [{ type: 'int', value: 1n }])).stackReader.readBigNumber(), m1.root);
  });

  test('a bond floor below 0.01 TON in the config is refused on submit (252)', async () => {
    const s = await setup({ disputeBondMin: 9_999_999n });
    assert.equal(L.exitCode(await submit(s, 1, L.merkle(LEAVES2).root, 0n)), 252);
  });

  test('the on-chain proof folding matches the off-chain Merkle tree for every leaf', async () => {
    const s = await setup();
    const m = L.merkle(LEAVES1);
    assert.equal(L.hashLeaf(7n), BigInt('0x' + require('node:crypto').createHash('sha256').update(Buffer.concat([Buffer.from([0x00, 0x40]), Buffer.from((7n).toString(16).padStart(64, '0'), 'hex')])).digest('hex')));
    for (let i = 0; i < LEAVES1.length; i++) {
      const proof = L.proofCell(m.proofs[i]);
      const r = await s.bc.runGetMethod(s.anchor, 'compute_root', [{ type: 'int', value: LEAVES1[i] }, proof ? { type: 'cell', cell: proof } : { type: 'null' }]);
      assert.equal(r.stackReader.readBigNumber(), m.root, `leaf ${i}`);
    }
    assert.equal(m.proofs[4].length, 1, 'the promoted fifth leaf has a single step');
  });

  test('disputes: bond, proof, verdicts, and every rejection', async () => {
    const s = await setup();
    const m1 = L.merkle(LEAVES1);
    await submit(s, 1, m1.root, 0n);
    const open = (epoch, leaf, steps, value = BOND) => s.challenger.send({ to: s.anchor, value, body: L.openDisputeBody(epoch, leaf, steps) });
    // low bond
    assert.equal(L.exitCode(L.txOn(await open(1, LEAVES1[2], m1.proofs[2], BOND - 1n), s.anchor)), 244);
    // unknown epoch
    assert.equal(L.exitCode(L.txOn(await open(2, LEAVES1[2], m1.proofs[2]), s.anchor)), 248);
    // bad proof: wrong leaf, and a proof of another leaf
    assert.equal(L.exitCode(L.txOn(await open(1, 999n, m1.proofs[2]), s.anchor)), 243);
    assert.equal(L.exitCode(L.txOn(await open(1, LEAVES1[2], m1.proofs[3]), s.anchor)), 243);
    // too deep
    const deep = Array.from({ length: 33 }, () => ({ siblingIsLeft: false, sibling: 1n }));
    assert.equal(L.exitCode(L.txOn(await open(1, LEAVES1[2], deep, BOND), s.anchor)), 249);

    let r = await open(1, LEAVES1[2], m1.proofs[2]);
    let tx = L.txOn(r, s.anchor);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('RecordAnchor open dispute (3-step proof)', tx);
    r = await open(1, LEAVES1[4], m1.proofs[4], 2n * BOND);
    assert.equal(L.exitCode(L.txOn(r, s.anchor)), 0);
    assert.deepEqual(await anchorState(s), [1, m1.root, 2]);
    const d = (await s.bc.runGetMethod(s.anchor, 'get_dispute', [{ type: 'int', value: 0n }])).stackReader;
    assert.equal(d.readBoolean(), true);
    assert.ok(d.readAddress().equals(s.challenger.address));
    assert.deepEqual([d.readNumber(), d.readBigNumber(), d.readBigNumber(), d.readNumber()], [1, LEAVES1[2], BOND, 0]);

    const resolve = (id, upheld, from = s.judge) => from.send({ to: s.anchor, value: GAS, body: L.resolveBody(id, upheld) });
    assert.equal(L.exitCode(L.txOn(await resolve(0, true, s.challenger), s.anchor)), 246);
    assert.equal(L.exitCode(L.txOn(await resolve(7, true), s.anchor)), 245);
    // upheld: the bond goes back to the challenger, exactly
    r = await resolve(0, true);
    tx = L.txOn(r, s.anchor);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('RecordAnchor resolve dispute', tx);
    let outs = L.outValues(tx);
    assert.equal(outs.length, 1);
    assert.ok(outs[0].to.equals(s.challenger.address));
    assert.equal(outs[0].value, BOND);
    assert.equal(L.exitCode(L.txOn(await resolve(0, false), s.anchor)), 247, 'already resolved');
    // rejected: the bond goes to the treasury
    r = await resolve(1, false);
    outs = L.outValues(L.txOn(r, s.anchor));
    assert.ok(outs[0].to.equals(s.treasury.address));
    assert.equal(outs[0].value, 2n * BOND);
    const d1 = (await s.bc.runGetMethod(s.anchor, 'get_dispute', [{ type: 'int', value: 1n }])).stackReader;
    d1.readBoolean(); d1.readAddress(); d1.readNumber(); d1.readBigNumber(); d1.readBigNumber();
    assert.equal(d1.readNumber(), 2);
    const none = (await s.bc.runGetMethod(s.anchor, 'get_dispute', [{ type: 'int', value: 9n }])).stackReader;
    assert.equal(none.readBoolean(), false);
    assert.equal(L.exitCode(L.txOn(await s.keeper.send({ to: s.anchor, value: GAS, body: beginCell().storeUint(0x41414141, 32).endCell() }), s.anchor)), 0xffff);
  });
});
