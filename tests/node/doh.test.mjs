// dohResolver against a DNS-over-HTTPS endpoint (RFC 8484) served on 127.0.0.1 from a
// test zone: POST application/dns-message in, a DNS response message out.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { Evaluator, SpfInputError, checkHost, dohResolver } from "spfgate";
import { encodeResponse } from "./wire.mjs";
import { Zone } from "./zone.mjs";

const zone = new Zone({
  "example.com": [{ TXT: "v=spf1 include:_spf.example.com mx -all" }, { MX: [10, "mx.example.com"] }],
  "_spf.example.com": [{ TXT: ["v=spf1 ip4:192.0.2.0/25", " ip6:2001:db8::/32 ?all"] }],
  "mx.example.com": [{ A: "198.51.100.7" }, { AAAA: "2001:db8:1::7" }],
  "slow.example": ["TIMEOUT"],
});

/** Reads the question (name, type) of a DNS query message. */
function question(bytes) {
  const labels = [];
  let at = 12;
  while (bytes[at] !== 0) {
    labels.push(new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + bytes[at])));
    at += 1 + bytes[at];
  }
  const code = (bytes[at + 1] << 8) | bytes[at + 2];
  const type = { 1: "A", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA" }[code];
  return { id: (bytes[0] << 8) | bytes[1], name: labels.join("."), type };
}

let server;
let url;
const seen = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.headers["content-type"] !== "application/dns-message") {
        res.writeHead(415).end();
        return;
      }
      const q = question(new Uint8Array(Buffer.concat(chunks)));
      seen.push({ ...q, accept: req.headers.accept });
      if (q.name === "http-error.example") {
        res.writeHead(503).end();
        return;
      }
      const body = encodeResponse(q.name, q.type, zone.resolve(q.name, q.type), q.id);
      res.writeHead(200, { "content-type": "application/dns-message", "content-length": body.length });
      res.end(body);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${server.address().port}/dns-query`;
});

after(() => new Promise((r) => server.close(r)));

const request = { ip: "192.0.2.10", mailFrom: "alice@example.com", helo: "mx.example.com" };

test("checkHost over DoH: pass through an include, with 2 character-strings", async () => {
  const outcome = await checkHost(request, dohResolver(url));
  assert.equal(outcome.result, "pass");
  assert.equal(outcome.mechanism, "include:_spf.example.com");
  assert.ok(seen.every((q) => q.id === 0 && q.accept === "application/dns-message"), "RFC 8484 §4.1: id 0");
  assert.ok(seen.some((q) => q.name === "_spf.example.com" && q.type === "TXT"));
});

test("checkHost over DoH: IPv6, mx, fail, none", async () => {
  assert.equal((await checkHost({ ...request, ip: "2001:db8:1::7" }, dohResolver(new URL(url)))).result, "pass");
  assert.equal((await checkHost({ ...request, ip: "198.51.100.7" }, dohResolver(url))).result, "pass");
  assert.equal((await checkHost({ ...request, ip: "203.0.113.1" }, dohResolver(url))).result, "fail");
  assert.equal((await checkHost({ ...request, mailFrom: "a@nowhere.example" }, dohResolver(url))).result, "none");
});

test("DoH failures are temperrors: SERVFAIL, HTTP errors, refused connections", async () => {
  assert.equal((await checkHost({ ...request, mailFrom: "a@slow.example" }, dohResolver(url))).result, "temperror");
  assert.equal((await checkHost({ ...request, mailFrom: "a@http-error.example" }, dohResolver(url))).result, "temperror");
  const closed = dohResolver("http://127.0.0.1:9/dns-query");
  assert.equal((await checkHost(request, closed)).result, "temperror");
  const silent = dohResolver(url, { timeout: 50, fetch: () => new Promise(() => {}) });
  const timedOut = await checkHost(request, silent);
  assert.equal(timedOut.result, "temperror");
  assert.match(timedOut.problem, /timed out/);
  const wrongType = dohResolver(url, { fetch: async () => new Response("hi", { headers: { "content-type": "text/plain" } }) });
  assert.equal((await checkHost(request, wrongType)).result, "temperror");
});

test("a custom fetch and the evaluator fed by hand", async () => {
  const calls = [];
  const resolve = dohResolver(url, { fetch: (input, init) => (calls.push(init.method), fetch(input, init)) });
  const ev = new Evaluator(request, { prefetch: false });
  let step;
  while (!(step = ev.poll()).done) {
    for (const l of step.lookups) ev.answer(l.id, await resolve(l.name, l.type));
  }
  assert.equal(step.done.result, "pass");
  assert.ok(calls.length >= 2 && calls.every((m) => m === "POST"));
  assert.deepEqual(await resolve("bad..name.example", "TXT"), { nxdomain: true });
});

test("dohResolver argument checks", () => {
  for (const bad of [undefined, 5, null, {}]) {
    assert.throws(() => dohResolver(bad), (e) => e instanceof SpfInputError && e.code === "invalid-argument");
  }
  assert.throws(() => dohResolver(url, { fetch: 5 }), (e) => e instanceof SpfInputError);
  for (const timeout of [0, -1, "5", NaN, 2 ** 40]) {
    assert.throws(() => dohResolver(url, { timeout }), (e) => e instanceof SpfInputError);
  }
});
