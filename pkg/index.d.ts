// Type declarations of the npm package `spfgate` (pkg/api.js).

/** The record types SPF evaluation asks for. */
export type QueryType = "A" | "AAAA" | "MX" | "TXT" | "PTR";

/** The SPF results of RFC 7208 §2.6. */
export type SpfResult = "none" | "neutral" | "pass" | "fail" | "softfail" | "temperror" | "permerror";

/** One SMTP transaction's facts. */
export interface Request {
  /** The connecting client, IPv4 or IPv6 text. */
  ip: string;
  /** The MAIL FROM address without angle brackets; `""` for the null sender. */
  mailFrom: string;
  /** The HELO/EHLO name. */
  helo: string;
  /** This receiver's host name, for `%{r}`. */
  receiver?: string;
  /** Seconds since the Unix epoch, for `%{t}` (a non-negative integer; default 0). */
  now?: number;
  /** Which identity to check (default `"mailFrom"`). */
  identity?: "mailFrom" | "helo";
}

/** One transaction for a policy decision (the policy picks the identity). */
export type DecisionRequest = Omit<Request, "identity">;

/** Processing limits (RFC 7208 §4.6.4); each defaults to the RFC's value. */
export interface Limits {
  dnsTerms?: number;
  voidLookups?: number;
  mxNames?: number;
  ptrNames?: number;
  maxQueries?: number;
}

/** How an evaluation behaves. */
export interface Options {
  /** The explanation for `fail` when the record gives none (macros expanded). */
  defaultExplanation?: string;
  /** Ask early for include/redirect targets' records (default true). */
  prefetch?: boolean;
  /** Record a trace of every step (default true; false for policy decisions). */
  trace?: boolean;
  limits?: Limits;
  /**
   * How void lookups are counted against `limits.voidLookups`: once per term whose own
   * lookup is void (`"per-term"`, the default), or every void answer (`"per-lookup"`).
   */
  voidCounting?: "per-term" | "per-lookup";
}

/** One DNS question to answer. */
export interface Lookup {
  id: number;
  name: string;
  type: QueryType;
}

/** An MX record. */
export interface MxRecord {
  preference: number;
  exchange: string;
}

/**
 * One record of a `{ records }` answer: a TXT record is a string or its list of
 * character-strings, an A/AAAA/PTR record a string, an MX record `{ preference, exchange }`.
 */
export type RecordData = string | readonly string[] | MxRecord;

/** What a resolver says about one lookup. */
export type Answer =
  | Uint8Array
  | { records: readonly RecordData[] }
  | { nxdomain: true }
  | { error: "timeout" | "servfail" };

/** Answers one lookup; throwing or rejecting counts as a temporary failure (temperror). */
export type Resolve = (name: string, type: QueryType) => Answer | LentAnswer | PromiseLike<Answer | LentAnswer>;

/**
 * An answer converted into the WebAssembly module once, to be given to many lookups
 * (a cache, a test zone, a benchmark) without being read again. `{ records }` are
 * read by the type of the lookup they answer, so one LentAnswer fits any lookup.
 */
export class LentAnswer {
  private constructor();
  /** Converts a plain answer; throws SpfAnswerError (`invalid-answer`) for any other value. */
  static from(answer: Answer | LentAnswer): LentAnswer;
  /** Releases the WebAssembly memory now; answering with it afterwards throws SpfAnswerError `freed`. */
  free(): void;
}

/** One step of a trace. */
export type TraceEvent =
  | { event: "query"; id: number; name: string; qtype: QueryType; prefetch: boolean }
  | { event: "answer"; id: number; answer: string }
  | { event: "record"; domain: string; text: string; depth: number }
  | { event: "term"; domain: string; term: string; matched: boolean; depth: number };

/** The finished check_host() evaluation. */
export interface Outcome {
  result: SpfResult;
  /** For `fail` only: the record's `exp=` text or the default explanation. */
  explanation: string | null;
  /** The deciding directive in canonical form, e.g. `-all`. */
  mechanism: string | null;
  /** The domain whose record decided (or where the problem was). */
  domain: string;
  /** Why the result was reached when no directive decided it. */
  problem: string | null;
  /** One line for people: the deciding directive, or the problem. */
  reason: string;
  /** DNS-querying terms counted (RFC 7208 §4.6.4). */
  lookups: number;
  voidLookups: number;
  /** Queries handed out, prefetches included. */
  queries: number;
  /** Batches of lookups handed out. */
  roundTrips: number;
  trace: TraceEvent[];
}

/** What `poll()` says to do next. */
export type Step<T> =
  | { lookups: Lookup[]; pending?: never; done?: never }
  | { pending: true; lookups?: never; done?: never }
  | { done: T; lookups?: never; pending?: never };

/** A byte range in a record's text: `[start, length]`. */
export type Span = [start: number, length: number];

/** One term of a parsed record. */
export type Term =
  | {
      kind: "directive";
      qualifier: "pass" | "fail" | "softfail" | "neutral";
      mechanism: "all" | "include" | "a" | "mx" | "ptr" | "ip4" | "ip6" | "exists";
      /** The target as written (a macro-string), the network for ip4/ip6, null for the current domain. */
      domain: string | null;
      cidr4: number | null;
      cidr6: number | null;
      span: Span;
    }
  | { kind: "modifier"; name: string; value: string; span: Span };

export type Severity = "error" | "warning" | "info";

