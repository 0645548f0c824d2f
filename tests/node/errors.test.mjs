// Every error path of the JS API: typed errors for caller mistakes, temperror for a
// failing resolver, never a WebAssembly trap, a panic message or a hang.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Evaluator,
  LentAnswer,
  Policy,
  SpfAnswerError,
  SpfError,
  SpfInputError,
  SpfParseError,
  SpfPolicyError,
  checkHost,
  lintRecord,
  parseRecord,
  parseWhitelist,
} from "spfgate";

const request = { ip: "192.0.2.10", mailFrom: "alice@example.com", helo: "mx.example.com" };
const spf = (text) => (name, type) => (type === "TXT" && name === "example.com" ? { records: [text] } : { nxdomain: true });

/** Every kind of JS value, for "any value where a string or an answer is expected". */
const weird = [
  undefined, null, true, 0, -1, 1.5, NaN, Infinity, 2n ** 70n, Symbol("s"), "",
  [], [1, 2], {}, { toString: () => "v=spf1 -all" }, () => 1, new Uint8Array(3), new Date(0),
  new Map(), Object.create(null), new Proxy({}, { get() { throw new Error("trap"); }, ownKeys() { throw new Error("trap"); } }),
];

function isTyped(e, Class = SpfError) {
  return e instanceof Class && e instanceof Error && typeof e.code === "string" && e.name === Class.name;
}

test("errors are Error subclasses with name and code", () => {
  for (const Class of [SpfParseError, SpfInputError, SpfAnswerError, SpfPolicyError]) {
    assert.ok(Class.prototype instanceof SpfError);
    assert.ok(SpfError.prototype instanceof Error);
  }
});

test("parseRecord: the terms, or SpfParseError with code, offset and length", () => {
  const terms = parseRecord("v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all");
  assert.deepEqual(
    terms.map((t) => [t.kind, t.qualifier, t.mechanism, t.domain, t.span]),
    [
      ["directive", "pass", "ip4", "192.0.2.0", [7, 16]],
      ["directive", "pass", "include", "_spf.example.com", [24, 24]],
      ["directive", "fail", "all", null, [49, 4]],
    ],
  );
  assert.throws(
    () => parseRecord("v=spf1 ip4:192.0.2.0/33"),
    (e) => isTyped(e, SpfParseError) && e.code === "cidr_too_long" && e.offset === 21 && e.length === 2 && e.kind.max === 32 && /33/.test(e.message),
  );
  // Offsets count UTF-16 units, as JS strings index.
  assert.throws(
    () => parseRecord("v=spf1 a:é.example"),
    (e) => isTyped(e, SpfParseError) && e.code === "non_ascii" && e.offset === 9 && e.length === 1,
  );
  assert.throws(() => parseRecord("hello"), (e) => isTyped(e, SpfParseError) && e.code === "not_spf");
});

test("every entry point refuses a non-string with SpfInputError", () => {
  for (const value of weird) {
    if (typeof value === "string") continue;
    for (const fn of [parseRecord, lintRecord, parseWhitelist, Policy.fromJson, Policy.fromToml]) {
      assert.throws(() => fn(value), (e) => isTyped(e, SpfInputError) && e.code === "invalid-argument", `${fn.name}(${String(typeof value)})`);
    }
  }
});

test("lintRecord and parseWhitelist report, with line and column", () => {
  const findings = lintRecord("v=spf1 +all");
  assert.ok(findings.some((f) => f.severity === "error"));
  const report = parseWhitelist("192.0.2.0/24\n  10.0.0.300\n2001:db8::/32");
  assert.equal(report.entries.length, 2);
  assert.equal(report.errors.length, 1);
  assert.equal(report.errors[0].line, 2);
  assert.equal(report.errors[0].column, 3);
  assert.ok(Array.isArray(report.warnings));
});

