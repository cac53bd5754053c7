// Drive the vendor's unmodified JS SDK (npm agora-signaling-sdk 1.4.0) in headless Chromium.
//
// Usage: node --experimental-websocket driver.mjs PORT
// Commands arrive as JSON lines on stdin ({"op": ..., ...args}) and run in the page;
// every SDK callback is printed as a JSON line on stdout. Only the network is redirected,
// as DNS or a proxy would: the SDK's address lookup (https://lbs-*-sig.agora.io/getaddr)
// is answered by our server's /getaddr, and its WebSocket to wss://*-sig-web.agora.io is
// relayed to our server. Every other request is refused, so nothing leaves the machine.
import { readFileSync } from "node:fs";
import readline from "node:readline";
import { chromium } from "playwright-core";

const port = Number(process.argv[2]);
const here = new URL(".", import.meta.url);
const sdk = readFileSync(new URL("node_modules/agora-signaling-sdk/AgoraSigSDK.min.js", here));
const page_html = readFileSync(new URL("page.html", here));
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext();

await context.route("**/*", async (route) => {
  const url = new URL(route.request().url());
  if (url.hostname === "legacy-app.test" && url.pathname === "/") {
    return route.fulfill({ contentType: "text/html", body: page_html });
  }
  if (url.hostname === "legacy-app.test" && url.pathname === "/AgoraSigSDK.min.js") {
    return route.fulfill({ contentType: "application/javascript", body: sdk });
  }
  if (url.hostname.endsWith(".agora.io") && url.pathname === "/getaddr") {
    const response = await route.fetch({ url: `http://127.0.0.1:${port}/getaddr${url.search}` });
    return route.fulfill({ response });
  }
  return route.abort();
});

const relays = new Set();
await context.routeWebSocket(/-sig-web\.agora\.io/, (ws) => {
  const upstream = new WebSocket(`ws://127.0.0.1:${port}/`);
  const relay = { ws, upstream };
  relays.add(relay);
  upstream.binaryType = "arraybuffer";
  const pending = [];
  upstream.onopen = () => {
    for (const message of pending.splice(0)) upstream.send(message);
  };
  upstream.onmessage = (e) =>
    ws.send(typeof e.data === "string" ? e.data : Buffer.from(e.data));
  upstream.onclose = (e) => ws.close({ code: e.code === 1005 ? 1000 : e.code, reason: e.reason });
  ws.onMessage((message) =>
    upstream.readyState === WebSocket.OPEN ? upstream.send(message) : pending.push(message),
  );
  ws.onClose(() => {
    relays.delete(relay);
    upstream.close();
  });
});

// {"op": "drop"}: the network fails under the page (both sides of every relay close).
function drop() {
  for (const { ws, upstream } of relays.values()) {
    upstream.close(4002, "network lost");
    ws.close({ code: 1001, reason: "network lost" });
  }
  relays.clear();
}

const page = await context.newPage();
page.on("pageerror", (err) => out({ ev: "page_error", error: String(err) }));
await page.exposeFunction("report", (ev) => out(ev));
await page.goto("http://legacy-app.test/");
out({ ev: "ready" });

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { op, ...args } = JSON.parse(line);
  if (op === "quit") break;
  if (op === "drop") {
    drop();
    continue;
  }
  try {
    await page.evaluate(([op, args]) => window.cmd[op](args), [op, args]);
  } catch (err) {
    out({ ev: "driver_error", error: String(err) });
  }
}
await browser.close();
process.exit(0); // the relay sockets and stdin would keep node alive
