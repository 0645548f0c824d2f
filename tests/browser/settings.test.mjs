// The security-settings page (pkg/demo) in headless Chromium: whitelist
// errors at their lines, the SPF explanation with the domain's record and its
// findings, decisions for a passing and a failing server, the language
// switch, 360 px without a layout break. Any console error or uncaught
// exception fails the run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './servers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tools = process.env.SPFGATE_BROWSER_TOOLS;
if (!tools) throw new Error('SPFGATE_BROWSER_TOOLS is not set: run tests/browser/run.sh');
const { chromium } = createRequire(path.join(tools, 'node_modules', '/'))('playwright-core');
const shots = process.env.SPFGATE_SCREENSHOTS ?? path.join(tools, 'screenshots');

let servers;
let context;
let profile;
let page;
const problems = [];

before(async () => {
  const zonedata = JSON.parse(await readFile(path.join(here, 'zone.json'), 'utf8'));
  servers = await startServers({ root: path.join(here, '../../pkg'), zonedata });
  profile = await mkdtemp(path.join(tmpdir(), 'spfgate-chromium-'));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    locale: 'de-DE',
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  // Only the two local servers may be reached.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    problems.push(`request outside 127.0.0.1: ${url}`);
    return route.abort();
  });
  await mkdir(shots, { recursive: true });
});

