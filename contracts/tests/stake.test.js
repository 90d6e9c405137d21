// StakeVault in @ton/sandbox: deposit, unbond, the 7-day cooldown on the sandbox clock, withdraw, slash and its split,
// and every rejection path with its exit code.
'use strict';
const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { Blockchain } = require('@ton/sandbox');
const L = require('./lib');

const { TON, OP } = L;
const GAS = 100_000_000n; // 0.1 TON attached to unbond/withdraw/slash
const WEEK = 604800;

async function setup(opts = {}) {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000;
  const owner = await bc.treasury('owner');
  const slasher = await bc.treasury('slasher');
  const treasury = await bc.treasury('treasury');
  const pool = await bc.treasury('pool');
  const challenger = await bc.treasury('challenger');
  const v = L.vaultInit({
    owner: owner.address, minStake: 100n * TON, unbondingPeriod: WEEK, slasher: slasher.address,
    treasury: treasury.address, redundancyPool: pool.address, split: opts.split ?? [4000, 3000, 2000, 1000],
  });
  const deploy = await owner.send({ to: v.address, value: 1n * TON, init: v.init, body: L.opBody(OP.StakeTopUp), bounce: false });
  assert.equal(L.exitCode(L.txOn(deploy, v.address)), 0);
  return { bc, owner, slasher, treasury, pool, challenger, vault: v.address };
}

async function state(s) {
  const r = (await s.bc.runGetMethod(s.vault, 'get_vault_state')).stackReader;
  return { staked: r.readBigNumber(), unbonding: r.readBigNumber(), unbondingAt: r.readNumber(), readyAt: r.readNumber(), eligible: r.readBoolean() };
}

async function deposit(s, amount, value = amount + GAS, from = s.owner) {
  return from.send({ to: s.vault, value, body: L.amountBody(OP.StakeDeposit, amount) });
}

const exitOf = (s, r) => L.exitCode(L.txOn(r, s.vault));

