// The JS API of spfgate over the WebAssembly module (bindings/wasm).
//
// This file checks argument types, turns the error descriptions the module
// throws into Error subclasses, and runs the async resolver loop; every piece
// of SPF and policy logic is in the Rust core. The hot path of an evaluation
// crosses the boundary with numbers and strings only (request fields, records
// pushed one by one or lent from a `LentAnswer`; a batch's lookups and the
// outcome read from a view in the module's memory); options and policy requests
// go in as JSON text, and traces, verdicts and reports come back as the core's
// serialization with camelCase keys, parsed once.

import * as wasm from "./dist/spfgate_wasm.js";

/** Base class of every error spfgate throws. */
export class SpfError extends Error {
  constructor(message, code, details) {
    super(message);
    this.name = "SpfError";
    this.code = code;
    if (details) {
      for (const key of Object.keys(details)) {
        if (!(key in this)) this[key] = details[key];
      }
    }
  }
}

/** A record that does not parse; `offset` and `length` point into the text (UTF-16 units). */
export class SpfParseError extends SpfError {
  constructor(message, code, details) {
    super(message, code, details);
    this.name = "SpfParseError";
  }
}

/** An argument of the wrong type or shape: a non-string, a bad IP, an unknown option. */
export class SpfInputError extends SpfError {
  constructor(message, code, details) {
    super(message, code, details);
    this.name = "SpfInputError";
  }
}

/** Misuse of `answer()`: an unknown id, a second answer, an answer of the wrong shape. */
export class SpfAnswerError extends SpfError {
  constructor(message, code, details) {
    super(message, code, details);
    this.name = "SpfAnswerError";
  }
}

/** A policy document that cannot be loaded; `line`, `column` and `field` say where. */
export class SpfPolicyError extends SpfError {
  constructor(message, code, details) {
    super(message, code, details);
    this.name = "SpfPolicyError";
  }
}

const classes = { SpfError, SpfParseError, SpfInputError, SpfAnswerError, SpfPolicyError };

function converted(thrown) {
  if (thrown instanceof SpfError) return thrown;
  if (typeof thrown === "string") {
    let d;
    try {
      d = JSON.parse(thrown);
    } catch {
      return new SpfError(thrown, "internal");
    }
    const { name, code, message, ...details } = d;
    return new (classes[name] ?? SpfError)(message, code, details);
  }
  return new SpfError(`internal error: ${describeError(thrown)}`, "internal");
}

/** Calls into the module, rethrowing its errors as typed ones. */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw converted(e);
  }
}

function describe(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "a Uint8Array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function describeError(e) {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return describe(e);
  }
}

function text(value, what) {
  if (typeof value !== "string") {
    throw new SpfInputError(`${what} must be a string, got ${describe(value)}`, "invalid-argument");
  }
  return value;
}

function plainObject(value, what) {
  if (value === null || typeof value !== "object" || Array.isArray(value) || isBytes(value)) {
    throw new SpfInputError(`${what} must be an object, got ${describe(value)}`, `invalid-${what}`);
  }
  return value;
}

/** JSON text of a request or options object, for the module to check field by field. */
function json(value, what, optional) {
  if (optional && value === undefined) return "{}";
  plainObject(value, what);
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw new SpfInputError(`${what} cannot be read: ${describeError(e)}`, `invalid-${what}`);
  }
}

function resolver(resolve) {
  if (typeof resolve !== "function") {
    throw new SpfInputError(`resolve must be a function, got ${describe(resolve)}`, "invalid-argument");
  }
  return resolve;
}

function isBytes(value) {
  // ArrayBuffer.isView runs no proxy traps and sees typed arrays of other realms too.
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === "[object Uint8Array]";
}

const REQUEST_KEYS = new Set(["ip", "mailFrom", "helo", "receiver", "now", "identity"]);

function badRequest(message) {
  return new SpfInputError(`request: ${message}`, "invalid-request");
}

