// The whole RFC 7208 suite through checkHost: once with `{ records }` answers, once with
// every answer as a DNS response message decoded by the package.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkHost } from "spfgate";
import { loadSuite, mismatch } from "./suite.mjs";
import { encodeResponse } from "./wire.mjs";

const cases = loadSuite();
const options = { defaultExplanation: "DEFAULT" };

async function run(label, resolverFor) {
  let passed = 0;
  const failures = [];
  for (const c of cases) {
    const outcome = await checkHost(c.request, resolverFor(c), options);
    const why = mismatch(c, outcome);
    if (why) failures.push(`${c.scenario} / ${c.name}: ${why}`);
    else passed++;
  }
  console.log(`${label}: ${passed} passed, ${failures.length} failed`);
  for (const f of failures) console.log(`  FAILED ${f}`);
  assert.deepEqual(failures, []);
  assert.equal(passed, 203);
}

test("RFC 7208 suite, { records } answers", () =>
  run("rfc7208 through checkHost", (c) => (name, type) => c.zone.resolve(name, type)));

test("RFC 7208 suite, every answer as DNS wire bytes", () =>
  run("rfc7208 through checkHost over DNS wire messages", (c) => async (name, type) =>
    encodeResponse(name, type, c.zone.resolve(name, type))));
