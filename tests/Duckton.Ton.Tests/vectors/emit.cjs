// Emits golden vectors (JSON on stdout) computed by @ton/core, @ton/crypto and @ton/ton. The C# tests rebuild the
// same values from the same inputs and require byte equality. All inputs are deterministic (a seeded PRNG), so the
// output is the same on every run.
'use strict';
const crypto = require('crypto');
const { beginCell, Address, Cell, Dictionary, internal, external, storeMessage, contractAddress, SendMode, toNano } = require('@ton/core');
const { mnemonicToPrivateKey, mnemonicValidate, keyPairFromSeed } = require('@ton/crypto');
const { mnemonicToEntropy } = require('@ton/crypto/dist/mnemonic/mnemonic');
const { wordlist } = require('@ton/crypto/dist/mnemonic/wordlist');
const { WalletContractV5R1 } = require('@ton/ton');

// xorshift-style PRNG from SHA-256 of a counter: deterministic and portable.
let counter = 0;
function randomBytes(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 32) {
    crypto.createHash('sha256').update('duckton-vectors-' + (counter++)).digest().copy(out, i, 0, Math.min(32, n - i));
  }
  return out;
}
function randomInt(max) { return randomBytes(4).readUInt32BE(0) % max; }

// A random cell tree described as {bits: hex of the bits left-aligned, length: bit count, refs: [...]}; shared
// subtrees are reused so the BoC has a DAG with duplicated references.
function randomCell(depth, pool) {
  if (pool.length > 0 && randomInt(5) === 0) { return pool[randomInt(pool.length)]; }
  const length = randomInt(1024);
  const data = randomBytes(Math.ceil(length / 8));
  const b = beginCell();
  for (let i = 0; i < length; i++) { b.storeBit((data[i >> 3] >> (7 - (i & 7))) & 1); }
  const refCount = depth > 0 ? randomInt(5) : 0;
  const refs = [];
  for (let i = 0; i < refCount; i++) { refs.push(randomCell(depth - 1, pool)); }
  for (const r of refs) { b.storeRef(r.cell); }
  // Mask away bits beyond length so the description is canonical.
  const bytes = Buffer.from(data);
  if (length % 8 !== 0) { bytes[bytes.length - 1] &= (0xff << (8 - (length % 8))) & 0xff; }
  const node = { desc: { bits: bytes.toString('hex'), length, refs: refs.map((r) => r.desc) }, cell: b.endCell() };
  pool.push(node);
  return node;
}

const cells = [];
for (let i = 0; i < 40; i++) {
  const node = randomCell(i % 5, []);
  cells.push({ tree: node.desc, hash: node.cell.hash().toString('hex'), depth: node.cell.depth(), boc: node.cell.toBoc().toString('hex'),
    bocIdx: node.cell.toBoc({ idx: true, crc32: false }).toString('hex') });
}
// A deep chain (depth 300) so multi-byte depths and many cells are covered.
let chain = beginCell().storeUint(7, 3).endCell();
for (let i = 0; i < 300; i++) { chain = beginCell().storeUint(i, 16).storeRef(chain).endCell(); }
const deepChain = { length: 300, hash: chain.hash().toString('hex'), boc: chain.toBoc().toString('hex') };

const addresses = [];
for (let i = 0; i < 20; i++) {
  const wc = i % 3 === 0 ? -1 : 0;
  const a = new Address(wc, randomBytes(32));
  addresses.push({
    raw: a.toRawString(),
    bounceable: a.toString({ bounceable: true, urlSafe: true }),
    nonBounceable: a.toString({ bounceable: false, urlSafe: true }),
    testBounceable: a.toString({ bounceable: true, testOnly: true, urlSafe: true }),
    testNonBounceableStd: a.toString({ bounceable: false, testOnly: true, urlSafe: false }),
    cell: beginCell().storeAddress(a).endCell().toBoc().toString('hex'),
  });
}

