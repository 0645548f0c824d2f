// The account's security settings page: sender addresses, the "only accept
// mail from authorized IPs" box with its whitelist field, the SPF records that
// decide when the field is empty, and "test a server". Every check runs in the
// browser through the `spfgate` package; DNS goes over DNS-over-HTTPS.

import {
  parseWhitelist, lintRecord, parseRecord, checkHost, dohResolver, Policy,
} from './engine.js';
import { t, setLanguage, language, LANGUAGES } from './i18n.js';
import { byteIndexer, el, marked } from './text.js';

const DEFAULT_DOH = 'https://cloudflare-dns.com/dns-query';
const AUTHSERV_ID = 'mx.gateway.example';
const LANG_KEY = 'spfgate-demo-lang';
/**
 * The limited broadcast address: only `+all` or a /0 network authorizes it,
 * so checking it walks the whole record as a receiver does for an unlisted
 * IPv4 client, and counts the DNS lookups on the way.
 */
const PROBE_IP = '255.255.255.255';
const DNS_TERM_LIMIT = 10;

const $ = (id) => document.getElementById(id);

const state = {
  senders: [], // the listed addresses, each checked when it was added
  restrict: false,
  whitelist: '',
  report: { entries: [], errors: [], warnings: [] },
  doh: DEFAULT_DOH,
  spf: new Map(), // domain → { status, ... }
  test: null, // { ip, helo, results | error }
};

// ---------------------------------------------------------------------------
// Senders

/** Why `address` cannot be a sender, as { key, params }, or null. */
function senderProblem(address, others) {
  if ([...address].length > 320) return { key: 'sender.too_long' };
  if (/[\s\p{Cc}]/u.test(address)) return { key: 'sender.blank' };
  const at = address.lastIndexOf('@');
  if (at < 0) return { key: 'sender.no_at' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).replace(/\.$/, '');
  if (local === '') return { key: 'sender.empty_local' };
  if (domain === '') return { key: 'sender.empty_domain' };
  if (new TextEncoder().encode(local).length > 64) return { key: 'sender.local_too_long' };
  if (domain.length > 253) return { key: 'sender.domain_too_long' };
  for (const label of domain.split('.')) {
    // LDH labels, or internationalized ones (letters of any script).
    if (label === '' || label.length > 63 || !/^[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}])?$/u.test(label)) {
      return { key: 'sender.bad_label', params: { domain, label } };
    }
  }
  if (!domain.includes('.')) return { key: 'sender.no_dot', params: { domain } };
  const normalized = normalize(address);
  if (others.some((other) => normalize(other) === normalized)) {
    return { key: 'sender.duplicate', params: { address } };
  }
  // The same document the gateway would load: its checks apply too.
  try {
    Policy.fromJson(policyDocument([address], false, ''));
  } catch (err) {
    return { key: 'sender.policy', params: { message: err.message } };
  }
  return null;
}