/** The fields of an evaluator request, checked: [ip, mailFrom, helo, receiver, now, heloIdentity]. */
function requestArgs(request) {
  plainObject(request, "request");
  let ip, mailFrom, helo, receiver, now, identity;
  try {
    for (const key of Object.keys(request)) {
      if (!REQUEST_KEYS.has(key)) throw badRequest(`unknown field \`${key}\``);
    }
    ({ ip, mailFrom, helo, receiver, now, identity } = request);
  } catch (e) {
    if (e instanceof SpfInputError) throw e;
    throw badRequest(`cannot be read: ${describeError(e)}`);
  }
  if (typeof ip !== "string") throw badRequest(`ip must be a string, got ${describe(ip)}`);
  if (typeof mailFrom !== "string") throw badRequest(`mailFrom must be a string, got ${describe(mailFrom)}`);
  if (typeof helo !== "string") throw badRequest(`helo must be a string, got ${describe(helo)}`);
  if (receiver === null) receiver = undefined;
  if (receiver !== undefined && typeof receiver !== "string") {
    throw badRequest(`receiver must be a string, got ${describe(receiver)}`);
  }
  if (now === undefined || now === null) now = 0;
  else if (!Number.isInteger(now) || now < 0 || now >= 2 ** 64) {
    throw badRequest("now must be a whole number of seconds since 1970, 0 or more");
  }
  if (identity !== undefined && identity !== null && identity !== "mailFrom" && identity !== "helo") {
    throw badRequest('identity must be "mailFrom" or "helo"');
  }
  return [ip, mailFrom, helo, receiver, now, identity === "helo"];
}

const ANSWER_SHAPE =
  "an answer must be a Uint8Array, { records: [...] }, { nxdomain: true }, " +
  '{ error: "timeout" } or { error: "servfail" }';

/** The kind of a plain answer ("bytes", "records", "nxdomain", "timeout", "servfail"); throws for any other. */
function answerKind(answer) {
  if (isBytes(answer)) return "bytes";
  if (answer === null || typeof answer !== "object" || Array.isArray(answer)) {
    throw new SpfAnswerError(`${ANSWER_SHAPE}; got ${describe(answer)}`, "invalid-answer");
  }
  let keys;
  try {
    keys = Object.keys(answer);
  } catch (e) {
    throw new SpfAnswerError(`${ANSWER_SHAPE}; the object cannot be read: ${describeError(e)}`, "invalid-answer");
  }
  if (keys.length === 1) {
    if (keys[0] === "records") return "records";
    if (keys[0] === "nxdomain" && answer.nxdomain === true) return "nxdomain";
    if (keys[0] === "error" && (answer.error === "timeout" || answer.error === "servfail")) return answer.error;
  }
  throw new SpfAnswerError(`${ANSWER_SHAPE}; got an object with keys ${JSON.stringify(keys)}`, "invalid-answer");
}

/** Pushes the records of `{ records }` into `target` (an engine's scratch answer or a RawAnswer). */
function fill(target, records) {
  if (!Array.isArray(records)) {
    throw new SpfAnswerError(`records must be an array, got ${describe(records)}`, "invalid-answer");
  }
  target.setRecords();
  try {
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (typeof r === "string") {
        target.pushText(r);
      } else if (Array.isArray(r)) {
        if (r.every((part) => typeof part === "string")) target.pushParts(r.join(""));
        else target.pushOther("an array with a part that is not a string");
      } else if (r !== null && typeof r === "object" && !isBytes(r)) {
        const { preference, exchange } = r;
        if (Number.isInteger(preference) && preference >= 0 && preference <= 0xffff && typeof exchange === "string") {
          target.pushMx(preference, exchange);
        } else {
          target.pushOther("an object that is not { preference: 0..65535, exchange: string }");
        }
      } else {
        target.pushOther(describe(r));
      }
    }
  } catch (e) {
    if (e instanceof SpfError) throw e;
    throw new SpfAnswerError(`records cannot be read: ${describeError(e)}`, "invalid-answer");
  }
}

// Module-private access to a LentAnswer's raw handle (set in its static block).
let lentOf;
const answerToken = Symbol("LentAnswer");

/**
 * An answer converted into the module once, to be given to many lookups (a cache,
 * a benchmark, a test zone): `evaluator.answer(id, LentAnswer.from(answer))` reads the
 * same shapes as a plain answer, but only once. Records are read by the type of
 * the lookup they answer, so one `Answer` fits lookups of any type.
 */
export class LentAnswer {
  #raw;

  constructor(token, raw) {
    if (token !== answerToken) throw new SpfInputError("use LentAnswer.from(answer)", "invalid-argument");
    this.#raw = raw;
  }

