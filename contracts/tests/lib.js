// Test helpers: storage and message builders that mirror the .tolk structs field by field (docs/TON.md lists the
// same layouts), and small sandbox conveniences. Shared by the contract tests and the local chain test.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Cell, beginCell, contractAddress, Dictionary, toNano } = require('@ton/core');

const TON = 1_000_000_000n;
const RESERVE = 50_000_000n; // MIN_TONS_FOR_STORAGE

function code(name) {
  const json = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'build', `${name}.json`), 'utf8'));
  return Cell.fromBase64(json.codeBoc64);
}

const OP = {
  EscrowTopUp: 0x45534300, EscrowSettle: 0x45534302, EscrowRefund: 0x45534303, EscrowClaim: 0x45534304, EscrowPayout: 0x45534305,
  StakeTopUp: 0x534b4b00, StakeDeposit: 0x534b4b01, StakeRequestUnbond: 0x534b4b02, StakeWithdraw: 0x534b4b03,
  StakeSlash: 0x534b4b05, StakeClaim: 0x534b4b0a, StakePayout: 0x534b4b0b,
  ParamsTopUp: 0x47504100, UpdateParams: 0x47504101, UpdateAdmin: 0x47504102,
  AnchorTopUp: 0x414e4300, AnchorSubmitRoot: 0x414e4301, AnchorOpenDispute: 0x414e4302, AnchorResolveDispute: 0x414e4303,
  AnchorBondPayout: 0x414e4305,
};

// ---- JobEscrow ----

function candidatesDict(addresses) {
  const d = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.Uint(1));
  for (const a of addresses) d.set(a, 1);
  return d;
}

function participantsDict(entries) {
  const d = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
  for (const [a, v] of entries) d.set(a, v);
  return d;
}

// candidatesHash = representation hash of a cell holding only the candidates HashmapE (1 bit + optional ref).
function candidatesHash(addresses) {
  return BigInt('0x' + beginCell().storeDict(candidatesDict(addresses)).endCell().hash().toString('hex'));
}

function termsCell(t) {
  return beginCell()
    .storeAddress(t.treasury)
    .storeUint(t.expectedHash, 256)
    .storeUint(t.candidatesHash, 256)
    .storeUint(t.paramsVersion, 32)
    .storeUint(t.platformFeeBps, 16)
    .storeUint(t.commissionBps, 16)
    .endCell();
}

function escrowData(e) {
  return beginCell()
    .storeAddress(e.requester)
    .storeAddress(e.arbiter)
    .storeCoins(e.escrowAmount)
    .storeUint(e.deadline, 32)
    .storeBit(false) // settled
    .storeRef(termsCell(e.terms))
    .storeBit(false) // pending: empty map
    .endCell();
}

function escrowInit(e) {
  const init = { code: code('JobEscrow'), data: escrowData(e) };
  return { init, address: contractAddress(0, init) };
}

function settleBody(s) {
  return beginCell()
    .storeUint(OP.EscrowSettle, 32)
    .storeUint(s.queryId ?? 1, 64)
    .storeUint(s.resultHash, 256)
    .storeAddress(s.winner)
    .storeCoins(s.base)
    .storeCoins(s.winnerAmount)
    .storeCoins(s.platformFee)
    .storeDict(participantsDict(s.participants))
    .storeDict(candidatesDict(s.candidates))
    .endCell();
}

const opBody = (op, queryId = 1) => beginCell().storeUint(op, 32).storeUint(queryId, 64).endCell();
const claimBody = (op, recipient, queryId = 1) => beginCell().storeUint(op, 32).storeUint(queryId, 64).storeAddress(recipient).endCell();

// ---- StakeVault ----