function normalize(address) {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at).toLowerCase()}@${address.slice(at + 1).toLowerCase().replace(/\.$/, '')}`;
}

function validSenders() {
  return state.senders;
}

function senderDomains() {
  const domains = validSenders().map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, ''));
  return [...new Set(domains)];
}

function addSender(event) {
  event.preventDefault();
  const input = $('new-sender');
  const address = input.value.trim();
  const error = $('new-sender-error');
  if (address === '') {
    input.focus();
    return;
  }
  const problem = senderProblem(address, state.senders);
  if (problem) {
    error.textContent = t(problem.key, problem.params);
    error.dataset.key = problem.key;
    error.dataset.params = JSON.stringify(problem.params ?? {});
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  clearSenderError();
  state.senders.push(address);
  input.value = '';
  $('senders-status').textContent = t('senders.added', { address });
  renderSenders();
  settingsChanged();
}

function removeSender(index) {
  const [removed] = state.senders.splice(index, 1);
  $('senders-status').textContent = t('senders.removed', { address: removed });
  renderSenders();
  settingsChanged();
  const buttons = document.querySelectorAll('#sender-list button');
  (buttons[Math.min(index, buttons.length - 1)] ?? $('new-sender')).focus();
}

function renderSenders() {
  const list = $('sender-list');
  list.replaceChildren(...state.senders.map((address, i) => el('li', { dataset: { address } },
    el('span', { class: 'address' }, address),
    el('button', {
      type: 'button', class: 'secondary', 'aria-label': t('senders.removeLabel', { address }),
      onclick: () => removeSender(i),
    }, t('senders.remove')))));
  $('senders-none').hidden = state.senders.length > 0;
  const error = $('new-sender-error');
  if (error.dataset.key) error.textContent = t(error.dataset.key, JSON.parse(error.dataset.params));
}

function clearSenderError() {
  const error = $('new-sender-error');
  error.textContent = '';
  delete error.dataset.key;
  delete error.dataset.params;
  $('new-sender').removeAttribute('aria-invalid');
}

// ---------------------------------------------------------------------------
// Whitelist field

function severityMark(severity) {
  return { error: '✖', warning: '▲', info: 'ℹ' }[severity] ?? '';
}

/** The message for a whitelist error or warning, in the page's language. */
function whitelistMessage(kind, severity, fallback) {
  const key = `wl.${severity}.${kind.code}`;
  const text = t(key, kind);
  return text === key ? fallback ?? kind.code : text;
}

/** Errors, warnings and notes (ranges stored as CIDRs) of the report, by position. */
function whitelistDiagnostics(text, report) {
  const index = byteIndexer(text);
  const diag = (item, severity, message) => ({
    severity,
    line: item.line,
    column: item.column,
    text: item.text,
    start: index(item.span.start),
    end: index(item.span.end),
    code: item.kind?.code ?? 'range',
    message,
  });
  const out = [
    ...report.errors.map((e) => diag(e, 'error', whitelistMessage(e.kind, 'error', e.message))),
    ...report.warnings.map((w) => diag(w, 'warning', whitelistMessage(w.kind, 'warning', w.message))),
  ];
  for (const entry of report.entries) {
    // A range is stored as the CIDR networks that cover it exactly.
    if (entry.text.includes('-')) {
      out.push(diag(entry, 'info', t('wl.info.range', { networks: entry.networks.join(', ') })));
    }
  }
  const rank = { error: 0, warning: 1, info: 2 };
  return out.sort((a, b) => a.line - b.line || a.column - b.column || rank[a.severity] - rank[b.severity]);
}

function renderWhitelist() {
  const text = state.whitelist;
  const report = state.report;
  const lines = text.split('\n');
  const diagnostics = whitelistDiagnostics(text, report);
  const byLine = new Map();
  for (const d of diagnostics) {
    if (!byLine.has(d.line)) byLine.set(d.line, []);
    byLine.get(d.line).push(d);
  }
  const area = $('whitelist');
  area.rows = Math.max(6, lines.length + 1);

  // Line numbers with a marker where something was found.
  $('gutter').replaceChildren(...lines.map((_, i) => {
    const found = byLine.get(i + 1) ?? [];
    const top = found[0]?.severity;
    return el('div', { class: top ? `has-${top}` : '', dataset: { line: i + 1 } },
      el('span', { class: 'mark' }, severityMark(top)), String(i + 1));
  }));

  // The backdrop: the same text, invisible, with the entries marked and each
  // line's first message written after the line's end.
  let offset = 0;
  $('backdrop').replaceChildren(...lines.map((line, i) => {
    const found = byLine.get(i + 1) ?? [];
    const ranges = found.map((d) => ({ start: d.start - offset, end: d.end - offset, severity: d.severity }));
    const node = el('span', { class: 'ln', dataset: { line: i + 1 } }, ...marked(line, ranges));
    if (found.length) {
      const more = found.length > 1 ? ` (+${found.length - 1})` : '';
      node.append(el('span', { class: `note ${found[0].severity}`, dataset: { line: i + 1 } }, found[0].message + more));
    }
    offset += line.length + 1;
    return node;
  }));
  syncScroll();

  // The full list, each item leading to its entry.
  $('wl-diagnostics').replaceChildren(...diagnostics.map((d) => el('li', {
    class: d.severity, dataset: { line: d.line, column: d.column, severity: d.severity, code: d.code },
  },
  el('span', { class: 'sev' }, `${severityMark(d.severity)} ${t(`severity.${d.severity}`)}`),
  el('button', {
    type: 'button', class: 'link', 'aria-label': t('whitelist.jumpLabel', d),
    onclick: () => { area.focus(); area.setSelectionRange(d.start, d.end); },
  }, t('whitelist.jump', d)),
  el('code', {}, d.text),
  el('span', { class: 'msg' }, d.message))));

  const errors = report.errors.length + (report.errorsOmitted ?? 0);
  const warnings = report.warnings.length + (report.warningsOmitted ?? 0);
  const summary = text.trim() === '' ? '' : t('whitelist.summary', {
    entries: t('whitelist.entries', { n: report.entries.length }),
    errors: t('whitelist.errors', { n: errors }),
    warnings: t('whitelist.warnings', { n: warnings }),
  });
  $('whitelist-summary').textContent = summary;
  area.setAttribute('aria-invalid', errors > 0 ? 'true' : 'false');
  $('whitelist-block').classList.toggle('off', !state.restrict);
  area.disabled = !state.restrict;
  $('whitelist-help').textContent = state.restrict ? t('whitelist.help') : `${t('whitelist.help')} ${t('whitelist.disabled')}`;
}

function syncScroll() {
  const area = $('whitelist');
  $('backdrop').scrollLeft = area.scrollLeft;
  $('backdrop').scrollTop = area.scrollTop;
}

function whitelistChanged() {
  state.whitelist = $('whitelist').value;
  state.report = parseWhitelist(state.whitelist);
  renderWhitelist();
  settingsChanged();
}

// ---------------------------------------------------------------------------
// What the box means, and the SPF records when SPF decides

/** Whether SPF decides: the box is ticked and the field holds no entry and no error. */
function spfDecides() {
  const r = state.report;
  return state.restrict && r.entries.length === 0 && r.errors.length === 0 && !(r.errorsOmitted > 0);
}

function renderMeaning() {
  const r = state.report;
  const errors = r.errors.length + (r.errorsOmitted ?? 0);
  let key;
  let params = {};
  if (!state.restrict) key = 'meaning.off';
  else if (errors > 0) { key = 'meaning.errors'; params = { errors: t('whitelist.errors', { n: errors }) }; }
  else if (r.entries.length > 0) {
    const n = r.entries.reduce((sum, e) => sum + e.networks.length, 0);
    key = 'meaning.list';
    params = { networks: t('meaning.networks', { n }) };
  } else key = 'meaning.spf';
  let text = t(key, params);
  if (validSenders().length === 0) text += ` ${t('meaning.nosenders')}`;
  const p = $('meaning');
  p.textContent = text;
  p.dataset.mode = key.slice('meaning.'.length);
}

/** The resolver for the configured endpoint, remembering answers until "look up again". */
let resolverCache = { url: null, resolve: null, answers: new Map() };
function resolver() {
  if (resolverCache.url !== state.doh) {
    const doh = dohResolver(state.doh);
    const answers = new Map();
    resolverCache = {
      url: state.doh,
      answers,
      resolve: (name, type) => {
        const key = `${type} ${name.toLowerCase()}`;
        if (!answers.has(key)) {
          const pending = Promise.resolve().then(() => doh(name, type));
          // A failed lookup is not remembered: the next check asks again.
          pending.catch(() => answers.delete(key));
          answers.set(key, pending);
        }
        return answers.get(key);
      },
    };
  }
  return resolverCache.resolve;
}

/**
 * What the sender domain publishes, read from a check of a client no record
 * authorizes: the check fetches the record, walks every term (includes too)
 * and counts the DNS lookups a receiver counts. Its trace holds the TXT answer
 * for the domain, from which the SPF records are taken.
 */
async function fetchSpf(domain) {
  const outcome = await checkHost(
    { ip: PROBE_IP, mailFrom: `postmaster@${domain}`, helo: domain },
    resolver(),
    { trace: true },
  );
  return { outcome, ...txtOfDomain(outcome.trace ?? [], domain) };
}

/** The SPF records in the trace's answer to the TXT query for `domain`. */
function txtOfDomain(trace, domain) {
  const name = (n) => String(n).toLowerCase().replace(/\.$/, '');
  const query = trace.find((e) => e.event === 'query' && name(e.name) === domain && /txt/i.test(String(e.qtype)));
  const answer = query && trace.find((e) => e.event === 'answer' && e.id === query.id);
  if (!answer) return { error: 'no answer' };
  const text = String(answer.answer);
  if (text === 'NXDOMAIN') return { nxdomain: true, records: [] };
  if (text === 'NODATA') return { records: [] };
  if (text.startsWith('TEMPFAIL')) return { error: text.replace(/^TEMPFAIL \((.*)\)$/, '$1') };
  const strings = [...text.matchAll(/TXT "((?:[^"\\]|\\.)*)"/g)].map((m) => unescapeAscii(m[1]));
  return { records: strings.filter((r) => /^v=spf1(?: |$)/i.test(r)) };
}

/** Undoes Rust's `escape_ascii` (`\"`, `\\`, `\n`, `\xNN`, ...), then reads UTF-8. */
function unescapeAscii(text) {
  const bytes = [];
  const simple = { n: 10, r: 13, t: 9, '0': 0, '\\': 92, '"': 34, "'": 39 };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c !== '\\') { bytes.push(c.charCodeAt(0)); continue; }
    const next = text[i + 1];
    if (next === 'x') { bytes.push(parseInt(text.slice(i + 2, i + 4), 16)); i += 3; } else { bytes.push(simple[next] ?? next.charCodeAt(0)); i += 1; }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function renderSpf() {
  const block = $('spf-block');
  block.hidden = !spfDecides();
  if (block.hidden) return;
  const domains = senderDomains();
  // Start lookups for domains not seen yet, forget removed ones.
  for (const domain of [...state.spf.keys()]) if (!domains.includes(domain)) state.spf.delete(domain);
  for (const domain of domains) {
    if (state.spf.has(domain)) continue;
    const entry = { status: 'loading' };
    state.spf.set(domain, entry);
    fetchSpf(domain).then(
      (result) => Object.assign(entry, { status: 'done', result }),
      (err) => Object.assign(entry, { status: 'failed', message: err.message }),
    ).then(() => {
      if (state.spf.get(domain) === entry) renderSpf();
    });
  }
  $('spf-domains').replaceChildren(...domains.map((domain) => renderDomain(domain, state.spf.get(domain))));
}