  static {
    lentOf = (answer) => {
      if (!answer.#raw) throw new SpfAnswerError("this answer was freed", "freed");
      return answer.#raw;
    };
  }

  /** Converts a plain answer (the shapes `answer()` takes); throws SpfAnswerError for any other value. */
  static from(answer) {
    if (answer instanceof LentAnswer) return answer;
    const kind = answerKind(answer);
    const raw = new wasm.RawAnswer();
    try {
      if (kind === "bytes") raw.setWire(answer);
      else if (kind === "records") fill(raw, answer.records);
      else if (kind !== "nxdomain") raw.setTempfail(kind);
    } catch (e) {
      raw.free();
      throw converted(e);
    }
    return new LentAnswer(answerToken, raw);
  }

  /** Releases the WebAssembly memory now instead of at garbage collection. */
  free() {
    if (this.#raw) this.#raw.free();
    this.#raw = undefined;
  }
}

/** Throws the error a raw engine kept when one of its calls returned status 1. */
function checked(raw, status) {
  if (status !== 0) throw converted(raw.takeError());
}

/** Gives `answer` to lookup `id` of a raw engine (evaluator or decision). */
function deliver(raw, id, answer) {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new SpfAnswerError(`lookup id must be an id from poll(), got ${describe(id)} ${String(id)}`, "unknown-id");
  }
  if (answer instanceof LentAnswer) {
    const lent = lentOf(answer);
    return checked(raw, call(() => raw.answerLent(id, lent)));
  }
  const kind = answerKind(answer);
  if (kind === "bytes") return checked(raw, call(() => raw.answerWire(id, answer)));
  if (kind === "records") {
    fill(raw, answer.records);
    return checked(raw, call(() => raw.answerScratch(id)));
  }
  if (kind === "nxdomain") return checked(raw, call(() => raw.answerNxdomain(id)));
  return checked(raw, call(() => raw.answerTempfail(id, kind)));
}

/**
 * Parses one SPF record's text.
 * @returns the record's terms; throws SpfParseError when the text does not parse.
 */
export function parseRecord(record) {
  text(record, "record");
  return JSON.parse(call(() => wasm.parseRecord(record))).terms;
}

/** The lint findings for one record's text. */
export function lintRecord(record) {
  text(record, "record");
  return JSON.parse(call(() => wasm.lintRecord(record)));
}

/** The whitelist report of a settings field's text: `{ entries, errors, warnings, ... }`. */
export function parseWhitelist(whitelist) {
  text(whitelist, "whitelist");
  return JSON.parse(call(() => wasm.parseWhitelist(whitelist)));
}

/** Query type names by DNS TYPE code. */
const TYPES = { 1: "A", 28: "AAAA", 15: "MX", 16: "TXT", 12: "PTR" };

/** The results by the index the module gives them (`result_index` in bindings/wasm). */
const RESULTS = ["none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"];

// The module's memory, through which engines hand over batches and outcomes (a
// "view": words of numbers and a UTF-8 text they measure; see `View` in bindings/wasm).
let memory;
let bytes;
let words;
/** The word index of the numbers of the view `readView` read last, after its text's address and length. */
let at = 0;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const encoder = new TextEncoder();

/** Makes `bytes` and `words` cover the module's memory as it is now. */
function refreshViews() {
  memory ??= wasm.wasmMemory();
  // A grown memory detaches the old buffer, whose views then have length 0.
  if (bytes === undefined || bytes.byteLength === 0) {
    bytes = new Uint8Array(memory.buffer);
    words = new Uint32Array(memory.buffer);
  }
}

/** Writes `s` as UTF-8 into the memory at `address` (room for 3 bytes a unit); returns where it ends. */
function put(s, address) {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return address + i + encoder.encodeInto(s.slice(i), bytes.subarray(address + i)).written;
    bytes[address + i] = c;
  }
  return address + n;
}

/** Where the text of the view `readView` read last is, and whether it is ASCII. */
let textAddress = 0;
let textAscii = true;

/** Reads the view `raw` filled last: returns its text and sets `at`. */
function readView(raw) {
  refreshViews();
  at = raw.view() >>> 2;
  textAddress = words[at];
  const length = words[at + 1];
  at += 2;
  const text = length === 0 ? "" : decoder.decode(bytes.subarray(textAddress, textAddress + length));
  // As many UTF-16 units as UTF-8 bytes only when every character is ASCII.
  textAscii = text.length === length;
  return text;
}

/** The string at bytes `start..end` of the text of the view read last (before any other call into the module). */
function piece(text, start, end) {
  return textAscii ? text.slice(start, end) : decoder.decode(bytes.subarray(textAddress + start, textAddress + end));
}