/** One lint finding about a record. */
export interface Finding {
  code: string;
  severity: Severity;
  /** Where, in bytes of the record text. */
  span: Span;
  message: string;
  hint: string;
  domain: string;
  chain: string[];
}

/** A byte range `[start, end)` in the whitelist text. */
export interface Range {
  start: number;
  end: number;
}

/** One accepted whitelist entry. */
export interface WhitelistEntry {
  /** The normalized networks, as CIDR text. */
  networks: string[];
  text: string;
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  column: number;
  span: Range;
}

/** A rejected or doubtful whitelist entry; `kind.code` names the problem. */
export interface WhitelistDiagnostic {
  line: number;
  column: number;
  span: Range;
  text: string;
  kind: { code: string; [detail: string]: unknown };
}

/** Everything found in a whitelist field's text. */
export interface WhitelistReport {
  entries: WhitelistEntry[];
  errors: WhitelistDiagnostic[];
  warnings: WhitelistDiagnostic[];
  errorsOmitted: number;
  warningsOmitted: number;
  /** True when no entry was rejected (warnings allowed). */
  ok: boolean;
}

export type Action = "accept" | "reject" | "defer";

/** The finished policy decision. */
export interface Verdict {
  action: Action;
  /** The SMTP reply to send. */
  smtp: { code: number; enhanced: string; text: string };
  /** The account listing the sender; null for an unknown or null sender. */
  account: string | null;
  /** What decided: `kind` is null-sender, unknown-sender, open, whitelist-hit, whitelist-miss, whitelist-empty or spf. */
  rule: {
    kind: "null-sender" | "unknown-sender" | "open" | "whitelist-hit" | "whitelist-miss" | "whitelist-empty" | "spf";
    mode: string | null;
    description: string;
    [detail: string]: unknown;
  };
  /** The SPF evaluation, when one ran. */
  spf: Outcome | null;
  /** Header values to add to the accepted message, by field name. */
  headers: { "Received-SPF": string | null; "Authentication-Results": string };
}

/** Base class of every error spfgate throws. */
export class SpfError extends Error {
  readonly name: "SpfError" | "SpfParseError" | "SpfInputError" | "SpfAnswerError" | "SpfPolicyError";
  /** A stable code, e.g. `invalid-ip`, `already-answered`; a parse error's is the core's `kind.code` (`cidr_too_long`). */
  readonly code: string;
}

/** A record that does not parse. */
export class SpfParseError extends SpfError {
  readonly name: "SpfParseError";
  /** Where the problem starts in the text (UTF-16 units, as JS strings index). */
  readonly offset: number;
  /** How long the offending text is (0 when the text ended early). */
  readonly length: number;
  /** The term the error is in; empty for record-level errors. */
  readonly term: string;
  /** The core's error kind: `code` and that kind's fields. */
  readonly kind: { code: string; [detail: string]: unknown };
}

/** An argument of the wrong type or shape: a non-string, a bad IP, an unknown option. */
export class SpfInputError extends SpfError {
  readonly name: "SpfInputError";
}

/** Misuse of `answer()`: `unknown-id`, `already-answered`, `truncated`, `invalid-answer`. */
export class SpfAnswerError extends SpfError {
  readonly name: "SpfAnswerError";
}

/** A policy document that cannot be loaded. */
export class SpfPolicyError extends SpfError {
  readonly name: "SpfPolicyError";
  readonly line: number | null;
  readonly column: number | null;
  /** The field, as a path from the document root: `accounts[3].senders[1]`. */
  readonly field: string;
}

/** Parses one SPF record's text; throws SpfParseError. */
export function parseRecord(record: string): Term[];

/** The lint findings for one record's text. */
export function lintRecord(record: string): Finding[];

/** The whitelist report of a settings field's text. */
export function parseWhitelist(whitelist: string): WhitelistReport;

/** A sans-IO check_host() evaluation. */
export class Evaluator {
  constructor(request: Request, options?: Options);
  poll(): Step<Outcome>;
  /** Throws SpfAnswerError for an unknown id, a second answer or a malformed answer. */
  answer(id: number, answer: Answer | LentAnswer): void;
  /** Starts the next evaluation on this evaluator, keeping its buffers. */
  restart(request: Request): void;
  /** Releases the WebAssembly memory now instead of at garbage collection. */
  free(): void;
}

/** check_host() with a resolver: a batch's lookups are asked concurrently. */
export function checkHost(request: Request, resolve: Resolve, options?: Options): Promise<Outcome>;

/**
 * A resolver asking a DNS-over-HTTPS server (RFC 8484, POST of application/dns-message) at
 * `url` (a string or a `URL`); the response bytes are decoded by the evaluator.
 */
export function dohResolver(
  url: string | { readonly href: string },
  options?: {
    fetch?: Fetch;
    /** Milliseconds before a query counts as timed out (a temperror); default 5000. */
    timeout?: number;
  },
): Resolve;

/** The platform's `AbortSignal` where the environment declares one. */
type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : unknown;

/** The part of `fetch` that dohResolver uses (the global `fetch` fits). */
export type Fetch = (
  input: string,
  init: { method: "POST"; headers: Record<string, string>; body: ArrayBuffer; signal: AbortSignalLike },
) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** A compiled policy document. */
export class Policy {
  private constructor();
  /** Throws SpfPolicyError. */
  static fromJson(document: string): Policy;
  /** Throws SpfPolicyError. */
  static fromToml(document: string): Policy;
  decide(request: DecisionRequest, resolve: Resolve, options?: Options): Promise<Verdict>;
}
