#!/usr/bin/env node
// duckton local chain: ONE @ton/sandbox blockchain (an in-process TVM emulator, not a network) behind a
// toncenter-v2-compatible HTTP API on 127.0.0.1. network = local-emulator: no validators, no consensus, no real TON.
// Every sendBoc runs the whole message cascade before the HTTP reply, so a transaction is final when the reply comes.
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { Address, Cell, beginCell, TupleBuilder, loadMessage, storeMessage, storeStateInit, storeTransaction } = require('@ton/core');
const { Blockchain, snapshotToSerializable, snapshotFromSerializable } = require('@ton/sandbox');

const NETWORK = 'local-emulator';

function parseArgs(argv) {
  const opts = { port: 8081, host: '127.0.0.1', state: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') {
      const p = Number(value());
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`--port must be 0..65535 (0 picks a free port)`);
      opts.port = p;
    } else if (a === '--state') {
      opts.state = path.resolve(value());
    } else if (a === '--exit-with-stdin') {
      opts.exitWithStdin = true;
    } else if (a === '--help' || a === '-h') {
      opts.help = true;
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

class HttpError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function parseAddress(text, name = 'address') {
  if (typeof text !== 'string' || text.length === 0) throw new HttpError(400, `missing ${name}`);
  try {
    return Address.parse(text);
  } catch (e) {
    throw new HttpError(400, `${name} is not a TON address (raw 0:<64 hex> or user-friendly base64): ${text}`);
  }
}

function parseNano(text, name) {
  if (typeof text === 'number') text = String(text);
  if (typeof text !== 'string' || !/^[0-9]+$/.test(text)) throw new HttpError(400, `${name} must be a non-negative integer string of nanoton`);
  const v = BigInt(text);
  if (v >= 1n << 120n) throw new HttpError(400, `${name} is too large`);
  return v;
}

function friendly(addr) {
  return addr.toString({ bounceable: true, urlSafe: true, testOnly: false });
}

function addressText(a) {
  if (!a) return '';
  if (Address.isAddress(a)) return friendly(a);
  return ''; // external (addr_extern) and none are shown empty, as toncenter does
}

function b64(cell) {
  return cell ? cell.toBoc({ idx: false, crc32: true }).toString('base64') : '';
}

function hex(v) {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

// ---- state: the sandbox plus a clock offset (chain now = wall clock + offset, so time keeps moving) ----

class Chain {
  constructor(blockchain, stateDir) {
    this.bc = blockchain;
    this.stateDir = stateDir;
    this.offset = 0;
  }

  static async open(stateDir) {
    const bc = await Blockchain.create();
    const chain = new Chain(bc, stateDir);
    if (stateDir) {
      fs.mkdirSync(stateDir, { recursive: true });
      const file = path.join(stateDir, 'chain.json');
      if (fs.existsSync(file)) {
        const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (saved.network !== NETWORK || !saved.snapshot) throw new Error(`${file} is not a duckton local chain state`);
        await bc.loadFrom(snapshotFromSerializable(saved.snapshot));
        chain.offset = saved.clockOffset ?? 0;
        chain.restored = saved.snapshot.contracts.length;
      }
    }
    chain.tick();
    return chain;
  }

  now() {
    return Math.floor(Date.now() / 1000) + this.offset;
  }

  // Pins the sandbox clock to the chain's time before every emulated step.
  tick() {
    this.bc.now = this.now();
  }

  save() {
    if (!this.stateDir) return;
    const file = path.join(this.stateDir, 'chain.json');
    const snapshot = snapshotToSerializable(this.bc.snapshot());
    const text = JSON.stringify({ network: NETWORK, clockOffset: this.offset, savedAt: new Date().toISOString(), snapshot });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file); // atomic: a crash leaves the previous state
  }

  allTransactions() {
    // `transactions` is the sandbox's own log (persisted in its snapshots); read a copy, never reorder it.
    return (this.bc.transactions ?? []).slice();
  }
}

// ---- toncenter v2 shapes ----

function messageJson(msg) {
  if (!msg) return null;
  const info = msg.info;
  const body = msg.body;
  const out = {
    '@type': 'raw.message',
    hash: beginCell().store(storeMessage(msg)).endCell().hash().toString('base64'),
    source: info.type === 'external-in' ? '' : addressText(info.src),
    destination: info.type === 'external-out' ? '' : addressText(info.dest),
    value: info.type === 'internal' ? info.value.coins.toString() : '0',
    fwd_fee: info.type === 'internal' ? info.forwardFee.toString() : '0',
    ihr_fee: info.type === 'internal' ? info.ihrFee.toString() : '0',
    created_lt: info.type === 'external-in' ? '0' : info.createdLt.toString(),
    bounce: info.type === 'internal' ? info.bounce : false,
    bounced: info.type === 'internal' ? info.bounced : false,
    body_hash: body.hash().toString('base64'),
    op: body.bits.length >= 32 ? hex(BigInt(body.beginParse().preloadUint(32))) : null,
    msg_data: { '@type': 'msg.dataRaw', body: b64(body), init_state: msg.init ? b64(beginCell().store(storeStateInit(msg.init)).endCell()) : '' },
    message: '',
  };
  return out;
}

function descriptionJson(d) {
  if (d.type !== 'generic') return { type: d.type };
  const c = d.computePhase;
  const compute = c.type === 'skipped'
    ? { type: 'skipped', skipped: true, reason: c.reason, success: false, exit_code: null, gas_used: '0', gas_fees: '0' }
    : {
        type: 'vm', skipped: false, success: c.success, exit_code: c.exitCode, exit_arg: c.exitArg ?? null,
        gas_used: c.gasUsed.toString(), gas_fees: c.gasFees.toString(), gas_limit: c.gasLimit.toString(), vm_steps: c.vmSteps,
      };
  const a = d.actionPhase;
  const action = a ? {
    success: a.success, valid: a.valid, no_funds: a.noFunds, result_code: a.resultCode, result_arg: a.resultArg ?? null,
    tot_actions: a.totalActions, spec_actions: a.specActions, skipped_actions: a.skippedActions, msgs_created: a.messagesCreated,
    total_fwd_fees: (a.totalFwdFees ?? 0n).toString(), total_action_fees: (a.totalActionFees ?? 0n).toString(),
  } : null;
  const s = d.storagePhase;
  return {
    type: 'generic',
    aborted: d.aborted,
    destroyed: d.destroyed,
    credit_first: d.creditFirst,
    storage_ph: s ? { storage_fees_collected: s.storageFeesCollected.toString(), status_change: s.statusChange } : null,
    credit_ph: d.creditPhase ? { credit: d.creditPhase.credit.coins.toString() } : null,
    compute_ph: compute,
    action,
    bounce: d.bouncePhase ? { type: d.bouncePhase.type } : null,
  };
}

function transactionJson(tx) {
  const d = tx.description;
  const storageFee = d.type === 'generic' && d.storagePhase ? d.storagePhase.storageFeesCollected : 0n;
  const total = tx.totalFees.coins;
  const outs = [];
  for (const m of tx.outMessages.values()) outs.push(messageJson(m));
  const cell = beginCell().store(storeTransaction(tx)).endCell();
  return {
    '@type': 'raw.transaction',
    address: { account_address: friendly(new Address(0, bigintTo32(tx.address))) },
    utime: tx.now,
    data: b64(cell),
    transaction_id: { '@type': 'internal.transactionId', lt: tx.lt.toString(), hash: tx.hash().toString('base64') },
    fee: total.toString(),
    storage_fee: storageFee.toString(),
    other_fee: (total - storageFee).toString(),
    in_msg: messageJson(tx.inMessage),
    out_msgs: outs,
    description: descriptionJson(d),
  };
}

function bigintTo32(v) {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

// "123", "-123", "0x7b", "-0x7b" (BigInt alone refuses a negative hex string).
function parseInteger(value) {
  const text = String(value).trim();
  if (!/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) throw new Error('not an integer');
  return text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
}

// toncenter stack: [["num","0x.."], ["tvm.Cell", b64], ["tvm.Slice", b64]] in; [["num"],["cell",{bytes}],...] out.
function stackIn(stack) {
  const tb = new TupleBuilder();
  if (stack === undefined || stack === null || stack === '') return [];
  if (typeof stack === 'string') {
    try { stack = JSON.parse(stack); } catch { throw new HttpError(400, 'stack must be a JSON array'); }
  }
  if (!Array.isArray(stack)) throw new HttpError(400, 'stack must be an array of [type, value] pairs');
  for (const entry of stack) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new HttpError(400, 'each stack entry must be [type, value]');
    const [type, value] = entry;
    try {
      if (type === 'num' || type === 'int') tb.writeNumber(parseInteger(value));
      else if (type === 'tvm.Cell' || type === 'cell') tb.writeCell(Cell.fromBase64(typeof value === 'object' ? value.bytes : value));
      else if (type === 'tvm.Slice' || type === 'slice') tb.writeSlice(Cell.fromBase64(typeof value === 'object' ? value.bytes : value));
      else if (type === 'addr' || type === 'address') tb.writeAddress(Address.parse(value));
      else throw new HttpError(400, `unsupported stack entry type ${type} (num, tvm.Cell, tvm.Slice, addr)`);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, `bad stack entry [${type}, ${JSON.stringify(value)}]: ${e.message}`);
    }
  }
  return tb.build();
}