function renderDomain(domain, entry) {
  const card = el('article', { class: 'spf-domain', dataset: { domain, status: entry.status } },
    el('h4', {}, domain));
  if (entry.status === 'loading') {
    card.append(el('p', { class: 'status' }, t('spf.loading')));
    return card;
  }
  if (entry.status === 'failed') {
    card.append(el('p', { class: 'status error' }, t('spf.dnsError', { reason: entry.message })));
    return card;
  }
  const { outcome, records, nxdomain, error } = entry.result;
  if (error) {
    card.append(el('p', { class: 'status warning', dataset: { finding: 'dns-failure' } }, t('spf.dnsError', { reason: error })));
    return card;
  }
  if (records.length === 0) {
    card.append(el('p', { class: 'status error', dataset: { finding: 'no-record' } },
      nxdomain ? `${t('spf.nxdomain', { domain })} ` : '', t('spf.none', { domain })));
    return card;
  }
  if (records.length > 1) {
    card.append(el('p', { class: 'status error', dataset: { finding: 'multiple-records' } }, t('spf.multiple', { n: records.length })));
  }
  for (const record of records) card.append(renderRecord(record));
  // A record that does not parse ends every check at once: nothing to count.
  if (records.length === 1 && !/syntax/i.test(String(outcome.problem ?? ''))) card.append(renderLookups(outcome));
  return card;
}

