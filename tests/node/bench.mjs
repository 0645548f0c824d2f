// Suite evaluations per second in Node: one Evaluator restarted for every RFC 7208
// suite test, its lookups answered synchronously from answers prepared in memory
// and converted once with `LentAnswer.from` (plain objects too, for comparison)
// (the Node counterpart of `cargo bench -p spfgate --bench evaluate`,
// rfc7208_suite_restarted, and like it finding each answer by a linear search of
// the test's list for the lookup's type and name). Run by tests/node/bench.sh.
import { Evaluator, LentAnswer } from "spfgate";
import { loadSuite } from "./suite.mjs";
import { encodeResponse } from "./wire.mjs";

const options = { defaultExplanation: "DEFAULT", trace: false };
const cases = loadSuite();

/** Each test's request with every answer it asks for, as `{ name, type, answer }`. */
function prepare(form) {
  return cases.map((c) => {
    const answers = [];
    const ev = new Evaluator(c.request, options);
    for (let step = ev.poll(); !step.done; step = ev.poll()) {
      for (const { id, name, type } of step.lookups) {
        const answer = c.zone.resolve(name, type);
        const prepared = form === "plain records" ? answer : form === "records" ? LentAnswer.from(answer) : LentAnswer.from(encodeResponse(name, type, answer));
        answers.push({ name, type, answer: prepared });
        ev.answer(id, answer);
      }
    }
    ev.free();
    return { request: c.request, answers };
  });
}

/** The prepared answer to a lookup, or NXDOMAIN. */
function find(answers, name, type) {
  for (const a of answers) {
    if (a.type === type && a.name === name) return a.answer;
  }
  return NXDOMAIN;
}

function round(ev, prepared) {
  for (const p of prepared) {
    ev.restart(p.request);
    for (let step = ev.poll(); !step.done; step = ev.poll()) {
      for (const { id, name, type } of step.lookups) {
        ev.answer(id, find(p.answers, name, type));
      }
    }
  }
}

const NXDOMAIN = LentAnswer.from({ nxdomain: true });
const seconds = Number(process.env.BENCH_SECONDS ?? 3);

for (const form of ["records", "wire", "plain records"]) {
  const prepared = prepare(form);
  const ev = new Evaluator(cases[0].request, options);
  for (let i = 0; i < 50; i++) round(ev, prepared); // warm up
  let rounds = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    round(ev, prepared);
    rounds++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const perSecond = (rounds * prepared.length) / elapsed;
  console.log(`node ${process.version}, ${form === "plain records" ? "plain { records } (not lent)" : `lent ${form}`} answers: ${(perSecond / 1e6).toFixed(3)} M evaluations/s (${rounds} suite rounds in ${elapsed.toFixed(2)} s)`);
  ev.free();
}