function stackOut(items) {
  return items.map((it) => {
    switch (it.type) {
      case 'int': return ['num', hex(it.value)];
      case 'nan': return ['num', 'NaN'];
      case 'null': return ['null', null];
      case 'cell': return ['cell', { bytes: b64(it.cell) }];
      case 'slice': return ['cell', { bytes: b64(it.cell) }];
      case 'builder': return ['cell', { bytes: b64(it.cell) }];
      case 'tuple': return ['tuple', { elements: stackOut(it.items) }];
      default: return ['unknown', null];
    }
  });
}

// ---- handlers ----

function handlers(chain) {
  const bc = chain.bc;

  async function send(params, returnHash) {
    let boc = params.boc;
    if (typeof boc !== 'string' || boc.length === 0) throw new HttpError(400, 'missing boc (base64 bag of cells)');
    // A GET query string turns an unencoded '+' of base64 into a space; base64 has no spaces, so undo it.
    boc = boc.replace(/ /g, '+');
    let cell;
    try {
      const cells = Cell.fromBoc(Buffer.from(boc, 'base64'));
      if (cells.length !== 1) throw new Error(`expected one root cell, got ${cells.length}`);
      cell = cells[0];
    } catch (e) {
      throw new HttpError(400, `boc is not a valid bag of cells: ${e.message}`);
    }
    let message;
    try {
      message = loadMessage(cell.beginParse());
    } catch (e) {
      throw new HttpError(400, `boc is not a message: ${e.message}`);
    }
    if (message.info.type !== 'external-in') throw new HttpError(400, 'only external inbound messages can be sent (as on a real network)');
    chain.tick();
    let result;
    try {
      result = await bc.sendMessage(message);
    } catch (e) {
      // What a real liteserver does with an external the contract does not accept: refuse it, nothing is recorded.
      throw new HttpError(500, `LITE_SERVER_UNKNOWN: cannot apply external message to current state : ${e.message}`);
    }
    chain.save();
    const hash = cell.hash().toString('base64');
    return {
      '@type': returnHash ? 'raw.extMessageInfo' : 'ok',
      hash,
      hash_norm: hash,
      // Not in toncenter: how many transactions the emulated cascade produced (all are final now).
      transactions: result.transactions.length,
    };
  }

  return {
    '/api/v2/sendBoc': (p) => send(p, false),
    '/api/v2/sendBocReturnHash': (p) => send(p, true),

    '/api/v2/runGetMethod': async (p) => {
      const addr = parseAddress(p.address);
      if (p.method === undefined || p.method === '') throw new HttpError(400, 'missing method');
      const method = /^-?[0-9]+$/.test(String(p.method)) ? Number(p.method) : String(p.method);
      const stack = stackIn(p.stack);
      chain.tick();
      const contract = await bc.getContract(addr);
      if (contract.accountState?.type !== 'active') {
        throw new HttpError(500, `account ${friendly(addr)} is not active (${contract.accountState?.type ?? 'nonexist'}); cannot run get-methods`);
      }
      try {
        const r = await bc.runGetMethod(addr, method, stack);
        return { '@type': 'smc.runResult', gas_used: Number(r.gasUsed), stack: stackOut(r.stack), exit_code: r.exitCode };
      } catch (e) {
        if (typeof e.exitCode === 'number') {
          return { '@type': 'smc.runResult', gas_used: Number(e.gasUsed ?? 0), stack: [], exit_code: e.exitCode };
        }
        throw e;
      }
    },

    '/api/v2/getAddressBalance': async (p) => {
      const c = await bc.getContract(parseAddress(p.address));
      return c.balance.toString();
    },

    '/api/v2/getAddressInformation': async (p) => {
      const addr = parseAddress(p.address);
      const c = await bc.getContract(addr);
      const st = c.accountState;
      let state = 'uninitialized';
      let code = '';
      let data = '';
      let frozen = '';
      if (st?.type === 'active') {
        state = 'active';
        code = b64(st.state.code);
        data = b64(st.state.data);
      } else if (st?.type === 'frozen') {
        state = 'frozen';
        frozen = Buffer.from(st.stateHash.toString(16).padStart(64, '0'), 'hex').toString('base64');
      }
      return {
        '@type': 'raw.fullAccountState',
        balance: c.balance.toString(),
        code,
        data,
        last_transaction_id: {
          '@type': 'internal.transactionId',
          lt: c.lastTransactionLt.toString(),
          hash: bigintTo32(c.lastTransactionHash).toString('base64'),
        },
        frozen_hash: frozen,
        sync_utime: chain.now(),
        state,
      };
    },

    '/api/v2/getTransactions': async (p) => {
      const addr = parseAddress(p.address);
      let limit = p.limit === undefined ? 10 : Number(p.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'limit must be a positive integer');
      limit = Math.min(limit, 100);
      const fromLt = p.lt !== undefined && p.lt !== '' ? BigInt(p.lt) : null;
      const toLt = p.to_lt !== undefined && p.to_lt !== '' && p.to_lt !== '0' ? BigInt(p.to_lt) : null;
      const mine = chain.allTransactions()
        .filter((tx) => tx.address === BigInt('0x' + addr.hash.toString('hex')))
        .sort((a, b) => (a.lt < b.lt ? 1 : a.lt > b.lt ? -1 : 0)); // newest first, as toncenter
      const picked = mine.filter((tx) => (fromLt === null || tx.lt <= fromLt) && (toLt === null || tx.lt > toLt)).slice(0, limit);
      return picked.map(transactionJson);
    },

    '/api/v2/getMasterchainInfo': async () => ({
      '@type': 'blocks.masterchainInfo',
      last: { '@type': 'ton.blockIdExt', workchain: -1, shard: '-9223372036854775808', seqno: 0, root_hash: '', file_hash: '' },
      network: NETWORK,
    }),

    '/local/fund': async (p) => {
      const addr = parseAddress(p.address);
      const amount = parseNano(p.amount, 'amount');
      const c = await bc.getContract(addr);
      // Credits the balance directly (a faucet): no message, no transaction, exact to the nanoton.
      c.balance = c.balance + amount;
      chain.save();
      return { address: friendly(addr), balance: c.balance.toString() };
    },

    '/local/time': async (p) => {
      if (p.now !== undefined && p.advance_seconds !== undefined) throw new HttpError(400, 'give either now or advance_seconds, not both');
      if (p.now !== undefined) {
        const now = Number(p.now);
        if (!Number.isInteger(now) || now < 0) throw new HttpError(400, 'now must be unix seconds');
        if (now < chain.now()) throw new HttpError(400, `now ${now} is before the chain's time ${chain.now()}; the clock only moves forward`);
        chain.offset = now - Math.floor(Date.now() / 1000);
      } else if (p.advance_seconds !== undefined) {
        const s = Number(p.advance_seconds);
        if (!Number.isInteger(s) || s < 0) throw new HttpError(400, 'advance_seconds must be a non-negative integer');
        chain.offset += s;
      } else {
        throw new HttpError(400, 'give now (unix seconds) or advance_seconds');
      }
      chain.tick();
      chain.save();
      return { now: chain.now() };
    },

    '/local/now': async () => ({ now: chain.now() }),

    '/local/info': async () => ({ network: NETWORK, now: chain.now(), persistent: !!chain.stateDir, transactions: chain.allTransactions().length }),
  };
}