function renderRecord(text) {
  const findings = lintRecord(text);
  const index = byteIndexer(text);
  let parseError = null;
  try {
    parseRecord(text);
  } catch (err) {
    parseError = err;
  }
  const ranges = findings.map((f) => {
    const [start, len] = f.span;
    return { start: index(start), end: index(start + len), severity: f.severity, title: f.message, data: { code: f.code } };
  });
  if (parseError && Number.isInteger(parseError.offset)) {
    ranges.unshift({
      start: parseError.offset, end: parseError.offset + (parseError.length ?? 0), severity: 'error',
      title: parseError.message, data: { code: 'syntax-error' },
    });
  }
  const wrap = el('div', { class: 'record-block' },
    el('code', { class: 'record', 'aria-label': t('spf.record') }, ...marked(text, ranges)));
  const list = el('ul', { class: 'diagnostics', 'aria-label': t('spf.findings') });
  for (const f of findings) {
    // A finding's span is [first byte, length in bytes] of the record text.
    const [first, len] = f.span;
    const term = text.slice(index(first), index(first + len));
    const translated = t(`lint.${f.code}`);
    const message = language() === 'en' || translated === `lint.${f.code}` ? f.message : translated;
    const detail = f.code === 'syntax-error' && parseError ? t('spf.parseError', { message: parseError.message }) : message;
    list.append(el('li', { class: f.severity, dataset: { code: f.code, severity: f.severity } },
      el('span', { class: 'sev' }, `${severityMark(f.severity)} ${t(`severity.${f.severity}`)}`),
      term ? el('code', {}, term) : null,
      el('span', { class: 'msg' }, detail, language() === 'en' && f.hint ? ` — ${f.hint}` : '')));
  }
  if (findings.length === 0) list.append(el('li', { class: 'info', dataset: { code: 'none' } }, t('spf.noFindings')));
  wrap.append(list);
  return wrap;
}

