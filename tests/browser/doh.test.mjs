// The test DoH endpoint speaks RFC 8484: GET with ?dns= (base64url) and POST
// with an application/dns-message body, CORS for a page on another origin,
// and clear HTTP errors for anything else. Its messages are read by the
// package's own decoder: checkHost over dohResolver gives the zone's results.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServers } from './servers.mjs';
import { parseQuery, respond, loadZone } from './dns.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let servers;
let zonedata;

before(async () => {
  zonedata = JSON.parse(await readFile(path.join(here, 'zone.json'), 'utf8'));
  servers = await startServers({ root: path.join(here, '../../pkg'), zonedata });
});

after(() => servers?.close());

/** A query message for (name, type) with id 0, as RFC 8484 recommends. */
function query(name, type) {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, tail]);
}

test('GET and POST return the same application/dns-message answer', async () => {
  const q = query('firma.example', 16);
  const get = await fetch(`${servers.dohUrl}?dns=${q.toString('base64url')}`, { headers: { accept: 'application/dns-message' } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('content-type'), 'application/dns-message');
  assert.equal(get.headers.get('access-control-allow-origin'), '*');
  const post = await fetch(servers.dohUrl, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: q });
  assert.equal(post.status, 200);
  const a = Buffer.from(await get.arrayBuffer());
  const b = Buffer.from(await post.arrayBuffer());
  assert.deepEqual(a, b);
  assert.equal(a.readUInt16BE(2) & 0x800f, 0x8000, 'a NOERROR response');
  assert.equal(a.readUInt16BE(6), 1, 'one answer');
  assert.ok(a.includes(Buffer.from('v=spf1 ip4:192.0.2.0/24 include:_spf.firma.example mx ptr -all')));
});

test('response codes: NXDOMAIN, NODATA and SERVFAIL for TIMEOUT', () => {
  const zone = loadZone(zonedata);
  const rcode = (name, type) => respond(zone, query(name, type)).readUInt16BE(2) & 0xf;
  const answers = (name, type) => respond(zone, query(name, type)).readUInt16BE(6);
  assert.equal(rcode('nirgends.example', 16), 3);
  assert.equal(rcode('firma.example', 28), 0);
  assert.equal(answers('firma.example', 28), 0);
  assert.equal(rcode('langsam.example', 16), 2);
  assert.equal(answers('mx.firma.example', 28), 1);
  assert.equal(parseQuery(query('Firma.Example', 15)).name, 'Firma.Example');
});

test('HTTP errors: missing parameter, wrong type, wrong method, bad message, preflight', async () => {
  assert.equal((await fetch(servers.dohUrl)).status, 400);
  assert.equal((await fetch(`${servers.dohUrl}?dns=!!`)).status, 400);
  assert.equal((await fetch(`${servers.dohUrl}?dns=AAAA`)).status, 400);
  assert.equal((await fetch(servers.dohUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
  assert.equal((await fetch(servers.dohUrl, { method: 'PUT' })).status, 405);
  assert.equal((await fetch(servers.dohUrl.replace('/dns-query', '/other'))).status, 404);
  const pre = await fetch(servers.dohUrl, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/);
});

test('the static server serves pkg/ with the right types and no way out', async () => {
  const page = await fetch(servers.pageUrl);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  const js = await fetch(new URL('main.js', servers.pageUrl));
  assert.match(js.headers.get('content-type'), /text\/javascript/);
  const redirect = await fetch(servers.pageUrl.replace(/\/$/, ''), { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  const out = await fetch(new URL('/%2e%2e/Cargo.toml', servers.pageUrl));
  assert.ok([403, 404].includes(out.status));
  assert.equal((await fetch(new URL('/demo/nothing.js', servers.pageUrl))).status, 404);
});

test('the package reads the endpoint\'s messages: each zone case gives its SPF result', async () => {
  const { checkHost, dohResolver } = await import('../../pkg/node.js');
  const resolve = dohResolver(servers.dohUrl);
  const check = (ip, domain) => checkHost({ ip, mailFrom: `postmaster@${domain}`, helo: domain }, resolve);
  const cases = [
    ['192.0.2.10', 'firma.example', 'pass', 'ip4:192.0.2.0/24'],
    ['198.51.100.9', 'firma.example', 'pass', 'include:_spf.firma.example'],
    ['2001:db8:f::1', 'firma.example', 'pass', 'include:_spf.firma.example'],
    ['203.0.113.25', 'firma.example', 'pass', 'mx'],
    ['203.0.113.99', 'firma.example', 'fail', '-all'],
    ['192.0.2.10', 'ohne-spf.example', 'none'],
    ['192.0.2.10', 'versand.example', 'permerror'],
    ['192.0.2.10', 'langsam.example', 'temperror'],
    ['192.0.2.10', 'nirgends.example', 'none'],
    ['203.0.113.1', 'offen.example', 'pass', 'all'],
  ];
  for (const [ip, domain, result, mechanism] of cases) {
    const outcome = await check(ip, domain);
    assert.equal(outcome.result, result, `${ip} for ${domain}: ${JSON.stringify(outcome.problem)}`);
    if (mechanism) assert.equal(outcome.mechanism, mechanism, `${ip} for ${domain}`);
  }
});