// Dictionaries as our contracts take them: map<address, coins>, map<address, uint1>, map<uint32, uint256>.
const dicts = [];
for (const size of [1, 2, 3, 7, 32]) {
  const byAddress = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
  const flags = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.Uint(1));
  const byEpoch = Dictionary.empty(Dictionary.Keys.Uint(32), Dictionary.Values.BigUint(256));
  const entries = [];
  for (let i = 0; i < size; i++) {
    const a = new Address(i % 2 === 0 ? 0 : -1, randomBytes(32));
    const v = BigInt('0x' + randomBytes(6).toString('hex'));
    const k = randomBytes(4).readUInt32BE(0) >>> (i % 3 === 0 ? 20 : 0);
    const h = BigInt('0x' + randomBytes(32).toString('hex'));
    byAddress.set(a, v); flags.set(a, 1); byEpoch.set(k, h);
    entries.push({ address: a.toRawString(), coins: v.toString(), epoch: k, hash: h.toString(16).padStart(64, '0') });
  }
  dicts.push({ entries,
    byAddress: beginCell().storeDict(byAddress).endCell().toBoc().toString('hex'),
    flags: beginCell().storeDict(flags).endCell().toBoc().toString('hex'),
    byEpoch: beginCell().storeDict(byEpoch).endCell().toBoc().toString('hex') });
}

const coinValues = ['0', '1', '15', '255', '256', '1000000000', '1500000000', '123456789012345678', '1329227995784915872903807060280344575'];
const coins = coinValues.map((v) => ({ value: v, boc: beginCell().storeCoins(BigInt(v)).endCell().toBoc().toString('hex') }));

const ints = [];
for (const [v, bits, signed] of [[-1, 8, true], [-128, 8, true], [127, 8, true], [-239, 32, true], [5, 3, false], [-5, 257, true], ['115792089237316195423570985008687907853269984665640564039457584007913129639935', 256, false]]) {
  const b = beginCell();
  if (signed) b.storeInt(BigInt(v), bits); else b.storeUint(BigInt(v), bits);
  ints.push({ value: String(v), bits, signed, boc: b.endCell().toBoc().toString('hex') });
}

// A mnemonic from the list that passes @ton/crypto's validation (basic seed, no password).
async function pickMnemonic() {
  for (;;) {
    const words = [];
    for (let i = 0; i < 24; i++) words.push(wordlist[randomInt(wordlist.length)]);
    if (await mnemonicValidate(words)) return words;
  }
}

async function main() {
  const words = await pickMnemonic();
  const mnemonicKey = await mnemonicToPrivateKey(words);
  const mnemonic = { words, entropy: (await mnemonicToEntropy(words)).toString('hex'), seed: mnemonicKey.secretKey.subarray(0, 32).toString('hex'),
    publicKey: mnemonicKey.publicKey.toString('hex') };

  const seed = crypto.createHash('sha256').update('duckton wallet seed').digest();
  const kp = keyPairFromSeed(seed);
  const wallets = [];
  for (const [networkGlobalId, workchain] of [[-239, 0], [-3, 0], [-239, -1]]) {
    const w = WalletContractV5R1.create({ publicKey: kp.publicKey, workChain: workchain, walletId: { networkGlobalId, context: { walletVersion: 'v5r1', workchain, subwalletNumber: 0 } } });
    const dest = new Address(0, crypto.createHash('sha256').update('duckton dest').digest());
    const transfers = [];
    for (const [seqno, validUntil] of [[0, 1800000000], [7, 1800000123]]) {
      const body = w.createTransfer({ seqno, secretKey: kp.secretKey, timeout: validUntil, sendMode: SendMode.PAY_GAS_SEPARATELY,
        messages: [
          internal({ to: dest, value: 1500000000n, bounce: false, body: 'hello' }),
          internal({ to: w.address, value: 1n, bounce: true, body: beginCell().storeUint(0x45534300, 32).storeUint(42, 64).endCell() }),
        ] });
      const ext = external({ to: w.address, init: seqno === 0 ? w.init : undefined, body });
      const msg = beginCell().store(storeMessage(ext)).endCell();
      transfers.push({ seqno, validUntil, dest: dest.toRawString(), body: body.toBoc().toString('hex'), message: msg.toBoc().toString('hex'), messageHash: msg.hash().toString('hex') });
    }
    wallets.push({ networkGlobalId, workchain, seed: seed.toString('hex'), publicKey: kp.publicKey.toString('hex'),
      code: w.init.code.toBoc().toString('hex'), codeHash: w.init.code.hash().toString('hex'), data: w.init.data.toBoc().toString('hex'),
      address: w.address.toRawString(), stateInit: beginCell().store(require('@ton/core').storeStateInit(w.init)).endCell().toBoc().toString('hex'), transfers });
  }
  const wordlistHash = crypto.createHash('sha256').update(wordlist.join('\n')).digest('hex');
  process.stdout.write(JSON.stringify({ cells, deepChain, dicts, addresses, coins, ints, mnemonic, wallets, wordlist: { count: wordlist.length, sha256: wordlistHash } }, null, 1));
}
main().catch((e) => { console.error(e); process.exit(1); });