function renderLookups(outcome) {
  const n = outcome.lookups ?? 0;
  const over = n > DNS_TERM_LIMIT || /dns.?terms|lookup limit|too many/i.test(JSON.stringify(outcome.problem ?? ''));
  // The walk stops early only when a term matched the probe client.
  const complete = !outcome.mechanism || /all$/.test(outcome.mechanism);
  const label = t(complete ? 'spf.lookups' : 'spf.lookupsAtLeast', { n });
  const box = el('div', { class: 'lookup-box' },
    el('p', { class: `lookups${over ? ' over' : ''}`, dataset: { lookups: n } },
      el('span', {}, label),
      el('meter', { min: 0, max: DNS_TERM_LIMIT, low: 8, high: over ? 9.5 : 10, optimum: 0, value: Math.min(n, DNS_TERM_LIMIT), 'aria-label': label }),
      over ? el('span', {}, t('spf.lookupsOver')) : null),
    el('p', { class: 'probe' }, t('spf.probe')));
  if (outcome.result === 'permerror' || outcome.result === 'temperror') {
    box.append(el('p', { class: 'status error', dataset: { result: outcome.result } },
      t('spf.probeResult', { result: `${outcome.result}${outcome.problem ? ` — ${problemText(outcome.problem)}` : ''}` })));
  }
  return box;
}

function problemText(problem) {
  if (typeof problem === 'string') return problem;
  return problem.message ?? problem.detail ?? JSON.stringify(problem);
}

// ---------------------------------------------------------------------------
// Test a server

function policyDocument(senders, restrict, whitelist) {
  return JSON.stringify({
    authserv_id: AUTHSERV_ID,
    accounts: [{
      id: 'account',
      senders,
      security: restrict ? { mode: 'restricted', whitelist } : { mode: 'open' },
    }],
  }, null, 2);
}