after(async () => {
  await context?.close();
  await servers?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

function noProblems() {
  assert.deepEqual(problems, [], 'the page logged errors');
}

const q = (selector) => page.locator(selector);

async function diagnostics() {
  return page.$$eval('#wl-diagnostics li', (items) => items.map((li) => ({
    line: Number(li.dataset.line),
    severity: li.dataset.severity,
    code: li.dataset.code,
    text: li.textContent,
  })));
}

async function gutter(line) {
  return page.$eval(`#gutter [data-line="${line}"]`, (node) => node.className);
}

async function note(line) {
  return page.$$eval(`#backdrop .note[data-line="${line}"]`, (nodes) => nodes.map((n) => n.textContent).join(''));
}

async function decisions() {
  await page.waitForSelector('#test-results article.verdict');
  return page.$$eval('#test-results article.verdict', (items) => Object.fromEntries(items.map((a) => [a.dataset.sender, {
    action: a.dataset.action,
    badge: a.querySelector('.badge')?.textContent,
    smtp: a.querySelector('.smtp')?.textContent,
    rule: a.querySelector('.rule')?.textContent,
    trace: a.querySelector('.trace pre')?.textContent ?? '',
    headers: a.querySelector('.headers pre')?.textContent ?? '',
  }])));
}

async function testServer(ip) {
  await q('#test-ip').fill('');
  await q('#test-ip').pressSequentially(ip);
  await q('#test-ip').press('Enter');
  await page.waitForFunction((want) => {
    const h = document.querySelector('#test-results h3');
    return document.querySelector('#test-error').textContent !== ''
      || (h && h.textContent.includes(want) && document.querySelector('#test-results article'));
  }, ip, { timeout: 10000 });
  assert.equal(await q('#test-error').textContent(), '', `testing ${ip}`);
  return decisions();
}

test('the page loads in German with every control labelled', async () => {
  await page.goto(`${servers.pageUrl}?doh=${encodeURIComponent(servers.dohUrl)}`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.equal(await q('h1').textContent(), 'Sicherheitseinstellungen');
  const unlabelled = await page.$$eval('input, select, textarea, button', (controls) => controls
    .filter((c) => !(c.labels?.length || c.getAttribute('aria-label') || c.textContent.trim()))
    .map((c) => c.outerHTML));
  assert.deepEqual(unlabelled, []);
  noProblems();
});

test('sender addresses are validated, added and removed by keyboard', async () => {
  await q('#new-sender').focus();
  await page.keyboard.type('info@firma');
  await page.keyboard.press('Enter');
  assert.match(await q('#new-sender-error').textContent(), /keinen Punkt/);
  await q('#new-sender').fill('');
  for (const address of ['info@firma.example', 'post@ohne-spf.example', 'rechnung@versand.example', 'team@offen.example', 'info@viele.example', 'info@langsam.example', 'weg@firma.example']) {
    await q('#new-sender').pressSequentially(address);
    await page.keyboard.press('Enter');
  }
  await q('#new-sender').pressSequentially('INFO@Firma.example');
  await page.keyboard.press('Enter');
  assert.match(await q('#new-sender-error').textContent(), /schon eingetragen/);
  await q('#new-sender').fill('');
  // Remove the last one with the keyboard: focus its button, press Enter.
  await q('#sender-list li[data-address="weg@firma.example"] button').focus();
  await page.keyboard.press('Enter');
  const listed = await page.$$eval('#sender-list li', (items) => items.map((li) => li.dataset.address));
  assert.deepEqual(listed, ['info@firma.example', 'post@ohne-spf.example', 'rechnung@versand.example', 'team@offen.example', 'info@viele.example', 'info@langsam.example']);
  noProblems();
});

const BROKEN = [
  '192.0.2.0/24',
  '10.1.2.3',
  '192.0.2.300',
  'fe80::1%eth0',
  '192.0.2.17',
  '185.12.64.10 - 185.12.64.20',
  '01.2.3.4',
].join('\n');

test('whitelist errors and warnings appear at their lines as the user types', async () => {
  assert.equal(await q('#whitelist').isDisabled(), true, 'the field waits for the box');
  await q('#restrict').focus();
  await page.keyboard.press('Space');
  assert.equal(await q('#restrict').isChecked(), true);
  await q('#whitelist').focus();
  // Half-typed: the third line is wrong as soon as its octet is.
  await page.keyboard.type('192.0.2.0/24\n10.1.2.3\n192.0.2.300');
  assert.ok((await diagnostics()).some((d) => d.line === 3 && d.code === 'bad_octet'));
  await page.keyboard.type(BROKEN.slice('192.0.2.0/24\n10.1.2.3\n192.0.2.300'.length));
  assert.equal(await q('#whitelist').inputValue(), BROKEN);

  const found = await diagnostics();
  const at = (line, severity, code) => found.find((d) => d.line === line && d.severity === severity && d.code === code);
  assert.ok(at(1, 'warning', 'documentation'), 'line 1: documentation range');
  assert.ok(at(2, 'warning', 'private_range'), 'line 2: private network');
  assert.ok(at(3, 'error', 'bad_octet'), 'line 3: bad octet');
  assert.ok(at(4, 'error', 'zone_id_not_allowed'), 'line 4: zone id');
  assert.ok(at(5, 'warning', 'contained_in'), 'line 5: covered by line 1');
  assert.ok(at(6, 'info', 'range'), 'line 6: range turned into CIDRs');
  assert.ok(at(7, 'error', 'leading_zero'), 'line 7: leading zero');
  assert.equal(found.filter((d) => d.severity === 'error').length, 3);
  assert.match(at(3, 'error', 'bad_octet').text, /Zeile 3, Spalte 1.*192\.0\.2\.300.*„300“ ist keine Zahl von 0 bis 255/);
  assert.match(at(4, 'error', 'zone_id_not_allowed').text, /%eth0/);
  assert.match(at(5, 'warning', 'contained_in').text, /192\.0\.2\.0\/24 \(Zeile 1/);
  assert.match(at(6, 'info', 'range').text, /185\.12\.64\.10\/31, 185\.12\.64\.12\/30, 185\.12\.64\.16\/30, 185\.12\.64\.20\/32/);

  // At the line itself: the gutter marker and the message after the entry.
  assert.match(await gutter(3), /has-error/);
  assert.match(await gutter(4), /has-error/);
  assert.match(await gutter(7), /has-error/);
  assert.match(await gutter(2), /has-warning/);
  assert.doesNotMatch(await gutter(6), /has-error|has-warning/);
  assert.match(await note(3), /300/);
  assert.match(await note(7), /führende Null/);
  assert.match(await q('#whitelist-summary').textContent(), /4 Einträge · 3 Fehler · 4 Warnungen/);
  assert.equal(await q('#meaning').getAttribute('data-mode'), 'errors');
  await page.screenshot({ path: path.join(shots, 'desktop-whitelist-errors.png'), fullPage: true });
  // The README's picture: the IP field with its findings, at a width that stays legible.
  await page.setViewportSize({ width: 960, height: 900 });
  await q('section[aria-labelledby="security-heading"]').screenshot({ path: path.join(shots, 'readme.png') });
  await page.setViewportSize({ width: 1280, height: 900 });

  // The list leads to the entry: activating an item selects it in the field.
  await q('#wl-diagnostics li[data-line="4"] button').focus();
  await page.keyboard.press('Enter');
  const selected = await page.$eval('#whitelist', (a) => a.value.slice(a.selectionStart, a.selectionEnd));
  assert.equal(selected, 'fe80::1%eth0');
  noProblems();
});

test('fixing the entries makes their errors go', async () => {
  // Line 4 is selected: type over it, then fix lines 3 and 7 the same way.
  await page.keyboard.type('2001:db8::1');
  await page.$eval('#whitelist', (a) => {
    const at = a.value.indexOf('192.0.2.300');
    a.setSelectionRange(at, at + '192.0.2.300'.length);
  });
  await page.keyboard.type('192.0.2.30');
  await page.$eval('#whitelist', (a) => {
    const at = a.value.indexOf('01.2.3.4');
    a.setSelectionRange(at, at + '01.2.3.4'.length);
  });
  await page.keyboard.type('1.2.3.4');
  const found = await diagnostics();
  assert.deepEqual(found.filter((d) => d.severity === 'error'), []);
  for (const line of [3, 4, 7]) assert.doesNotMatch(await gutter(line), /has-error/);
  assert.equal(await note(7), '');
  assert.match(await q('#whitelist-summary').textContent(), /0 Fehler/);
  assert.equal(await q('#meaning').getAttribute('data-mode'), 'list');
  assert.equal(await q('#spf-block').isHidden(), true);
  noProblems();
});

test('a whitelisted server is accepted without DNS, another one rejected', async () => {
  const d = await testServer('192.0.2.30');
  assert.equal(d['info@firma.example'].action, 'accept');
  assert.match(d['info@firma.example'].smtp, /^250/);
  assert.match(d["info@firma.example"].rule, /Zeile \d/);
  const miss = await testServer('203.0.113.5');
  assert.equal(miss['post@ohne-spf.example'].action, 'reject');
  assert.match(miss['post@ohne-spf.example'].smtp, /^550 5\.7\.1/);
  noProblems();
});

test('with the field empty the SPF records decide and are shown with their findings', async () => {
  await q('#whitelist').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  assert.equal(await q('#whitelist').inputValue(), '');
  assert.equal(await q('#meaning').getAttribute('data-mode'), 'spf');
  assert.match(await q('#meaning').textContent(), /SPF-Einträge Ihrer Absenderdomains/);
  assert.equal(await q('#spf-block').isVisible(), true);
  await page.waitForFunction(() => {
    const cards = document.querySelectorAll('#spf-domains .spf-domain');
    return cards.length === 6 && [...cards].every((c) => c.dataset.status !== 'loading');
  });

  const firma = q('.spf-domain[data-domain="firma.example"]');
  assert.equal(await firma.locator('.record').textContent(),
    'v=spf1 ip4:192.0.2.0/24 include:_spf.firma.example mx ptr -all');
  assert.equal(await firma.locator('.record mark[data-code="ptr-deprecated"]').textContent(), 'ptr');
  assert.equal(await firma.locator('li[data-code="ptr-deprecated"]').count(), 1);
  // include, mx and ptr: 3 of the 10 DNS-querying terms.
  assert.equal(await firma.locator('.lookups').getAttribute('data-lookups'), '3');
  assert.match(await firma.locator('.lookups').textContent(), /3 von 10/);

  const none = q('.spf-domain[data-domain="ohne-spf.example"]');
  assert.equal(await none.locator('[data-finding="no-record"]').count(), 1);
  assert.match(await none.textContent(), /Kein SPF-Eintrag/);

  const broken = q('.spf-domain[data-domain="versand.example"]');
  const bad = await broken.locator('.record mark[data-code="syntax-error"]').first().textContent();
  assert.ok(bad.length > 0 && 'ip4:192.0.2.0/33'.endsWith(bad), `the parse error marks ${bad}`);
  assert.equal(await broken.locator('li[data-code="syntax-error"]').count(), 1);

  const open = q('.spf-domain[data-domain="offen.example"]');
  assert.equal(await open.locator('.record mark[data-code="plus-all"]').textContent(), '+all');
  assert.equal(await open.locator('li[data-code="plus-all"]').getAttribute('data-severity'), 'error');

  // Each record alone is fine; with its includes it needs 12 lookups.
  const many = q('.spf-domain[data-domain="viele.example"]');
  assert.equal(await many.locator('.lookups.over').count(), 1);
  assert.ok(Number(await many.locator('.lookups').getAttribute('data-lookups')) > 10);
  assert.match(await many.textContent(), /Zu viele DNS-Abfragen/);
  assert.equal(await many.locator('[data-result="permerror"]').count(), 1);

  const slow = q('.spf-domain[data-domain="langsam.example"]');
  assert.equal(await slow.locator('[data-finding="dns-failure"]').count(), 1);
  assert.match(await slow.textContent(), /DNS-Abfrage fehlgeschlagen/);

  // The page asked the DoH endpoint, as RFC 8484 messages.
  assert.ok(servers.log.some((e) => e.name === 'firma.example' && e.type === 16));
  noProblems();
});

test('a server the record authorizes passes, one it does not fails', async () => {
  await q('#test-helo').fill('mail.firma.example');
  const pass = await testServer('192.0.2.10');
  await q('#test-helo').fill('');
  assert.match(pass['info@firma.example'].headers, /^Received-SPF: pass .*helo=mail\.firma\.example/m);
  assert.match(pass['info@firma.example'].headers, /^Authentication-Results: mx\.gateway\.example; spf=pass/m);
  assert.equal(pass['info@firma.example'].action, 'accept');
  assert.match(pass['info@firma.example'].smtp, /^250/);
  assert.match(pass['info@firma.example'].rule, /pass/);
  assert.match(pass['info@firma.example'].rule, /ip4:192\.0\.2\.0\/24/);
  assert.notEqual(pass['info@firma.example'].trace, '');
  assert.equal(pass['post@ohne-spf.example'].action, 'reject');
  assert.match(pass['post@ohne-spf.example'].smtp, /^550 5\.7\.1/);
  assert.equal(pass['rechnung@versand.example'].action, 'reject');
  assert.match(pass['rechnung@versand.example'].smtp, /^550 5\.7\.24/);
  assert.equal(pass['team@offen.example'].action, 'accept', '+all lets anyone send');
  assert.equal(pass['info@viele.example'].action, 'reject');
  assert.match(pass['info@viele.example'].smtp, /^550 5\.7\.24/);
  assert.equal(pass['info@langsam.example'].action, 'defer', 'a DNS failure defers');
  assert.equal(pass['info@langsam.example'].badge, 'Zurückstellen');
  assert.match(pass['info@langsam.example'].smtp, /^451 4\.7\.24/);

  const viaMx = await testServer('203.0.113.25');
  assert.equal(viaMx['info@firma.example'].action, 'accept');

  const fail = await testServer('203.0.113.99');
  assert.equal(fail['info@firma.example'].action, 'reject');
  assert.equal(fail['info@firma.example'].badge, 'Abweisen');
  assert.match(fail['info@firma.example'].smtp, /^550 5\.7\.23/);
  assert.match(fail['info@firma.example'].rule, /fail/);
  // The trace opens by keyboard and shows every term the check walked.
  const trace = q('#test-results article[data-sender="info@firma.example"] details.trace');
  await trace.locator('summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await trace.getAttribute('open'), '');
  const steps = await trace.locator('pre').textContent();
  for (const term of ['ip4:192.0.2.0/24 → ✘', 'include:_spf.firma.example → ✘', 'mx → ✘', 'ptr → ✘', '-all → ✔']) {
    assert.ok(steps.includes(term), `trace shows ${term}:\n${steps}`);
  }
  await page.screenshot({ path: path.join(shots, 'desktop-de.png'), fullPage: true });
  noProblems();
});

test('an address that is not an IP is refused', async () => {
  await q('#test-ip').fill('192.0.2.256');
  await q('#test-ip').press('Enter');
  assert.match(await q('#test-error').textContent(), /keine IP-Adresse/);
  assert.equal(await q('#test-ip').getAttribute('aria-invalid'), 'true');
  await testServer('203.0.113.99');
  noProblems();
});

test('the language switches to English and back', async () => {
  await q('#lang').focus();
  await q('#lang').selectOption('en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await q('h1').textContent(), 'Security settings');
  assert.equal(await q('label[for="restrict"]').textContent(), 'Only accept mail from authorized IPs');
  assert.match(await q('#meaning').textContent(), /SPF records of your sender domains decide/);
  const d = await decisions();
  assert.equal(d['info@firma.example'].badge, 'Reject');
  assert.match(await q('.spf-domain[data-domain="firma.example"] .lookups').textContent(), /3 of 10/);
  assert.match(await q('.spf-domain[data-domain="ohne-spf.example"]').textContent(), /No SPF record/);
  await page.screenshot({ path: path.join(shots, 'desktop-en.png'), fullPage: true });
  await q('#lang').selectOption('de');
  assert.equal(await q('h1').textContent(), 'Sicherheitseinstellungen');
  noProblems();
});

/** Elements reaching past the viewport's right edge (the field's backdrop scrolls inside it). */
async function overflow() {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !e.closest('.backdrop') && e.getBoundingClientRect().right > width + 0.5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.className}`);
    return { scroll: document.documentElement.scrollWidth, width, wide };
  });
}

test('360 px wide: nothing sticks out', async () => {
  await page.setViewportSize({ width: 360, height: 780 });
  await q('#whitelist').focus();
  await page.keyboard.type('192.168.1.0/24\n185.12.64.7 - 185.12.64.9\n300.1.1.1');
  assert.equal((await diagnostics()).filter((d) => d.severity === 'error').length, 1);
  assert.deepEqual(await overflow(), { scroll: 360, width: 360, wide: [] });
  await page.screenshot({ path: path.join(shots, 'mobile-360-whitelist.png'), fullPage: true });
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await testServer('203.0.113.99');
  assert.deepEqual(await overflow(), { scroll: 360, width: 360, wide: [] });
  await page.screenshot({ path: path.join(shots, 'mobile-360.png'), fullPage: true });
  noProblems();
});