/** The outcome of a finished raw evaluator, as the core serializes it (camelCase keys). */
function outcomeOf(raw) {
  checked(raw, call(() => raw.outcomeView()));
  const text = readView(raw);
  const w = words;
  const a = at;
  const flags = w[a + 1];
  const reason = w[a + 6];
  const explanation = reason + w[a + 7];
  const mechanism = explanation + w[a + 8];
  const domain = mechanism + w[a + 9];
  const problem = domain + w[a + 10];
  return {
    result: RESULTS[w[a]],
    reason: piece(text, 0, reason),
    explanation: flags & 1 ? piece(text, reason, explanation) : null,
    mechanism: flags & 2 ? piece(text, explanation, mechanism) : null,
    domain: piece(text, mechanism, domain),
    problem: flags & 4 ? piece(text, domain, problem) : null,
    lookups: w[a + 2],
    voidLookups: w[a + 3],
    queries: w[a + 4],
    roundTrips: w[a + 5],
    // Last: reading the trace may grow the memory, which detaches `w`.
    trace: flags & 8 ? JSON.parse(call(() => raw.outcomeTrace())) : [],
  };
}

/** The verdict of a finished raw policy decision. */
function verdictOf(raw) {
  return JSON.parse(call(() => raw.outcome()));
}

// Module-private access to an engine's raw handle and done state (set in its static block).
let rawOf;
let restarted;

/** Shared by Evaluator and the policy decision: poll/answer over a raw engine. */
class Engine {
  #raw;
  #done;
  #conclusion;

  /** `conclusion(raw)` reads what the raw engine concluded. */
  constructor(raw, conclusion) {
    this.#raw = raw;
    this.#conclusion = conclusion;
  }

  static {
    rawOf = (engine) => engine.#live();
    restarted = (engine) => {
      engine.#done = undefined;
    };
  }

  #live() {
    if (!this.#raw) throw new SpfInputError("this evaluator was freed", "freed");
    return this.#raw;
  }