function currentDocument() {
  return policyDocument(validSenders(), state.restrict, state.whitelist);
}

/** Whether `text` is one IP address, as the whitelist parser reads addresses. */
function isIp(text) {
  if (text === '' || /[\s,;#/-]/.test(text)) return false;
  const report = parseWhitelist(text);
  return report.errors.length === 0 && report.entries.length === 1;
}

async function runTest(event) {
  event.preventDefault();
  const ip = $('test-ip').value.trim();
  const helo = $('test-helo').value.trim();
  const error = $('test-error');
  error.textContent = '';
  $('test-ip').removeAttribute('aria-invalid');
  if (!isIp(ip)) {
    state.test = { ip, error: { key: 'test.badIp', params: { ip } } };
    $('test-ip').setAttribute('aria-invalid', 'true');
    renderTest();
    $('test-ip').focus();
    return;
  }
  const senders = validSenders();
  if (senders.length === 0) {
    state.test = { ip, error: { key: 'test.noSenders' } };
    renderTest();
    return;
  }
  let policy;
  try {
    policy = Policy.fromJson(currentDocument());
  } catch (err) {
    state.test = { ip, error: { key: 'test.policyError', params: { message: err.message } } };
    renderTest();
    return;
  }
  const run = { ip, helo, running: true };
  state.test = run;
  renderTest();
  const resolve = resolver();
  run.results = await Promise.all(senders.map(async (sender) => {
    try {
      const verdict = await policy.decide(
        { ip, mailFrom: sender, helo, receiver: AUTHSERV_ID },
        resolve,
        { trace: true },
      );
      return { sender, verdict };
    } catch (err) {
      return { sender, failure: err.message };
    }
  }));
  run.running = false;
  if (state.test === run) renderTest();
}

function renderTest() {
  const box = $('test-results');
  const run = state.test;
  $('test-error').textContent = run?.error ? t(run.error.key, run.error.params) : '';
  $('test-run').disabled = Boolean(run?.running);
  if (!run || run.error) { box.replaceChildren(); return; }
  if (run.running) { box.replaceChildren(el('p', { class: 'muted' }, t('test.running'))); return; }
  box.replaceChildren(
    el('h3', {}, t('test.results', { ip: run.ip })),
    ...run.results.map(renderVerdict),
  );
}

function smtpText(smtp) {
  if (!smtp) return '';
  if (typeof smtp === 'string') return smtp;
  return [smtp.code, smtp.enhanced, smtp.text].filter((x) => x !== undefined && x !== '').join(' ');
}

function ruleText(rule, verdict) {
  if (!rule) return '';
  if (typeof rule === 'string') return rule;
  const kind = rule.kind;
  if (kind === 'spf') {
    const spf = verdict.spf ?? {};
    const result = rule.result ?? spf.result;
    const params = { result: t(`spfresult.${result}`), directive: rule.directive ?? spf.mechanism, domain: rule.domain ?? spf.domain };
    let text = t(params.directive ? 'rule.spf.directive' : 'rule.spf', params);
    // The core's words for what went wrong (in English): the detail a fix needs.
    const problem = rule.problem ?? spf.problem;
    if (problem && (result === 'permerror' || result === 'temperror')) text += ` ${problemText(problem)}`;
    return text;
  }
  const key = `rule.${kind}`;
  const text = t(key, rule);
  return text === key ? rule.text ?? rule.description ?? JSON.stringify(rule) : text;
}

/** The evaluation's steps, one per line: queries, answers, records and terms. */
function traceText(spf) {
  const trace = spf?.trace;
  if (!trace || trace.length === 0) return '';
  const line = (e) => {
    const indent = '  '.repeat(e.depth ?? 0);
    switch (e.event) {
      case 'query': return `? ${e.name} ${e.qtype}${e.prefetch ? ' (prefetch)' : ''}  #${e.id}`;
      case 'answer': return `= #${e.id} ${e.answer}`;
      case 'record': return `${indent}${e.domain}: ${e.text}`;
      case 'term': return `${indent}  ${e.term} → ${e.matched ? '✔' : '✘'}`;
      default: return typeof e === 'string' ? e : JSON.stringify(e);
    }
  };
  return trace.map(line).join('\n');
}

function renderVerdict({ sender, verdict, failure }) {
  if (failure) {
    return el('article', { class: 'verdict reject', dataset: { sender, action: 'error' } },
      el('div', { class: 'head' }, el('span', { class: 'sender' }, sender)),
      el('p', { class: 'field-error' }, t('test.failed', { message: failure })));
  }
  const action = verdict.action;
  const headers = verdict.headers ?? {};
  const headerLines = Object.entries(headers).map(([name, value]) => `${headerName(name)}: ${value}`).join('\n');
  const trace = traceText(verdict.spf);
  return el('article', { class: `verdict ${action}`, dataset: { sender, action } },
    el('div', { class: 'head' },
      el('span', { class: 'sender' }, sender),
      el('span', { class: `badge ${action}` }, t(`action.${action}`))),
    el('dl', {},
      el('dt', {}, t('test.reply')), el('dd', { class: 'smtp' }, el('code', {}, smtpText(verdict.smtp))),
      el('dt', {}, t('test.rule')), el('dd', { class: 'rule' }, ruleText(verdict.rule, verdict))),
    trace ? el('details', { class: 'trace' }, el('summary', {}, t('test.trace')), el('pre', {}, trace)) : null,
    headerLines ? el('details', { class: 'headers' }, el('summary', {}, t('test.headers')), el('pre', {}, headerLines)) : null);
}

function headerName(key) {
  return { receivedSpf: 'Received-SPF', authenticationResults: 'Authentication-Results' }[key] ?? key;
}

// ---------------------------------------------------------------------------
// Language and wiring

function applyLanguage(lang) {
  setLanguage(lang);
  document.documentElement.lang = language();
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-attr]')) {
    const [attr, key] = node.dataset.i18nAttr.split(':');
    node.setAttribute(attr, t(key));
  }
  $('lang').value = language();
  renderAll();
}

