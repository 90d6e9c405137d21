#!/usr/bin/env node
// Golden vectors for off-chain encoders (the C# client): fixed inputs -> the exact cells of every contract's deploy
// data, StateInit address and message bodies, built with @ton/core by the same builders the contract tests use
// (tests/lib.js, which mirror the .tolk structs). Prints one JSON object: {name: {inputs, boc (base64), hash (hex)}}.
// Usage: node scripts/vectors.js > vectors.json
'use strict';
const { Address, beginCell } = require('@ton/core');
const L = require('../tests/lib');

const A = (n) => Address.parse(`0:${n.repeat(64)}`);
const requester = A('1');
const arbiter = A('2');
const treasury = A('3');
const winner = A('4');
const v1 = A('5');
const v2 = A('6');

const cell = (c) => ({ boc: c.toBoc({ idx: false, crc32: true }).toString('base64'), hash: c.hash().toString('hex') });
const out = {};
const add = (name, inputs, c) => { out[name] = { inputs, ...cell(c) }; };
const str = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : Address.isAddress(x) ? x.toRawString() : x)));

const candidates = [winner, v1, v2];
const terms = { treasury, expectedHash: 0xabcdef0123456789n, candidatesHash: L.candidatesHash(candidates), paramsVersion: 3, platformFeeBps: 1500, commissionBps: 500 };
const escrow = { requester, arbiter, escrowAmount: 100n * L.TON, deadline: 1800000600, terms };
add('candidates_cell', { candidates }, beginCell().storeDict(L.candidatesDict(candidates)).endCell());
add('escrow_terms', terms, L.termsCell(terms));
add('escrow_data', escrow, L.escrowData(escrow));
const ei = L.escrowInit(escrow);
out.escrow_address = { inputs: 'escrow_data with build/JobEscrow.json code', raw: ei.address.toRawString() };
const settle = {
  queryId: 7, resultHash: terms.expectedHash, winner, base: 80n * L.TON, winnerAmount: 80n * L.TON, platformFee: 12n * L.TON,
  participants: [[v1, 4n * L.TON], [v2, 4n * L.TON]], candidates,
};
add('escrow_settle', settle, L.settleBody(settle));
add('escrow_topup', { queryId: 1 }, L.opBody(L.OP.EscrowTopUp, 1));
add('escrow_refund', { queryId: 2 }, L.opBody(L.OP.EscrowRefund, 2));
add('escrow_claim', { queryId: 3, recipient: v2 }, L.claimBody(L.OP.EscrowClaim, v2, 3));

const vault = { owner: requester, minStake: 100n * L.TON, unbondingPeriod: 604800, slasher: arbiter, treasury, redundancyPool: v1, split: [4000, 3000, 2000, 1000] };
add('vault_data', vault, L.vaultData(vault));
out.vault_address = { inputs: 'vault_data with build/StakeVault.json code', raw: L.vaultInit(vault).address.toRawString() };
add('stake_deposit', { queryId: 1, amount: 150n * L.TON }, L.amountBody(L.OP.StakeDeposit, 150n * L.TON, 1));
add('stake_request_unbond', { queryId: 2, amount: 60n * L.TON }, L.amountBody(L.OP.StakeRequestUnbond, 60n * L.TON, 2));
add('stake_withdraw', { queryId: 3 }, L.opBody(L.OP.StakeWithdraw, 3));
add('stake_slash', { queryId: 4, amount: 70n * L.TON + 7n, reason: 1, challenger: v2 }, L.slashBody(70n * L.TON + 7n, 1, v2, 4));

const params = { admin: requester, feeRecipient: treasury, params: L.DEFAULT_PARAMS };
add('eco_params', L.DEFAULT_PARAMS, L.ecoParamsCell(L.DEFAULT_PARAMS));
add('params_data', params, L.paramsData(params));
out.params_address = { inputs: 'params_data with build/GlobalParams.json code', raw: L.paramsInit(params).address.toRawString() };
add('update_params', { queryId: 5, feeRecipient: treasury, params: L.DEFAULT_PARAMS }, L.updateParamsBody(treasury, L.DEFAULT_PARAMS, 5));

const anchor = { keeper: arbiter, treasury, verdictAuthority: requester, minStakeWeight: 10n * L.TON, disputeBondMin: L.TON };
add('anchor_data', anchor, L.anchorData(anchor));
out.anchor_address = { inputs: 'anchor_data with build/RecordAnchor.json code', raw: L.anchorInit(anchor).address.toRawString() };
const leaves = [11n, 22n, 33n, 44n, 55n];
const m = L.merkle(leaves);
out.merkle = { leaves: leaves.map(String), root: m.root.toString(16).padStart(64, '0'), proofs: m.proofs.map((p) => p.map((s) => ({ siblingIsLeft: s.siblingIsLeft, sibling: s.sibling.toString(16).padStart(64, '0') }))) };
add('anchor_submit_root', { queryId: 6, epoch: 1, root: m.root, prevRoot: 0n, stakeWeight: 10n * L.TON }, L.submitRootBody(1, m.root, 0n, 10n * L.TON, 6));
add('anchor_open_dispute', { queryId: 7, epoch: 1, leaf: 33n, proof: 'merkle.proofs[2]' }, L.openDisputeBody(1, 33n, m.proofs[2], 7));
add('anchor_resolve_dispute', { queryId: 8, disputeId: 0, upheld: true }, L.resolveBody(0, true, 8));

process.stdout.write(JSON.stringify(str(out), null, 2) + '\n');
