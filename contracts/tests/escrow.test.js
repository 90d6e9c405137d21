// JobEscrow in @ton/sandbox: every fee leg to the nanoton, the free winner, refunds, bounced payouts and every
// rejection path with its exit code.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Blockchain } = require('@ton/sandbox');
const L = require('./lib');

const { TON, RESERVE, OP } = L;
const HASH = 0xabcdef0123456789n;
const GAS = 50_000_000n; // value attached to settle/refund/claim (0.05 TON)

async function setup(opts = {}) {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000;
  const requester = await bc.treasury('requester');
  const arbiter = await bc.treasury('arbiter');
  const treasury = await bc.treasury('treasury');
  const winner = await bc.treasury('winner');
  const v1 = await bc.treasury('verifier1');
  const v2 = await bc.treasury('verifier2');
  const candidates = opts.candidates ?? [winner.address, v1.address, v2.address];
  const B = opts.B ?? 100n * TON;
  const terms = {
    treasury: treasury.address, expectedHash: HASH, candidatesHash: L.candidatesHash(candidates), paramsVersion: 3,
    platformFeeBps: opts.fee ?? 1500, commissionBps: opts.commission ?? 500,
  };
  const escrow = L.escrowInit({ requester: requester.address, arbiter: arbiter.address, escrowAmount: B, deadline: bc.now + 600, terms });
  // The funded deploy: B plus the 0.05 TON reserve, with an EscrowTopUp body.
  const deploy = await requester.send({ to: escrow.address, value: B + RESERVE, init: escrow.init, body: L.opBody(OP.EscrowTopUp), bounce: false });
  const deployTx = L.txOn(deploy, escrow.address);
  assert.equal(L.exitCode(deployTx), 0);
  return { bc, requester, arbiter, treasury, winner, v1, v2, candidates, B, terms, escrow: escrow.address, deployTx };
}

function settleArgs(s, over = {}) {
  const base = over.base ?? 80n * TON;
  return {
    resultHash: HASH, winner: s.winner.address, base, winnerAmount: base,
    platformFee: (base * 1500n) / 10000n,
    participants: [[s.v1.address, (base * 500n) / 10000n], [s.v2.address, (base * 500n) / 10000n]],
    candidates: s.candidates,
    ...over,
  };
}

async function settle(s, sender, args, value = GAS) {
  return sender.send({ to: s.escrow, value, body: L.settleBody(args) });
}

async function expectExit(s, result, code) {
  const tx = L.txOn(result, s.escrow);
  assert.equal(L.exitCode(tx), code, `exit code ${L.exitCode(tx)}, expected ${code}`);
  const [amount, , settled] = await stateOf(s);
  assert.equal(settled, false, 'a rejected settle leaves the escrow unsettled');
  assert.equal(amount, s.B);
}

async function stateOf(s) {
  const r = await s.bc.runGetMethod(s.escrow, 'get_escrow_state');
  const st = r.stackReader;
  return [st.readBigNumber(), st.readNumber(), st.readBoolean(), st.readNumber()];
}

