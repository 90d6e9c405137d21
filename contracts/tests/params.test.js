// GlobalParams in @ton/sandbox: admin-only, validated (261), versioned updates read back through the getters.
'use strict';
const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { Blockchain } = require('@ton/sandbox');
const L = require('./lib');

const { TON, OP, DEFAULT_PARAMS } = L;
const GAS = 50_000_000n;

async function setup() {
  const bc = await Blockchain.create();
  const admin = await bc.treasury('admin');
  const fees = await bc.treasury('fees');
  const g = L.paramsInit({ admin: admin.address, feeRecipient: fees.address, params: DEFAULT_PARAMS });
  const r = await admin.send({ to: g.address, value: 1n * TON, init: g.init, body: L.opBody(OP.ParamsTopUp), bounce: false });
  assert.equal(L.exitCode(L.txOn(r, g.address)), 0);
  return { bc, admin, fees, params: g.address };
}

const get = async (s, name) => (await s.bc.runGetMethod(s.params, name)).stackReader;

describe('GlobalParams', () => {
  after(() => {
    for (const g of L.gasLog) console.log(`gas ${g.operation}: ${g.gas} gas units, ${g.fee} nanoton in fees`);
  });

  test('getters return the deployed parameters at version 0', async () => {
    const s = await setup();
    assert.equal((await get(s, 'get_params_version')).readNumber(), 0);
    assert.equal((await get(s, 'get_platform_fee_bps')).readNumber(), 1500);
    assert.equal((await get(s, 'get_participation_commission_bps')).readNumber(), 500);
    assert.equal((await get(s, 'get_surcharge_bps')).readNumber(), 500);
    assert.equal((await get(s, 'get_min_stake')).readBigNumber(), 100n * TON);
    assert.equal((await get(s, 'get_unbonding_secs')).readNumber(), 604800);
    const split = await get(s, 'get_slash_split');
    assert.deepEqual([split.readNumber(), split.readNumber(), split.readNumber(), split.readNumber()], [4000, 3000, 2000, 1000]);
    assert.ok((await get(s, 'get_fee_recipient')).readAddress().equals(s.fees.address));
    assert.ok((await get(s, 'get_admin')).readAddress().equals(s.admin.address));
    const all = await get(s, 'get_params');
    assert.ok(all.readAddress().equals(s.admin.address));
    assert.ok(all.readAddress().equals(s.fees.address));
    assert.ok(all.readCell().equals(L.ecoParamsCell(DEFAULT_PARAMS)));
    assert.equal(all.readNumber(), 0);
  });

  test('UpdateParams by the admin replaces the values, bumps the version and logs it', async () => {
    const s = await setup();
    const newFees = await s.bc.treasury('newFees');
    const r = await s.admin.send({ to: s.params, value: GAS, body: L.updateParamsBody(newFees.address, { ...DEFAULT_PARAMS, platformFeeBps: 1200, participationCommissionBps: 1000 }, 42) });
    const tx = L.txOn(r, s.params);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('GlobalParams UpdateParams', tx);
    assert.equal((await get(s, 'get_params_version')).readNumber(), 1);
    assert.equal((await get(s, 'get_platform_fee_bps')).readNumber(), 1200);
    assert.equal((await get(s, 'get_participation_commission_bps')).readNumber(), 1000);
    assert.ok((await get(s, 'get_fee_recipient')).readAddress().equals(newFees.address));
    assert.equal(r.externals.length, 1, 'one external-out log');
    const log = r.externals[0].body.beginParse();
    assert.deepEqual([log.loadUintBig(64), log.loadUint(32), log.loadUint(16), log.loadUint(16)], [42n, 1, 1200, 1000]);
    const r2 = await s.admin.send({ to: s.params, value: GAS, body: L.updateParamsBody(newFees.address, DEFAULT_PARAMS, 43) });
    assert.equal(L.exitCode(L.txOn(r2, s.params)), 0);
    assert.equal((await get(s, 'get_params_version')).readNumber(), 2);
  });

  test('rejections: 260 not admin; 261 for each bound', async () => {
    const s = await setup();
    const other = await s.bc.treasury('other');
    let r = await other.send({ to: s.params, value: GAS, body: L.updateParamsBody(other.address, DEFAULT_PARAMS) });
    assert.equal(L.exitCode(L.txOn(r, s.params)), 260);
    const bad = [
      { platformFeeBps: 10001 },
      { participationCommissionBps: 1001 },
      { slashCheatBps: 10001 },
      { splitTreasuryBps: 999 },
      { unbondingSecs: 3600, challengeWindowSecs: 7200 },
    ];
    for (const b of bad) {
      r = await s.admin.send({ to: s.params, value: GAS, body: L.updateParamsBody(s.fees.address, { ...DEFAULT_PARAMS, ...b }) });
      assert.equal(L.exitCode(L.txOn(r, s.params)), 261, JSON.stringify(b));
    }
    assert.equal((await get(s, 'get_params_version')).readNumber(), 0, 'no rejected update bumps the version');
    // at the bounds is fine
    r = await s.admin.send({ to: s.params, value: GAS, body: L.updateParamsBody(s.fees.address, { ...DEFAULT_PARAMS, platformFeeBps: 10000, participationCommissionBps: 1000, unbondingSecs: 86400 }) });
    assert.equal(L.exitCode(L.txOn(r, s.params)), 0);
  });

  test('UpdateAdmin hands over the admin role', async () => {
    const s = await setup();
    const next = await s.bc.treasury('next');
    const body = require('@ton/core').beginCell().storeUint(OP.UpdateAdmin, 32).storeUint(1, 64).storeAddress(next.address).endCell();
    assert.equal(L.exitCode(L.txOn(await next.send({ to: s.params, value: GAS, body }), s.params)), 260);
    assert.equal(L.exitCode(L.txOn(await s.admin.send({ to: s.params, value: GAS, body }), s.params)), 0);
    assert.ok((await get(s, 'get_admin')).readAddress().equals(next.address));
    const r = await s.admin.send({ to: s.params, value: GAS, body: L.updateParamsBody(s.fees.address, DEFAULT_PARAMS) });
    assert.equal(L.exitCode(L.txOn(r, s.params)), 260, 'the old admin lost the role');
  });
});