  /** The next step: `{ lookups }`, `{ pending: true }` or `{ done }`; after `done`, always the same. */
  poll() {
    const raw = this.#live();
    if (this.#done) return this.#done;
    const n = call(() => raw.poll());
    if (n === -1) return { pending: true };
    if (n === -2) {
      this.#done = { done: this.#conclusion(raw) };
      return this.#done;
    }
    // The view: per lookup its id, TYPE code and the byte length of its name in the text.
    const text = readView(raw);
    const w = words;
    const lookups = new Array(n);
    for (let i = 0, a = at, start = 0; i < n; i++, a += 3) {
      const code = w[a + 1];
      const end = start + w[a + 2];
      lookups[i] = { id: w[a], name: n === 1 ? text : piece(text, start, end), type: TYPES[code] ?? `TYPE${code}` };
      start = end;
    }
    return { lookups };
  }

  /** Answers lookup `id` of the current batch. */
  answer(id, answer) {
    deliver(this.#live(), id, answer);
  }

  /** Releases the WebAssembly memory now instead of at garbage collection. */
  free() {
    if (this.#raw) this.#raw.free();
    this.#raw = undefined;
  }
}

/** A sans-IO check_host() evaluation: poll for lookups, answer them, poll again. */
export class Evaluator extends Engine {
  constructor(request, options) {
    const args = requestArgs(request);
    const optionsJson = json(options, "options", true);
    super(call(() => new wasm.RawEvaluator(...args, optionsJson)), outcomeOf);
  }

  /** Starts the next evaluation on this evaluator, keeping its buffers. */
  restart(request) {
    const [ip, mailFrom, helo, receiver = "", now, heloIdentity] = requestArgs(request);
    const raw = rawOf(this);
    // The fields go as UTF-8 into the evaluator's input, one after the other.
    const address = call(() => raw.input(3 * (ip.length + mailFrom.length + helo.length + receiver.length)));
    refreshViews();
    const ipEnd = put(ip, address);
    const mailFromEnd = put(mailFrom, ipEnd);
    const heloEnd = put(helo, mailFromEnd);
    const receiverEnd = put(receiver, heloEnd);
    checked(raw, call(() => raw.restart(ipEnd - address, mailFromEnd - ipEnd, heloEnd - mailFromEnd, receiverEnd - heloEnd, now, heloIdentity)));
    restarted(this);
  }
}

/** Runs an engine to the end with an async resolver, a batch's lookups concurrently. */
async function drive(engine, resolve) {
  for (;;) {
    const step = engine.poll();
    if (step.done) return step.done;
    if (!step.lookups) throw new SpfError("the engine is waiting for answers it was given", "internal");
    await Promise.all(step.lookups.map((lookup) => ask(engine, resolve, lookup)));
  }
}

async function ask(engine, resolve, { id, name, type }) {
  let answer;
  try {
    answer = await resolve(name, type);
  } catch (e) {
    const raw = rawOf(engine);
    checked(raw, call(() => raw.answerTempfail(id, `resolver failed: ${describeError(e)}`)));
    return;
  }
  try {
    engine.answer(id, answer);
  } catch (e) {
    // A resolver's unusable answer is the resolver's failure: temperror, as DNS garbage is.
    if (!(e instanceof SpfAnswerError) || (e.code !== "invalid-answer" && e.code !== "truncated")) throw e;
    const raw = rawOf(engine);
    checked(raw, call(() => raw.answerTempfail(id, `unusable answer: ${e.message}`)));
  }
}

/** check_host() with an async resolver: resolves to the outcome. */
export async function checkHost(request, resolve, options) {
  resolver(resolve);
  const evaluator = new Evaluator(request, options);
  try {
    return await drive(evaluator, resolve);
  } finally {
    evaluator.free();
  }
}

/**
 * A resolver asking a DNS-over-HTTPS server (RFC 8484, POST of application/dns-message).
 * The response bytes go to the evaluator, which decodes them. A query gives up after
 * `options.timeout` ms (default 5000), which makes it a temporary failure.
 */
export function dohResolver(url, options = {}) {
  const endpoint = typeof url === "string" ? url : url !== null && typeof url === "object" ? url.href : undefined;
  if (typeof endpoint !== "string") {
    throw new SpfInputError(`url must be a string or URL, got ${describe(url)}`, "invalid-argument");
  }
  plainObject(options, "options");
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== "function") {
    throw new SpfInputError("no fetch function: pass { fetch }", "invalid-argument");
  }
  const timeout = options.timeout ?? 5000;
  if (typeof timeout !== "number" || !(timeout > 0) || timeout > 2 ** 31 - 1) {
    throw new SpfInputError("timeout must be a number of milliseconds above 0", "invalid-argument");
  }
  return async (name, type) => {
    let query;
    try {
      query = call(() => wasm.encodeQuery(text(name, "name"), text(type, "type")));
    } catch (e) {
      // A name DNS cannot carry names nothing (RFC 7208 §4.3), as the core's wire layer says.
      if (e instanceof SpfInputError && e.code === "invalid-name") return { nxdomain: true };
      throw e;
    }
    // A server that never answers is a timeout (temperror), not a check that never ends.
    const abort = new AbortController();
    let timer;
    const expired = new Promise((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new SpfError(`DNS-over-HTTPS query timed out after ${timeout} ms`, "doh-timeout"));
      }, timeout);
    });
    const exchange = async () => {
      const response = await doFetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/dns-message", accept: "application/dns-message" },
        body: query.buffer.slice(query.byteOffset, query.byteOffset + query.byteLength),
        signal: abort.signal,
      });
      if (!response.ok) {
        throw new SpfError(`DNS-over-HTTPS server answered HTTP ${response.status}`, "doh-http-status");
      }
      const type_ = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type_ !== "application/dns-message") {
        throw new SpfError(`DNS-over-HTTPS server sent ${type_ || "no content type"}`, "doh-content-type");
      }
      return new Uint8Array(await response.arrayBuffer());
    };
    try {
      return await Promise.race([exchange(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}

const policyToken = Symbol("Policy");

/** A compiled policy document: the gateway's accounts and their security settings. */
export class Policy {
  #raw;

  constructor(token, raw) {
    if (token !== policyToken) {
      throw new SpfInputError("use Policy.fromJson(text) or Policy.fromToml(text)", "invalid-argument");
    }
    this.#raw = raw;
  }

  /** Loads a JSON policy document; throws SpfPolicyError. */
  static fromJson(document) {
    text(document, "document");
    return new Policy(policyToken, call(() => wasm.RawPolicy.fromJson(document)));
  }

  /** Loads a TOML policy document; throws SpfPolicyError. */
  static fromToml(document) {
    text(document, "document");
    return new Policy(policyToken, call(() => wasm.RawPolicy.fromToml(document)));
  }

  /** Decides one SMTP transaction: resolves to the verdict. */
  async decide(request, resolve, options) {
    resolver(resolve);
    const requestJson = json(request, "request");
    const optionsJson = json(options, "options", true);
    const raw = this.#raw;
    const decision = new Engine(call(() => raw.decide(requestJson, optionsJson)), verdictOf);
    try {
      return await drive(decision, resolve);
    } finally {
      decision.free();
    }
  }
}