test("bad requests: SpfInputError, for the evaluator, checkHost and decide", async () => {
  const bad = [
    [{ ...request, ip: "192.0.2.300" }, "invalid-ip"],
    [{ ...request, ip: "example.com" }, "invalid-ip"],
    [{ ...request, ip: 7 }, "invalid-request"],
    [{ ...request, mailFrom: undefined }, "invalid-request"],
    [{ ...request, helo: ["x"] }, "invalid-request"],
    [{ ...request, now: -1 }, "invalid-request"],
    [{ ...request, now: 1.5 }, "invalid-request"],
    [{ ...request, now: 10n }, "invalid-request"],
    [{ ...request, identity: "HELO" }, "invalid-request"],
    [{ ...request, mailfrom: "x" }, "invalid-request"],
  ];
  for (const value of weird) bad.push([value, null]);
  for (const [req, code] of bad) {
    const ok = (e) => isTyped(e, SpfInputError) && (code === null || e.code === code);
    assert.throws(() => new Evaluator(req), ok, String(code));
    await assert.rejects(checkHost(req, spf("v=spf1 -all")), ok, String(code));
  }
  const ev = new Evaluator(request);
  assert.throws(() => ev.restart({ ...request, ip: "::g" }), (e) => isTyped(e, SpfInputError) && e.code === "invalid-ip");
  // The evaluator still works after a refused restart.
  assert.ok(ev.poll().lookups);
});

test("bad options: SpfInputError", async () => {
  for (const options of [null, 5, "x", [], { prefetch: "yes" }, { limits: { dnsTerms: -1 } }, { unknown: 1 }, { trace: 1n }]) {
    assert.throws(() => new Evaluator(request, options), (e) => isTyped(e, SpfInputError));
    await assert.rejects(checkHost(request, spf("v=spf1 -all"), options), (e) => isTyped(e, SpfInputError));
  }
  await assert.rejects(checkHost(request, "not a function"), (e) => isTyped(e, SpfInputError) && e.code === "invalid-argument");
});

test("answer: unknown ids, answering twice, bad shapes", () => {
  const ev = new Evaluator(request, { prefetch: false });
  const step = ev.poll();
  assert.equal(step.lookups.length, 1);
  const [{ id, name, type }] = step.lookups;
  assert.deepEqual([name, type], ["example.com", "TXT"]);
  for (const badId of [id + 1000, -1, 1.5, "0", null, undefined, 2 ** 32, NaN]) {
    assert.throws(() => ev.answer(badId, { nxdomain: true }), (e) => isTyped(e, SpfAnswerError) && e.code === "unknown-id");
  }
  for (const answer of [...weird.filter((v) => !(v instanceof Uint8Array)), { records: "v=spf1" }, { records: [5] },
    { records: [{}] }, { nxdomain: false }, { error: "refused" }, { records: [], nxdomain: true }, { records: [2n] }]) {
    assert.throws(() => ev.answer(id, answer), (e) => isTyped(e, SpfAnswerError) && e.code === "invalid-answer");
  }
  assert.deepEqual(ev.poll(), { pending: true });
  ev.answer(id, { records: ["v=spf1 -all"] });
  assert.throws(() => ev.answer(id, { records: ["v=spf1 -all"] }), (e) => isTyped(e, SpfAnswerError) && e.code === "already-answered");
  assert.throws(() => ev.answer(id, new Uint8Array(12)), (e) => isTyped(e, SpfAnswerError) && e.code === "already-answered");
  const done = ev.poll().done;
  assert.equal(done.result, "fail");
  assert.equal(ev.poll().done, done, "after done, always done");
  assert.throws(() => ev.answer(id, { nxdomain: true }), (e) => isTyped(e, SpfAnswerError));
  ev.free();
  assert.throws(() => ev.poll(), (e) => isTyped(e, SpfInputError) && e.code === "freed");
});

test("records that do not fit the lookup's type are refused", () => {
  const ev = new Evaluator(request, { prefetch: false });
  const [{ id }] = ev.poll().lookups;
  ev.answer(id, { records: ["v=spf1 a mx -all"] });
  const batch = ev.poll().lookups;
  const a = batch.find((l) => l.type === "A");
  assert.throws(() => ev.answer(a.id, { records: ["2001:db8::1"] }), (e) => isTyped(e, SpfAnswerError) && e.code === "invalid-answer");
  assert.throws(() => ev.answer(a.id, { records: [{ preference: 1, exchange: "x" }] }), (e) => e.code === "invalid-answer");
  ev.answer(a.id, { records: ["192.0.2.10"] });
  for (const l of batch.filter((l) => l !== a)) ev.answer(l.id, { nxdomain: true });
  let step;
  while (!(step = ev.poll()).done) for (const l of step.lookups) ev.answer(l.id, { nxdomain: true });
  assert.equal(step.done.result, "pass");
});