describe('StakeVault', () => {
  after(() => {
    for (const g of L.gasLog) console.log(`gas ${g.operation}: ${g.gas} gas units, ${g.fee} nanoton in fees`);
  });

  test('deposit -> unbond -> 7-day cooldown on the sandbox clock -> withdraw pays exactly the unbonded amount', async () => {
    const s = await setup();
    let r = await deposit(s, 150n * TON);
    assert.equal(exitOf(s, r), 0);
    L.recordGas('StakeVault deposit', L.txOn(r, s.vault));
    assert.deepEqual(await state(s), { staked: 150n * TON, unbonding: 0n, unbondingAt: 0, readyAt: 0, eligible: true });

    r = await s.owner.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 60n * TON) });
    assert.equal(exitOf(s, r), 0);
    L.recordGas('StakeVault request unbond', L.txOn(r, s.vault));
    const t0 = s.bc.now;
    assert.deepEqual(await state(s), { staked: 90n * TON, unbonding: 60n * TON, unbondingAt: t0, readyAt: t0 + WEEK, eligible: false });

    // one second before the end of the cooldown: 203
    s.bc.now = t0 + WEEK - 1;
    r = await s.owner.send({ to: s.vault, value: GAS, body: L.opBody(OP.StakeWithdraw) });
    assert.equal(exitOf(s, r), 203);
    // a second unbond while one is cooling down: 202
    r = await s.owner.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 1n * TON) });
    assert.equal(exitOf(s, r), 202);

    s.bc.now = t0 + WEEK;
    r = await s.owner.send({ to: s.vault, value: GAS, body: L.opBody(OP.StakeWithdraw) });
    const tx = L.txOn(r, s.vault);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('StakeVault withdraw', tx);
    const outs = L.outValues(tx);
    assert.equal(outs.length, 1);
    assert.ok(outs[0].to.equals(s.owner.address));
    assert.equal(outs[0].value, 60n * TON, 'exactly the unbonded amount, to the nanoton');
    assert.equal(L.txOn(r, s.owner.address).inMessage.info.value.coins, 60n * TON);
    assert.deepEqual(await state(s), { staked: 90n * TON, unbonding: 0n, unbondingAt: 0, readyAt: 0, eligible: false });
    // nothing left unbonding: 204
    r = await s.owner.send({ to: s.vault, value: GAS, body: L.opBody(OP.StakeWithdraw) });
    assert.equal(exitOf(s, r), 204);
  });

  test('rejections: 132 non-owner, 137 too little value, 201 nothing to unbond', async () => {
    const s = await setup();
    const other = await s.bc.treasury('other');
    assert.equal(exitOf(s, await deposit(s, 10n * TON, 11n * TON, other)), 132);
    // value must cover amount + 0.05 TON
    assert.equal(exitOf(s, await deposit(s, 10n * TON, 10n * TON + 49_999_999n)), 137);
    assert.equal(exitOf(s, await deposit(s, 10n * TON, 10n * TON + 50_000_000n)), 0);
    assert.equal(exitOf(s, await other.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 1n) })), 132);
    assert.equal(exitOf(s, await s.owner.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 0n) })), 201);
    assert.equal(exitOf(s, await s.owner.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 10n * TON + 1n) })), 201);
    assert.equal(exitOf(s, await other.send({ to: s.vault, value: GAS, body: L.opBody(OP.StakeWithdraw) })), 132);
    assert.equal(exitOf(s, await s.owner.send({ to: s.vault, value: GAS, body: L.opBody(0x0badc0de) })), 0xffff);
    assert.equal((await state(s)).staked, 10n * TON);
  });

  test('slash: staked first, then the unbonding bucket; split 40/30/20(burn)/10 to the nanoton; burn share stays locked', async () => {
    const s = await setup();
    await deposit(s, 100n * TON);
    await s.owner.send({ to: s.vault, value: GAS, body: L.amountBody(OP.StakeRequestUnbond, 40n * TON) });
    const amount = 70n * TON + 7n; // 60 staked + 10.000000007 from the unbonding bucket
    const r = await s.slasher.send({ to: s.vault, value: GAS, body: L.slashBody(amount, 1, s.challenger.address) });
    const tx = L.txOn(r, s.vault);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('StakeVault slash (3 payouts)', tx);
    const outs = L.outValues(tx);
    assert.equal(outs.length, 3);
    assert.ok(outs[0].to.equals(s.challenger.address));
    assert.equal(outs[0].value, (amount * 4000n) / 10000n); // 28000000002
    assert.equal(outs[0].value, 28_000_000_002n);
    assert.ok(outs[1].to.equals(s.pool.address));
    assert.equal(outs[1].value, 21_000_000_002n);
    assert.ok(outs[2].to.equals(s.treasury.address));
    assert.equal(outs[2].value, 7_000_000_000n);
    const st = await state(s);
    assert.equal(st.staked, 0n);
    assert.equal(st.unbonding, 30n * TON - 7n);
    // withdraw after the cooldown pays only what is left unbonding: the burn share is not swept to the owner
    s.bc.now += WEEK;
    const w = await s.owner.send({ to: s.vault, value: GAS, body: L.opBody(OP.StakeWithdraw) });
    assert.equal(L.outValues(L.txOn(w, s.vault))[0].value, 30n * TON - 7n);
    assert.ok((await s.bc.getContract(s.vault)).balance >= 14n * TON, 'the 20 % burn share (14 TON) stays in the vault');
  });

  test('slash rejections: 200 not the slasher, 206 above stake or zero, 207 split not summing to 10000', async () => {
    const s = await setup();
    await deposit(s, 5n * TON);
    assert.equal(exitOf(s, await s.owner.send({ to: s.vault, value: GAS, body: L.slashBody(1n, 1, s.challenger.address) })), 200);
    assert.equal(exitOf(s, await s.slasher.send({ to: s.vault, value: GAS, body: L.slashBody(5n * TON + 1n, 1, s.challenger.address) })), 206);
    assert.equal(exitOf(s, await s.slasher.send({ to: s.vault, value: GAS, body: L.slashBody(0n, 1, s.challenger.address) })), 206);
    assert.equal(exitOf(s, await s.slasher.send({ to: s.vault, value: GAS, body: L.slashBody(5n * TON, 2, s.challenger.address) })), 0);
    const bad = await setup({ split: [4000, 3000, 2000, 999] });
    await deposit(bad, 5n * TON);
    assert.equal(exitOf(bad, await bad.slasher.send({ to: bad.vault, value: GAS, body: L.slashBody(1n * TON, 1, bad.challenger.address) })), 207);
  });

  test('getters: owner, slasher, unbonding period', async () => {
    const s = await setup();
    assert.ok((await s.bc.runGetMethod(s.vault, 'get_owner')).stackReader.readAddress().equals(s.owner.address));
    assert.ok((await s.bc.runGetMethod(s.vault, 'get_slasher')).stackReader.readAddress().equals(s.slasher.address));
    assert.equal((await s.bc.runGetMethod(s.vault, 'get_unbonding_period')).stackReader.readNumber(), WEEK);
    assert.equal((await s.bc.runGetMethod(s.vault, 'is_eligible')).stackReader.readBoolean(), false);
  });
});
