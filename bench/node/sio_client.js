// Load generator for the Socket.IO baseline, in Node so that Python is not its bottleneck.
// Same scenarios, payloads and open-loop pacing as bench/loadgen.py; prints one JSON line
// per result. Usage: node sio_client.js '<json config>'
"use strict";
const fs = require("fs");
const { io } = require("socket.io-client");

const cfg = JSON.parse(process.argv[2]);
const CLK_TCK = 100;
const PAD = "x".repeat(96);

function cpuSeconds(pid) {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}
const nowNs = () => process.hrtime.bigint();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const makeMsg = (k, t) => `${String(k).padStart(8, "0")} ${String(t).padStart(19, "0")} ${PAD}`;
function pct(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

let step = null; // the open-loop step under way
let nextBase = 0; // messages are numbered across steps: stragglers are not counted twice
function onMsg(m) {
  if (!step) return;
  const k = Number(m.msg.slice(0, 8)) - step.base;
  if (k < 0) return;
  step.received++;
  if (k >= step.arrivals.length) return;
  const n = ++step.arrivals[k];
  if (n === step.expected[k]) {
    const t = nowNs();
    step.last = t;
    step.lat.push(Number(t - step.sentAt[k]) / 1e6);
  }
}

function connect(account) {
  return new Promise((resolve, reject) => {
    const s = io(cfg.url, {
      transports: ["websocket"], forceNew: true, reconnection: false, timeout: 120000,
    });
    s.on("connect_error", reject);
    s.on("connect", () => {
      s.emit("login", account, () => resolve(s));
    });
    s.on("ch_msg", onMsg);
    s.on("msg", onMsg);
  });
}
const ask = (s, ...args) => new Promise((resolve) => s.emit(...args, resolve));

async function sessions(accounts, channelOf, concurrency = 200) {
  const out = new Array(accounts.length);
  const times = new Array(accounts.length);
  let next = 0;
  async function worker() {
    while (next < accounts.length) {
      const i = next++;
      const t0 = nowNs();
      const s = await connect(accounts[i]);
      times[i] = Number(nowNs() - t0) / 1e6;
      if (channelOf) await ask(s, "ch_join", channelOf(i));
      out[i] = s;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { socks: out, times };
}

async function rateStep(send, rate, seconds) {
  const total = Math.max(1, Math.floor(rate * seconds));
  step = {
    base: nextBase, received: 0, last: 0n, lat: [],
    arrivals: new Int32Array(total), expected: new Int32Array(total),
    sentAt: new Array(total),
  };
  nextBase += total;
  const interval = 1e9 / rate;
  const cpu0 = cpuSeconds(cfg.serverPid);
  const me0 = process.cpuUsage();
  const start = nowNs() + 2000000n;
  let k = 0;
  while (k < total) {
    const now = nowNs();
    const due = now >= start ? Math.min(total, Math.floor(Number(now - start) / interval) + 1) : 0;
    while (k < due) {
      const tDue = start + BigInt(Math.floor(k * interval));
      step.sentAt[k] = tDue;
      step.expected[k] = send(step.base + k, tDue);
      k++;
    }
    await sleep(1);
  }
  let want = 0;
  for (const e of step.expected) want += e;
  const deadline = Date.now() + 5000;
  while (step.received < want && Date.now() < deadline) await sleep(5);
  const end = step.last || nowNs();
  const cpu1 = cpuSeconds(cfg.serverPid);
  const me = process.cpuUsage(me0);
  const lat = step.lat.sort((a, b) => a - b);
  const secs = Number(end - start) / 1e9;
  const r = {
    offered_msgs: rate, deliveries: step.received, expected: want, seconds: secs,
    rate: secs > 0 ? step.received / secs : 0,
    p50_ms: pct(lat, 50), p99_ms: pct(lat, 99), max_ms: lat.length ? lat[lat.length - 1] : 0,
    server_cpu_s: cpu1 - cpu0, client_cpu_s: (me.user + me.system) / 1e6,
  };
  step = null;
  return r;
}

// The rates in order; the ladder stops where the server falls behind (as in loadgen.py).
async function ladder(send, out) {
  for (const rate of cfg.rates) {
    const r = await rateStep(send, rate, cfg.seconds);
    out(r);
    if (r.expected > r.deliveries || r.p50_ms > 1000) break;
    await sleep(300);
  }
}

async function main() {
  const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
  if (cfg.scenario === "login") {
    const rss0 = rssBytes(cfg.serverPid);
    const accounts = Array.from({ length: cfg.n }, (_, i) => `ls${i}`);
    const cpu0 = cpuSeconds(cfg.serverPid);
    const t0 = nowNs();
    const { socks, times } = await sessions(accounts, null, cfg.concurrency || 200);
    const secs = Number(nowNs() - t0) / 1e9;
    const cpu = cpuSeconds(cfg.serverPid) - cpu0;
    await sleep(1000);
    const rss1 = rssBytes(cfg.serverPid);
    times.sort((a, b) => a - b);
    out({ n: cfg.n, seconds: secs, rate: cfg.n / secs, p50_ms: pct(times, 50),
      p99_ms: pct(times, 99), rss_per_session: (rss1 - rss0) / cfg.n,
      us_per_login: (cpu / cfg.n) * 1e6 });
    for (const s of socks) s.disconnect();
  } else if (cfg.scenario === "fanout") {
    const nch = cfg.channels;
    const per = Math.floor(cfg.n / nch);
    const accounts = Array.from({ length: nch * per }, (_, i) => `fo${i}`);
    const { socks } = await sessions(accounts, (i) => `c${i % nch}`);
    const pubs = Array.from({ length: nch }, (_, c) => socks[c]);
    await sleep(300);
    const send = (k, tDue) => {
      const c = k % nch;
      pubs[c].emit("ch_send", `c${c}`, makeMsg(k, tDue), () => {});
      return per;
    };
    await ladder(send, out);
    for (const s of socks) s.disconnect();
  } else if (cfg.scenario === "p2p") {
    const pairs = Math.floor(cfg.n / 2);
    const accounts = Array.from({ length: pairs * 2 }, (_, i) => `pp${i}`);
    const { socks } = await sessions(accounts, null);
    await sleep(300);
    const send = (k, tDue) => {
      const i = k % pairs;
      socks[2 * i].emit("send", accounts[2 * i + 1], makeMsg(k, tDue), () => {});
      return 1;
    };
    await ladder(send, out);
    for (const s of socks) s.disconnect();
  }
  await sleep(200);
  process.exit(0);
}
main().catch((err) => { console.error(err); process.exit(1); });