// ---- HTTP plumbing ----

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 4 * 1024 * 1024) {
        reject(new HttpError(413, 'request body larger than 4 MiB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res, status, obj) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function createServer(chain) {
  const routes = handlers(chain);
  let queue = Promise.resolve(); // one request at a time: the sandbox is a single state machine
  return http.createServer((req, res) => {
    queue = queue.then(() => handle(req, res)).catch(() => {});
  });

  async function handle(req, res) {
    let id = null;
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const params = Object.fromEntries(url.searchParams.entries());
      if (req.method === 'POST') {
        const text = await readBody(req);
        if (text.trim().length > 0) {
          let body;
          try { body = JSON.parse(text); } catch { throw new HttpError(400, 'request body is not JSON'); }
          if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object');
          Object.assign(params, body);
        }
      } else if (req.method !== 'GET') {
        throw new HttpError(405, `method ${req.method} not allowed`);
      }
      let route = url.pathname.replace(/\/+$/, '');
      let args = params;
      if (route === '/api/v2/jsonRPC') {
        id = params.id ?? null;
        if (typeof params.method !== 'string') throw new HttpError(400, 'jsonRPC needs a method');
        route = `/api/v2/${params.method}`;
        args = params.params ?? {};
      }
      const fn = routes[route];
      if (!fn) throw new HttpError(404, `no such endpoint ${route}`);
      const result = await fn(args);
      reply(res, 200, id === null ? { ok: true, result } : { ok: true, result, id, jsonrpc: '2.0' });
    } catch (e) {
      const code = e instanceof HttpError ? e.code : 500;
      const body = { ok: false, error: e.message ?? String(e), code };
      if (id !== null) Object.assign(body, { id, jsonrpc: '2.0' });
      reply(res, code, body);
    }
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`chain: ${e.message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write('usage: server.js [--port P (0 = free port)] [--state DIR] [--exit-with-stdin]\n');
    return;
  }
  const chain = await Chain.open(opts.state);
  const server = createServer(chain);
  server.on('error', (e) => {
    process.stderr.write(`chain: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, () => {
    const port = server.address().port;
    const restored = chain.restored ? ` (restored ${chain.restored} accounts)` : '';
    // The notice goes to stderr so that the ready line is the first line on stdout (supervisors read it).
    process.stderr.write(`chain: network = ${NETWORK}: an @ton/sandbox emulator on this machine, not a TON network; `
      + `state ${opts.state ? `persisted in ${opts.state}${restored}` : 'in memory only (lost on exit)'}\n`);
    process.stdout.write(`ready rpc=http://127.0.0.1:${port}/api/v2\n`);
  });
  const stop = (sig) => {
    process.stderr.write(`chain: ${sig}, stopping\n`);
    server.close();
    try { chain.save(); } catch (e) { process.stderr.write(`chain: could not save state: ${e.message}\n`); }
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (opts.exitWithStdin) {
    // A supervisor that dies (or closes our stdin) takes the chain with it.
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin closed'));
    process.stdin.resume();
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`chain: ${e.stack ?? e}\n`);
    process.exit(1);
  });
}

module.exports = { Chain, createServer, NETWORK };