test("garbage wire bytes are a temperror, a truncated message must be retried", async () => {
  const outcome = await checkHost(request, () => new Uint8Array([1, 2, 3]));
  assert.equal(outcome.result, "temperror");
  const ev = new Evaluator(request);
  const [{ id }] = ev.poll().lookups;
  // A response without the question: a temperror, not an exception.
  ev.answer(id, Uint8Array.from([0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(ev.poll().done.result, "temperror");
});

test("a throwing, rejecting or garbage-returning resolver gives temperror", async () => {
  const resolvers = [
    () => { throw new Error("boom"); },
    async () => { throw new TypeError("network down"); },
    () => Promise.reject("a string"),
    () => { throw undefined; },
    () => undefined,
    () => 42,
    () => ({ records: [{ preference: "high" }] }),
    () => ({ error: "timeout" }),
    () => ({ error: "servfail" }),
  ];
  for (const resolve of resolvers) {
    const outcome = await checkHost(request, resolve);
    assert.equal(outcome.result, "temperror", String(resolve));
    assert.ok(outcome.problem);
  }
});

test("checkHost: concurrent lookups, counts and trace in camelCase", async () => {
  const zone = {
    "example.com:TXT": { records: ["v=spf1 mx -all"] },
    "example.com:MX": { records: [{ preference: 10, exchange: "mx1.example.com" }, { preference: 20, exchange: "mx2.example.com." }] },
    "mx1.example.com:A": { records: ["192.0.2.1"] },
    "mx2.example.com:A": { records: ["192.0.2.10"] },
  };
  let inFlight = 0;
  let most = 0;
  const outcome = await checkHost(request, async (name, type) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return zone[`${name}:${type}`] ?? { nxdomain: true };
  });
  assert.equal(outcome.result, "pass");
  assert.equal(outcome.mechanism, "mx");
  assert.equal(outcome.domain, "example.com");
  assert.equal(most, 2, "both MX hosts asked at once");
  for (const key of ["result", "explanation", "mechanism", "domain", "problem", "lookups", "voidLookups", "queries", "roundTrips", "trace"]) {
    assert.ok(key in outcome, key);
  }
  assert.equal(outcome.roundTrips, 3);
  assert.ok(outcome.trace.length > 0);
});

test("fail carries the explanation; limits and trace options apply", async () => {
  const outcome = await checkHost(request, spf("v=spf1 -all"), { defaultExplanation: "not %{i}", trace: false });
  assert.equal(outcome.result, "fail");
  assert.equal(outcome.explanation, "not 192.0.2.10");
  assert.deepEqual(outcome.trace, []);
  const limited = await checkHost(request, spf("v=spf1 a:a.example a:b.example -all"), { limits: { dnsTerms: 1 } });
  assert.equal(limited.result, "permerror");
  // An mx term whose three hosts do not exist: one void term, or three void lookups (over 2).
  const mx = (name, type) =>
    name === "example.com" && type === "TXT" ? { records: ["v=spf1 mx ?all"] }
      : name === "example.com" && type === "MX" ? { records: [{ preference: 1, exchange: "a.example" }, { preference: 2, exchange: "b.example" }, { preference: 3, exchange: "c.example" }] }
      : { nxdomain: true };
  assert.equal((await checkHost(request, mx, { voidCounting: "per-term" })).result, "neutral");
  assert.equal((await checkHost(request, mx, { voidCounting: "per-lookup" })).result, "permerror");
  assert.equal((await checkHost(request, mx)).result, "neutral");
  await assert.rejects(checkHost(request, mx, { voidCounting: "per-query" }), (e) => isTyped(e, SpfInputError) && e.code === "invalid-options");
});

test("restart runs the next evaluation on the same evaluator", () => {
  const ev = new Evaluator(request, { prefetch: false });
  for (const [ip, want] of [["192.0.2.10", "pass"], ["198.51.100.1", "fail"]]) {
    ev.restart({ ...request, ip });
    let step;
    while (!(step = ev.poll()).done) {
      for (const l of step.lookups) ev.answer(l.id, l.type === "TXT" ? { records: ["v=spf1 ip4:192.0.2.0/24 -all"] } : { nxdomain: true });
    }
    assert.equal(step.done.result, want);
  }
});

test("LentAnswer: converted once, lent to many lookups of any type; bad shapes and freed answers throw", () => {
  const txt = LentAnswer.from({ records: [["v=spf1 ip4:192.0.2.0/24", " -all"]] });
  const nx = LentAnswer.from({ nxdomain: true });
  const ev = new Evaluator(request, { prefetch: false });
  for (const [ip, want] of [["192.0.2.10", "pass"], ["198.51.100.1", "fail"]]) {
    ev.restart({ ...request, ip });
    let step;
    while (!(step = ev.poll()).done) {
      for (const l of step.lookups) ev.answer(l.id, l.type === "TXT" ? txt : nx);
    }
    assert.equal(step.done.result, want);
  }
  for (const bad of [null, 5, "x", [], { records: 5 }, { nxdomain: false }, { error: "refused" }, { records: [], x: 1 }]) {
    assert.throws(() => LentAnswer.from(bad), (e) => isTyped(e, SpfAnswerError) && e.code === "invalid-answer");
  }
  assert.throws(() => new LentAnswer(), (e) => isTyped(e, SpfInputError));
  // An MX record lent to an A lookup is refused when given, not when converted.
  const mx = LentAnswer.from({ records: [{ preference: 10, exchange: "mx.example.com" }] });
  ev.restart({ ...request, ip: "192.0.2.10" });
  const [first] = ev.poll().lookups;
  assert.throws(() => ev.answer(first.id, mx), (e) => isTyped(e, SpfAnswerError) && e.code === "invalid-answer");
  txt.free();
  assert.throws(() => ev.answer(first.id, txt), (e) => isTyped(e, SpfAnswerError) && e.code === "freed");
  ev.answer(first.id, LentAnswer.from(new Uint8Array([1, 2, 3])));
  assert.equal(ev.poll().done.result, "temperror");
  ev.free();
});

test("Policy: load errors and decisions", async () => {
  for (const [text, load] of [["{", Policy.fromJson], ['{"authserv_id": ""}', Policy.fromJson], ["authserv_id = 5", Policy.fromToml]]) {
    assert.throws(() => load(text), (e) => isTyped(e, SpfPolicyError) && typeof e.field === "string");
  }
  assert.throws(() => new Policy(), (e) => isTyped(e, SpfInputError));
  const policy = Policy.fromJson(JSON.stringify({
    authserv_id: "mx.gateway.example",
    accounts: [
      { id: "acme", senders: ["alice@example.com"], security: { mode: "spf" } },
      { id: "wl", senders: ["bob@example.com"], security: { mode: "ip-whitelist", whitelist: "192.0.2.0/24" } },
    ],
  }));
  const pass = await policy.decide(request, spf("v=spf1 ip4:192.0.2.0/24 -all"));
  assert.equal(pass.action, "accept");
  assert.equal(pass.spf.result, "pass");
  assert.ok(pass.headers["Authentication-Results"].includes("spf=pass"));
  assert.equal(pass.rule.kind, "spf");
  const reject = await policy.decide({ ...request, ip: "198.51.100.1" }, spf("v=spf1 ip4:192.0.2.0/24 -all"));
  assert.equal(reject.action, "reject");
  assert.equal(reject.smtp.code, 550);
  const defer = await policy.decide(request, () => { throw new Error("down"); });
  assert.equal(defer.action, "defer");
  const wl = await policy.decide({ ...request, mailFrom: "bob@example.com" }, () => assert.fail("no DNS needed"));
  assert.equal(wl.action, "accept");
  assert.equal(wl.spf, null);
  for (const req of [{ ...request, ip: "x" }, { ...request, identity: "helo" }, null]) {
    await assert.rejects(policy.decide(req, spf("v=spf1 -all")), (e) => isTyped(e, SpfInputError));
  }
  await assert.rejects(policy.decide(request, null), (e) => isTyped(e, SpfInputError));
  const toml = Policy.fromToml('authserv_id = "mx.gateway.example"\naccounts = []\n');
  assert.equal((await toml.decide(request, spf("v=spf1 -all"))).action, "reject");
});

test("huge and hostile strings are handled, not trapped", () => {
  const big = "v=spf1 " + "a ".repeat(50_000);
  assert.ok(Array.isArray(parseRecord(big)));
  assert.ok(Array.isArray(lintRecord(big)));
  assert.throws(() => parseRecord("v=spf1 \ud800"), (e) => isTyped(e, SpfParseError));
  const report = parseWhitelist("1.2.3.4\n".repeat(20_000) + "\u0000\ud800");
  assert.ok(report.errors.length >= 1);
});