function vaultData(v) {
  const split = beginCell()
    .storeAddress(v.treasury)
    .storeAddress(v.redundancyPool)
    .storeUint(v.split[0], 16).storeUint(v.split[1], 16).storeUint(v.split[2], 16).storeUint(v.split[3], 16)
    .endCell();
  const config = beginCell()
    .storeCoins(v.minStake)
    .storeUint(v.unbondingPeriod, 32)
    .storeAddress(v.slasher)
    .storeRef(split)
    .endCell();
  return beginCell()
    .storeAddress(v.owner)
    .storeCoins(0) // staked
    .storeCoins(0) // unbondingAmount
    .storeUint(0, 32) // unbondingAt
    .storeRef(config)
    .storeBit(false) // pending
    .endCell();
}

function vaultInit(v) {
  const init = { code: code('StakeVault'), data: vaultData(v) };
  return { init, address: contractAddress(0, init) };
}

const amountBody = (op, amount, queryId = 1) => beginCell().storeUint(op, 32).storeUint(queryId, 64).storeCoins(amount).endCell();

function slashBody(amount, reason, challenger, queryId = 1) {
  return beginCell().storeUint(OP.StakeSlash, 32).storeUint(queryId, 64).storeCoins(amount).storeUint(reason, 8).storeAddress(challenger).endCell();
}

// ---- GlobalParams ----

const DEFAULT_PARAMS = {
  platformFeeBps: 1500, participationCommissionBps: 500, surchargeBps: 500,
  slashWrongBps: 1500, slashCheatBps: 10000, slashDowntimeBps: 200, slashEquivocationBps: 5000, slashFailedCommitmentBps: 1000,
  splitChallengerBps: 4000, splitRedundancyBps: 3000, splitBurnBps: 2000, splitTreasuryBps: 1000,
  minStake: 100n * TON, unbondingSecs: 604800, challengeWindowSecs: 86400,
};

function ecoParamsCell(p) {
  return beginCell()
    .storeUint(p.platformFeeBps, 16).storeUint(p.participationCommissionBps, 16).storeUint(p.surchargeBps, 16)
    .storeUint(p.slashWrongBps, 16).storeUint(p.slashCheatBps, 16).storeUint(p.slashDowntimeBps, 16)
    .storeUint(p.slashEquivocationBps, 16).storeUint(p.slashFailedCommitmentBps, 16)
    .storeUint(p.splitChallengerBps, 16).storeUint(p.splitRedundancyBps, 16).storeUint(p.splitBurnBps, 16).storeUint(p.splitTreasuryBps, 16)
    .storeCoins(p.minStake)
    .storeUint(p.unbondingSecs, 32).storeUint(p.challengeWindowSecs, 32)
    .endCell();
}

function paramsData(g) {
  return beginCell().storeAddress(g.admin).storeAddress(g.feeRecipient).storeRef(ecoParamsCell(g.params)).storeUint(0, 32).endCell();
}

function paramsInit(g) {
  const init = { code: code('GlobalParams'), data: paramsData(g) };
  return { init, address: contractAddress(0, init) };
}

function updateParamsBody(feeRecipient, params, queryId = 1) {
  return beginCell().storeUint(OP.UpdateParams, 32).storeUint(queryId, 64).storeAddress(feeRecipient).storeRef(ecoParamsCell(params)).endCell();
}

// ---- RecordAnchor ----

function anchorData(a) {
  const auth = beginCell().storeAddress(a.keeper).storeAddress(a.treasury).endCell();
  const config = beginCell().storeCoins(a.minStakeWeight).storeCoins(a.disputeBondMin).storeAddress(a.verdictAuthority).storeRef(auth).endCell();
  return beginCell()
    .storeUint(0, 32) // currentEpoch
    .storeUint(0, 256) // lastRoot
    .storeUint(0, 32) // nextDisputeId
    .storeBit(false) // roots
    .storeBit(false) // disputes
    .storeRef(config)
    .endCell();
}

function anchorInit(a) {
  const init = { code: code('RecordAnchor'), data: anchorData(a) };
  return { init, address: contractAddress(0, init) };
}

function submitRootBody(epoch, root, prevRoot, stakeWeight, queryId = 1) {
  return beginCell().storeUint(OP.AnchorSubmitRoot, 32).storeUint(queryId, 64).storeUint(epoch, 32)
    .storeUint(root, 256).storeUint(prevRoot, 256).storeCoins(stakeWeight).endCell();
}