function settingsChanged() {
  renderMeaning();
  renderSpf();
  $('policy-json').textContent = currentDocument();
}

function renderAll() {
  renderSenders();
  renderWhitelist();
  settingsChanged();
  renderTest();
}

function initialLanguage(params) {
  const asked = params.get('lang');
  if (LANGUAGES.includes(asked)) return asked;
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch {
    // Storage may be unavailable (private mode, file://): keep the default.
  }
  return 'de';
}

function start() {
  const params = new URLSearchParams(location.search);
  state.doh = params.get('doh') || DEFAULT_DOH;
  $('doh').value = state.doh;
  $('add-sender').addEventListener('submit', addSender);
  $('new-sender').addEventListener('input', clearSenderError);
  $('restrict').addEventListener('change', () => {
    state.restrict = $('restrict').checked;
    renderWhitelist();
    settingsChanged();
  });
  const area = $('whitelist');
  area.addEventListener('input', whitelistChanged);
  area.addEventListener('scroll', syncScroll);
  $('doh-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.doh = $('doh').value.trim() || DEFAULT_DOH;
    resolverCache = { url: null, resolve: null, answers: new Map() };
    state.spf.clear();
    settingsChanged();
  });
  $('test-form').addEventListener('submit', runTest);
  $('lang').addEventListener('change', () => {
    try { localStorage.setItem(LANG_KEY, $('lang').value); } catch { /* see initialLanguage */ }
    applyLanguage($('lang').value);
  });
  state.restrict = $('restrict').checked;
  state.whitelist = area.value;
  state.report = parseWhitelist(state.whitelist);
  applyLanguage(initialLanguage(params));
  $('app').setAttribute('aria-busy', 'false');
  document.body.dataset.ready = 'true';
}

try {
  start();
} catch (err) {
  const banner = $('load-error');
  banner.hidden = false;
  banner.textContent = `spfgate: ${err.message}`;
  throw err;
}
