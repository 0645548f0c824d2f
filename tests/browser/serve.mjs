// Serves the settings page and the test zone's DoH endpoint until Ctrl-C:
//   node tests/browser/serve.mjs [--port 8080] [--doh-port 8053] [--zone FILE]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServers } from './servers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    'doh-port': { type: 'string', default: '8053' },
    zone: { type: 'string', default: path.join(here, 'zone.json') },
  },
});
const zonedata = JSON.parse(await readFile(values.zone, 'utf8'));
const servers = await startServers({
  root: path.join(here, '../../pkg'),
  zonedata,
  port: Number(values.port),
  dohPort: Number(values['doh-port']),
});
console.log(`settings page: ${servers.pageUrl}?doh=${encodeURIComponent(servers.dohUrl)}`);
console.log(`DoH endpoint:  ${servers.dohUrl} (zone ${values.zone})`);
