// The two servers the settings page needs, both on 127.0.0.1: a static file
// server with pkg/ as its web root (the page lives at /demo/) and an RFC 8484
// DNS-over-HTTPS endpoint (GET ?dns= and POST, application/dns-message)
// answering from a test zone. They listen on different ports, so the page
// reaches the endpoint cross-origin, as it reaches a public resolver.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadZone, respond, parseQuery } from './dns.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

const MAX_DNS_MESSAGE = 65535;

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** Serves files under `root`; directories get their index.html. */
export function staticServer(root) {
  const base = path.resolve(root);
  return createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const url = new URL(req.url, 'http://localhost');
      let file = path.resolve(base, '.' + decodeURIComponent(url.pathname));
      if (file !== base && !file.startsWith(base + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      let info = await stat(file).catch(() => null);
      if (info?.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { Location: url.pathname + '/' + url.search }).end();
          return;
        }
        file = path.join(file, 'index.html');
        info = await stat(file).catch(() => null);
      }
      if (!info?.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
    }
  });
}

/**
 * The DoH endpoint at /dns-query. `log` receives one entry per answered query
 * ({ method, name, type }) so tests can see what the page asked.
 */
export function dohServer(zonedata, log = []) {
  const zone = loadZone(zonedata);
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, Accept',
    'Access-Control-Max-Age': '600',
  };
  const fail = (res, status, text) =>
    res.writeHead(status, { ...cors, 'Content-Type': 'text/plain' }).end(text + '\n');
  const answer = (res, method, bytes) => {
    let message;
    try {
      const q = parseQuery(bytes);
      log.push({ method, name: q.name, type: q.qtype });
      message = respond(zone, bytes);
    } catch (err) {
      fail(res, 400, `malformed DNS query: ${err.message}`);
      return;
    }
    res.writeHead(200, {
      ...cors,
      'Content-Type': 'application/dns-message',
      'Content-Length': message.length,
      'Cache-Control': 'max-age=300',
    });
    res.end(message);
  };
  return createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname !== '/dns-query') return fail(res, 404, 'not found');
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    if (req.method === 'GET') {
      const dns = url.searchParams.get('dns');
      if (!dns || !/^[A-Za-z0-9_-]+$/.test(dns)) return fail(res, 400, 'missing or malformed dns parameter');
      return answer(res, 'GET', Buffer.from(dns, 'base64url'));
    }
    if (req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/dns-message') return fail(res, 415, 'expected application/dns-message');
      const chunks = [];
      let size = 0;
      req.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_DNS_MESSAGE) {
          fail(res, 413, 'DNS message too large');
          req.destroy();
        } else {
          chunks.push(chunk);
        }
      });
      req.on('end', () => {
        if (size <= MAX_DNS_MESSAGE) answer(res, 'POST', Buffer.concat(chunks));
      });
      return undefined;
    }
    res.writeHead(405, { ...cors, Allow: 'GET, POST, OPTIONS' }).end();
    return undefined;
  });
}

/** Starts both servers; ports 0 pick free ones. */
export async function startServers({ root, zonedata, port = 0, dohPort = 0 }) {
  const log = [];
  const web = staticServer(root);
  const doh = dohServer(zonedata, log);
  const webPort = await listen(web, port);
  const dnsPort = await listen(doh, dohPort);
  return {
    pageUrl: `http://127.0.0.1:${webPort}/demo/`,
    dohUrl: `http://127.0.0.1:${dnsPort}/dns-query`,
    log,
    close: () => Promise.all([web, doh].map((s) => new Promise((r) => { s.closeAllConnections?.(); s.close(r); }))),
  };
}