describe('JobEscrow', () => {
  after(() => {
    for (const g of L.gasLog) console.log(`gas ${g.operation}: ${g.gas} gas units, ${g.fee} nanoton in fees`);
  });

  test('deploy: deterministic address, getters return the terms', async () => {
    const s = await setup();
    L.recordGas('JobEscrow deploy (TopUp with StateInit)', s.deployTx);
    const again = L.escrowInit({ requester: s.requester.address, arbiter: s.arbiter.address, escrowAmount: s.B, deadline: s.bc.now + 600, terms: s.terms });
    assert.ok(again.address.equals(s.escrow), 'the same terms give the same address');
    const other = L.escrowInit({ requester: s.requester.address, arbiter: s.arbiter.address, escrowAmount: s.B, deadline: s.bc.now + 600, terms: { ...s.terms, platformFeeBps: 1400 } });
    assert.ok(!other.address.equals(s.escrow), 'different terms give a different address');
    const [amount, deadline, settled, version] = await stateOf(s);
    assert.deepEqual([amount, deadline, settled, version], [s.B, s.bc.now + 600, false, 3]);
    assert.equal((await s.bc.runGetMethod(s.escrow, 'get_platform_fee_bps')).stackReader.readNumber(), 1500);
    assert.equal((await s.bc.runGetMethod(s.escrow, 'get_commission_bps')).stackReader.readNumber(), 500);
    assert.ok((await s.bc.runGetMethod(s.escrow, 'get_fee_recipient')).stackReader.readAddress().equals(s.treasury.address));
    assert.ok((await s.bc.runGetMethod(s.escrow, 'get_requester')).stackReader.readAddress().equals(s.requester.address));
    assert.equal((await s.bc.runGetMethod(s.escrow, 'get_expected_hash')).stackReader.readBigNumber(), HASH);
    assert.equal((await s.bc.runGetMethod(s.escrow, 'get_candidates_hash')).stackReader.readBigNumber(), s.terms.candidatesHash);
    assert.equal((await s.bc.getContract(s.escrow)).balance, s.B + RESERVE - s.deployTx.totalFees.coins);
  });

  test('settle, wallet winner: base 80, fee 12, 2 x commission 4 out of B 100; the rest refunded; 0.05 kept', async () => {
    const s = await setup();
    const before = (await s.bc.getContract(s.escrow)).balance;
    const r = await settle(s, s.arbiter, settleArgs(s));
    const tx = L.txOn(r, s.escrow);
    assert.equal(L.exitCode(tx), 0);
    assert.equal(tx.description.actionPhase.resultCode, 0);
    L.recordGas('JobEscrow settle (winner + fee + 2 commissions + refund)', tx);
    const outs = L.outValues(tx);
    assert.equal(outs.length, 5);
    assert.ok(outs[0].to.equals(s.winner.address));
    assert.equal(outs[0].value, 80n * TON);
    assert.ok(outs[1].to.equals(s.treasury.address));
    assert.equal(outs[1].value, 12n * TON);
    assert.ok(outs[2].to.equals(s.v1.address) || outs[2].to.equals(s.v2.address));
    assert.equal(outs[2].value, 4n * TON);
    assert.equal(outs[3].value, 4n * TON);
    assert.ok(outs[4].to.equals(s.requester.address));
    for (const o of outs) assert.equal(o.bounce, true, 'payouts are bounceable (a bounce goes to the pull ledger)');
    // Conservation to the nanoton: balance before + settle value = 0.05 kept + every out value + forwarding and fees.
    const after = (await s.bc.getContract(s.escrow)).balance;
    assert.equal(after, RESERVE, 'the escrow keeps exactly 0.05 TON');
    const { out, fees } = L.conservation(tx);
    assert.equal(before + GAS, after + out + fees);
    // The refund is B - legs (= 0) + the unspent deploy buffer and settle gas.
    const legsFwd = outs.slice(0, 4).reduce((a, o) => a + o.fwdFee, 0n);
    assert.equal(outs[4].value, before + GAS - RESERVE - 100n * TON - legsFwd - fees - outs[4].fwdFee);
    // Each recipient's transaction received exactly its leg.
    for (const [who, amount] of [[s.winner, 80n * TON], [s.treasury, 12n * TON], [s.v1, 4n * TON], [s.v2, 4n * TON]]) {
      const rx = L.txOn(r, who.address);
      assert.equal(rx.inMessage.info.value.coins, amount);
      assert.equal(L.exitCode(rx), 0);
    }
    const [, , settled] = await stateOf(s);
    assert.equal(settled, true);
  });

  test('settle with odd amounts: every leg is floor(base*bps/10000) to the nanoton and the remainder is refunded', async () => {
    const s = await setup({ B: 1_000_000_007n });
    const base = 777_777_777n;
    const fee = (base * 1500n) / 10000n; // 116666666
    const each = (base * 500n) / 10000n; // 38888888
    assert.equal(fee, 116_666_666n);
    assert.equal(each, 38_888_888n);
    const before = (await s.bc.getContract(s.escrow)).balance;
    const r = await settle(s, s.arbiter, settleArgs(s, { base, winnerAmount: base, platformFee: fee, participants: [[s.v1.address, each]] }));
    const tx = L.txOn(r, s.escrow);
    assert.equal(L.exitCode(tx), 0);
    const outs = L.outValues(tx);
    assert.deepEqual(outs.slice(0, 3).map((o) => o.value), [base, fee, each]);
    const { out, fees } = L.conservation(tx);
    assert.equal(before + GAS, RESERVE + out + fees);
    const legsFwd = outs.slice(0, 3).reduce((a, o) => a + o.fwdFee, 0n);
    // B - (base + fee + commission) = 1000000007 - 933333331 = 66666676 of B comes back, plus the unspent buffer.
    assert.equal(outs[3].value, before + GAS - RESERVE - (base + fee + each) - legsFwd - fees - outs[3].fwdFee);
  });

  test('free (walletless) winner: base refunded, fee and commissions still paid', async () => {
    const s = await setup();
    const before = (await s.bc.getContract(s.escrow)).balance;
    const r = await settle(s, s.arbiter, settleArgs(s, { winnerAmount: 0n }));
    const tx = L.txOn(r, s.escrow);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('JobEscrow settle, free winner (fee + 2 commissions + refund)', tx);
    const outs = L.outValues(tx);
    assert.equal(outs.length, 4, 'no winner leg');
    assert.ok(outs[0].to.equals(s.treasury.address));
    assert.deepEqual(outs.slice(0, 3).map((o) => o.value), [12n * TON, 4n * TON, 4n * TON]);
    const legsFwd = outs.slice(0, 3).reduce((a, o) => a + o.fwdFee, 0n);
    const { fees } = L.conservation(tx);
    assert.equal(outs[3].value, before + GAS - RESERVE - 20n * TON - legsFwd - fees - outs[3].fwdFee, 'the base 80 comes back');
    assert.ok(outs[3].value > 80n * TON);
  });

  test('refund: refused before the deadline (225), anyone may refund after it; then settle is refused (224)', async () => {
    const s = await setup();
    const stranger = await s.bc.treasury('stranger');
    let r = await stranger.send({ to: s.escrow, value: GAS, body: L.opBody(OP.EscrowRefund) });
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 225);
    s.bc.now += 600;
    const before = (await s.bc.getContract(s.escrow)).balance;
    r = await stranger.send({ to: s.escrow, value: GAS, body: L.opBody(OP.EscrowRefund) });
    const tx = L.txOn(r, s.escrow);
    assert.equal(L.exitCode(tx), 0);
    L.recordGas('JobEscrow refund', tx);
    const outs = L.outValues(tx);
    assert.equal(outs.length, 1);
    assert.ok(outs[0].to.equals(s.requester.address));
    const { fees } = L.conservation(tx);
    assert.equal(outs[0].value, before + GAS - RESERVE - fees - outs[0].fwdFee);
    assert.equal((await s.bc.getContract(s.escrow)).balance, RESERVE);
    r = await settle(s, s.arbiter, settleArgs(s));
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 224);
    r = await stranger.send({ to: s.escrow, value: GAS, body: L.opBody(OP.EscrowRefund) });
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 224, 'a second refund is refused');
  });

  test('double settle is refused with 224', async () => {
    const s = await setup();
    assert.equal(L.exitCode(L.txOn(await settle(s, s.arbiter, settleArgs(s)), s.escrow)), 0);
    const r = await settle(s, s.arbiter, settleArgs(s));
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 224);
    const outs = L.outValues(L.txOn(r, s.escrow));
    assert.ok(outs.every((o) => o.to.equals(s.arbiter.address)), 'nothing is paid out; only the bounce of the refused message');
  });

  test('rejections: 222 non-arbiter, 223 wrong hash, 281 candidates, 280 arbiter as winner, 285 fee, 286 commission, 226 payout', async () => {
    const s = await setup();
    const outsider = await s.bc.treasury('outsider');
    await expectExit(s, await settle(s, s.requester, settleArgs(s)), 222);
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { resultHash: HASH + 1n })), 223);
    // candidate set differs from the committed one (hash mismatch)
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { candidates: [...s.candidates, outsider.address] })), 281);
    // winner not a candidate
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { winner: outsider.address })), 281);
    // participant not a candidate (unknown candidate)
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { participants: [[s.v1.address, 4n * TON], [outsider.address, 4n * TON]] })), 281);
    // wrong platform fee (14 % instead of 15 %)
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { platformFee: (80n * TON * 1400n) / 10000n })), 285);
    // fee one nanoton short
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { platformFee: 12n * TON - 1n })), 285);
    // commission shaved (4 % instead of 5 %)
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { participants: [[s.v1.address, (80n * TON * 400n) / 10000n]] })), 286);
    // winnerAmount above base
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { winnerAmount: 80n * TON + 1n })), 226);
    // legs above B: base 81 needs 81 + 12.15 + 2 x 4.05 = 101.25 > 100
    const base = 81n * TON;
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, {
      base, winnerAmount: base, platformFee: (base * 1500n) / 10000n,
      participants: [[s.v1.address, (base * 500n) / 10000n], [s.v2.address, (base * 500n) / 10000n]],
    })), 226);
    // and the correct settle still goes through afterwards
    assert.equal(L.exitCode(L.txOn(await settle(s, s.arbiter, settleArgs(s)), s.escrow)), 0);
  });

  test('the arbiter cannot name itself winner (280)', async () => {
    const bc0 = await setup();
    const s = await setup({ candidates: [bc0.arbiter.address] });
    // setup() creates fresh treasuries per blockchain; the arbiter's address is the same seed, so it is a candidate
    assert.ok(s.arbiter.address.equals(bc0.arbiter.address));
    await expectExit(s, await settle(s, s.arbiter, settleArgs(s, { winner: s.arbiter.address, participants: [], candidates: s.candidates })), 280);
  });

  test('too many participants: 33 is refused with 282, 32 is accepted', async () => {
    const many = [];
    const bcTmp = await Blockchain.create();
    for (let i = 0; i < 34; i++) many.push((await bcTmp.treasury(`p${i}`)).address);
    const base = 1n * TON;
    const each = (base * 500n) / 10000n;
    for (const [n, code] of [[33, 282], [32, 0]]) {
      const s0 = await setup();
      const candidates = [s0.winner.address, ...many];
      const s = await setup({ candidates, B: 100n * TON });
      const args = settleArgs(s, { base, winnerAmount: base, platformFee: (base * 1500n) / 10000n, participants: many.slice(0, n).map((a) => [a, each]), candidates });
      // 32 payouts need more gas than the usual 0.05 TON buys (see docs/BENCHMARKS.md)
      const r = await settle(s, s.arbiter, args, 250_000_000n);
      const tx = L.txOn(r, s.escrow);
      assert.equal(L.exitCode(tx), code, `${n} participants`);
      if (code === 0) L.recordGas('JobEscrow settle with 32 participants', tx);
    }
  });

  test('a bounced payout goes to the pull ledger and EscrowClaim re-delivers it', async () => {
    const s = await setup();
    // verifier2 becomes an address with no contract: a bounceable payout to it bounces
    const ghost = L.escrowInit({ requester: s.requester.address, arbiter: s.requester.address, escrowAmount: 1n, deadline: 1, terms: s.terms }).address;
    const candidates = [s.winner.address, s.v1.address, ghost];
    const s2 = await setup({ candidates });
    const r = await settle(s2, s2.arbiter, settleArgs(s2, { participants: [[s2.v1.address, 4n * TON], [ghost, 4n * TON]], candidates }));
    assert.equal(L.exitCode(L.txOn(r, s2.escrow)), 0);
    const bounceTx = r.transactions.find((t) => t.inMessage?.info?.type === 'internal' && t.inMessage.info.bounced && t.inMessage.info.dest.equals(s2.escrow));
    assert.ok(bounceTx, 'the payout to the empty address bounced back');
    L.recordGas('JobEscrow bounced payout credited to the pull ledger', bounceTx);
    const returned = bounceTx.inMessage.info.value.coins;
    assert.ok(returned > 0n && returned < 4n * TON);
    const owed = (await s2.bc.runGetMethod(s2.escrow, 'get_pending', [{ type: 'slice', cell: require('@ton/core').beginCell().storeAddress(ghost).endCell() }])).stackReader.readBigNumber();
    assert.equal(owed, returned);
    const c = await s2.bc.runGetMethod(s2.escrow, 'get_pending', [{ type: 'slice', cell: require('@ton/core').beginCell().storeAddress(s2.v1.address).endCell() }]);
    assert.equal(c.stackReader.readBigNumber(), 0n);
    // claim: anyone can trigger it; the owed amount is re-sent (it bounces again here, back into the ledger)
    const claim = await s2.v1.send({ to: s2.escrow, value: GAS, body: L.claimBody(OP.EscrowClaim, ghost) });
    const claimTx = L.txOn(claim, s2.escrow);
    assert.equal(L.exitCode(claimTx), 0);
    L.recordGas('JobEscrow claim', claimTx);
    assert.equal(L.outValues(claimTx)[0].value, returned);
    // nothing owed: 226
    const none = await s2.v1.send({ to: s2.escrow, value: GAS, body: L.claimBody(OP.EscrowClaim, s2.v1.address) });
    assert.equal(L.exitCode(L.txOn(none, s2.escrow)), 226);
  });

  test('unknown opcode is refused with 0xFFFF; a plain transfer and a TopUp are accepted', async () => {
    const s = await setup();
    let r = await s.requester.send({ to: s.escrow, value: GAS, body: L.opBody(0x12345678) });
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 0xffff);
    r = await s.requester.send({ to: s.escrow, value: GAS });
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 0);
    r = await s.requester.send({ to: s.escrow, value: GAS, body: L.opBody(OP.EscrowTopUp) });
    assert.equal(L.exitCode(L.txOn(r, s.escrow)), 0);
  });
});