// steps: [{siblingIsLeft, sibling}], nearest the leaf first -> a linked list of cells, outermost = first step.
function proofCell(steps) {
  let next = null;
  for (let i = steps.length - 1; i >= 0; i--) {
    next = beginCell().storeBit(steps[i].siblingIsLeft).storeUint(steps[i].sibling, 256).storeMaybeRef(next).endCell();
  }
  return next;
}

function openDisputeBody(epoch, leaf, steps, queryId = 1) {
  return beginCell().storeUint(OP.AnchorOpenDispute, 32).storeUint(queryId, 64).storeUint(epoch, 32).storeUint(leaf, 256)
    .storeMaybeRef(proofCell(steps)).endCell();
}

function resolveBody(disputeId, upheld, queryId = 1) {
  return beginCell().storeUint(OP.AnchorResolveDispute, 32).storeUint(queryId, 64).storeUint(disputeId, 32).storeBit(upheld).endCell();
}

// Merkle scheme (the same on- and off-chain): hashes are cell representation hashes.
const h = (cell) => BigInt('0x' + cell.hash().toString('hex'));
const hashLeaf = (leaf) => h(beginCell().storeUint(leaf, 256).endCell());
const hashNode = (l, r) => h(beginCell().storeUint(l, 256).storeUint(r, 256).endCell());

// Root and per-leaf proofs, pairing left to right, an odd last node promoted unchanged.
function merkle(leaves) {
  let level = leaves.map((leaf, i) => ({ hash: hashLeaf(leaf), members: [i] }));
  const proofs = leaves.map(() => []);
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i]);
        continue;
      }
      const [l, r] = [level[i], level[i + 1]];
      for (const m of l.members) proofs[m].push({ siblingIsLeft: false, sibling: r.hash });
      for (const m of r.members) proofs[m].push({ siblingIsLeft: true, sibling: l.hash });
      next.push({ hash: hashNode(l.hash, r.hash), members: [...l.members, ...r.members] });
    }
    level = next;
  }
  return { root: level[0].hash, proofs };
}

// ---- sandbox conveniences ----

// The first transaction of `address` in `result` caused by an internal message.
function txOn(result, address) {
  const tx = result.transactions.find((t) => t.inMessage?.info?.type === 'internal' && t.inMessage.info.dest.equals(address));
  if (!tx) throw new Error(`no transaction on ${address}`);
  return tx;
}

function exitCode(tx) {
  const d = tx.description;
  if (d.computePhase.type === 'skipped') return null;
  return d.computePhase.exitCode;
}

function gasUsed(tx) {
  const c = tx.description.computePhase;
  return c.type === 'vm' ? Number(c.gasUsed) : 0;
}

function outValues(tx) {
  return [...tx.outMessages.values()].map((m) => ({ to: m.info.dest, value: m.info.value.coins, fwdFee: m.info.forwardFee, bounce: m.info.bounce }));
}

// Everything that leaves a transaction's balance: out values + their forwarding fees + the fees kept by the account.
function conservation(tx) {
  let out = 0n;
  for (const m of tx.outMessages.values()) out += m.info.value.coins + m.info.forwardFee + (m.info.ihrFee ?? 0n);
  return { out, fees: tx.totalFees.coins };
}

const gasLog = [];
function recordGas(operation, tx) {
  gasLog.push({ operation, gas: gasUsed(tx), fee: tx.totalFees.coins.toString() });
}

module.exports = {
  TON, RESERVE, OP, code, toNano,
  candidatesDict, participantsDict, candidatesHash, termsCell, escrowData, escrowInit, settleBody, opBody, claimBody,
  vaultData, vaultInit, amountBody, slashBody,
  DEFAULT_PARAMS, ecoParamsCell, paramsData, paramsInit, updateParamsBody,
  anchorData, anchorInit, submitRootBody, proofCell, openDisputeBody, resolveBody, hashLeaf, hashNode, merkle,
  txOn, exitCode, gasUsed, outValues, conservation, gasLog, recordGas,
};
