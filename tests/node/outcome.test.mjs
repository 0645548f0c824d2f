// The outcome an Evaluator gives (read field by field from the module's memory) is
// exactly the core's JSON serialization with camelCase keys (`outcome()` of the raw
// module, which the package does not export): over the whole RFC 7208 suite, with and
// without a trace, fresh and restarted, and on text that is not ASCII.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Evaluator } from "spfgate";
import { loadSuite } from "./suite.mjs";
import { encodeResponse } from "./wire.mjs";

// The package's own instance of the module, initialized by importing "spfgate".
const raw = await import(new URL("./dist/spfgate_wasm.js", import.meta.resolve("spfgate")));

const cases = loadSuite();

function rawEvaluator(request, options) {
  return new raw.RawEvaluator(request.ip, request.mailFrom, request.helo, request.receiver, request.now ?? 0, request.identity === "helo", JSON.stringify(options));
}

/**
 * Runs `ev` and a fresh raw evaluator of the same request in lockstep (their lookup ids
 * agree), giving both the same answers, and returns both outcomes.
 */
function lockstep(ev, request, options, resolve, answerRaw) {
  const r = rawEvaluator(request, options);
  try {
    for (;;) {
      const step = ev.poll();
      const n = r.poll();
      if (step.done) {
        assert.equal(n, -2);
        return [step.done, JSON.parse(r.outcome())];
      }
      assert.equal(n, step.lookups.length);
      for (const { id, name, type } of step.lookups) {
        const answer = resolve(name, type);
        ev.answer(id, answer);
        answerRaw(r, id, answer);
      }
    }
  } finally {
    r.free();
  }
}

/** Asserts equal values and the same key order, as JSON.stringify shows. */
function same(fast, json, label) {
  assert.deepStrictEqual(fast, json, label);
  assert.equal(JSON.stringify(fast), JSON.stringify(json), label);
}

function wireAnswers(c) {
  return [(name, type) => encodeResponse(name, type, c.zone.resolve(name, type)), (r, id, bytes) => assert.equal(r.answerWire(id, bytes), 0)];
}

test("every suite outcome equals the core's JSON serialization, traced or not", () => {
  for (const trace of [false, true]) {
    const options = { defaultExplanation: "DEFAULT", trace };
    for (const c of cases) {
      const ev = new Evaluator(c.request, options);
      const [fast, json] = lockstep(ev, c.request, options, ...wireAnswers(c));
      same(fast, json, `${c.scenario} / ${c.name}, trace ${trace}`);
      ev.free();
    }
  }
});

test("a restarted evaluator's outcomes equal fresh ones' serialization", () => {
  // Lookup ids go on counting after a restart, so the trace (which shows them) is off.
  const options = { defaultExplanation: "DEFAULT", trace: false };
  const ev = new Evaluator(cases[0].request, options);
  for (let round = 0; round < 2; round++) {
    for (const c of cases) {
      ev.restart(c.request);
      const [resolve] = wireAnswers(c);
      let step;
      for (step = ev.poll(); !step.done; step = ev.poll()) {
        for (const { id, name, type } of step.lookups) ev.answer(id, resolve(name, type));
      }
      const [, json] = lockstep(new Evaluator(c.request, options), c.request, options, ...wireAnswers(c));
      same(step.done, json, `${c.scenario} / ${c.name}, restarted`);
    }
  }
  ev.free();
});

test("outcomes with text that is not ASCII equal the serialization", () => {
  const zone = {
    "example.com TXT": ["v=spf1 -all exp=why.example.com"],
    // Macro strings are ASCII; the sender's local part brings the rest.
    "why.example.com TXT": ["Kein Zutritt fuer %{l} from %{i}"],
    "default.example TXT": ["v=spf1 -all"],
    "broken.example TXT": ["v=spf1 ip4:192.0.2.0/33 ‽ -all"],
    "b\u00fccher.example TXT": ["v=spf1 +all"],
  };
  const resolve = (name, type) => {
    const records = zone[`${name} ${type}`];
    return records ? { records } : { nxdomain: true };
  };
  const answerRaw = (r, id, answer) => {
    if (!answer.records) return assert.equal(r.answerNxdomain(id), 0);
    r.setRecords();
    for (const record of answer.records) r.pushText(record);
    assert.equal(r.answerScratch(id), 0);
  };
  const requests = [
    { ip: "192.0.2.1", mailFrom: "jürgen😀@example.com", helo: "mx.example.com" },
    { ip: "192.0.2.1", mailFrom: "zoë@default.example", helo: "mx" },
    { ip: "192.0.2.1", mailFrom: "a@broken.example", helo: "mx" },
    { ip: "2001:db8::1", mailFrom: "a@bücher.example", helo: "mx" },
    { ip: "192.0.2.1", mailFrom: "a@b\u00fccher😀", helo: "mx" },
    { ip: "192.0.2.1", mailFrom: "", helo: "hélo.example", receiver: "mx.ünd.example" },
  ];
  const explained = [];
  for (const trace of [false, true]) {
    const options = { defaultExplanation: "Standard: %{l} at %{d}", trace };
    for (const request of requests) {
      const [fast, json] = lockstep(new Evaluator(request, options), request, options, resolve, answerRaw);
      same(fast, json, `${JSON.stringify(request)}, trace ${trace}`);
      explained.push(fast.explanation);
    }
  }
  // The cases do carry text that is not ASCII through the explanation.
  assert.ok(explained.includes("Kein Zutritt fuer jürgen😀 from 192.0.2.1"), String(explained));
  assert.ok(explained.includes("Standard: zoë at default.example"), String(explained));
});
