// DNS wire format (RFC 1035) for the test DoH endpoint: reads a query and
// builds the response from a zone in the RFC 7208 test suite's `zonedata`
// shape (name → list of records; `SPF` records also answer TXT queries;
// `TIMEOUT` makes every query for the name fail with SERVFAIL).

export const TYPES = { A: 1, NS: 2, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SPF: 99 };
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 };

export class DnsFormatError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DnsFormatError';
  }
}

/** Reads the header and the single question of a query message. */
export function parseQuery(bytes) {
  const buf = Buffer.from(bytes);
  if (buf.length < 12) throw new DnsFormatError(`message of ${buf.length} bytes is shorter than a header`);
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw new DnsFormatError('the message is a response, not a query');
  const qdcount = buf.readUInt16BE(4);
  if (qdcount !== 1) throw new DnsFormatError(`${qdcount} questions; exactly one is supported`);
  const labels = [];
  let at = 12;
  for (;;) {
    if (at >= buf.length) throw new DnsFormatError('question name runs past the message');
    const len = buf[at];
    if (len === 0) { at += 1; break; }
    if (len > 63) throw new DnsFormatError('compressed or oversized label in the question');
    if (at + 1 + len > buf.length) throw new DnsFormatError('label runs past the message');
    labels.push(buf.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  if (at + 4 > buf.length) throw new DnsFormatError('question type and class are missing');
  const qtype = buf.readUInt16BE(at);
  const qclass = buf.readUInt16BE(at + 2);
  return { id, flags, name: labels.join('.'), qtype, qclass, question: buf.subarray(12, at + 4) };
}

function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  const out = [];
  for (const label of parts) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > 63) throw new Error(`label too long in zone name ${name}`);
    out.push(Buffer.from([bytes.length]), bytes);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

function encodeIpv4(text) {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`bad IPv4 address in the zone: ${text}`);
  }
  return Buffer.from(parts);
}

function encodeIpv6(text) {
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) { head = text.slice(0, gap); tail = text.slice(gap + 2); }
  const groups = (s) => {
    if (s === '') return [];
    const out = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = encodeIpv4(g);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  const fill = gap >= 0 ? 8 - h.length - t.length : 0;
  const all = [...h, ...new Array(fill).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) {
    throw new Error(`bad IPv6 address in the zone: ${text}`);
  }
  const buf = Buffer.alloc(16);
  all.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

function encodeTxt(value) {
  const strings = Array.isArray(value) ? value : [value];
  const out = [];
  for (const s of strings) {
    let bytes = Buffer.from(String(s), 'utf8');
    // One character-string holds at most 255 bytes; split longer ones.
    do {
      const chunk = bytes.subarray(0, 255);
      out.push(Buffer.from([chunk.length]), chunk);
      bytes = bytes.subarray(255);
    } while (bytes.length > 0);
  }
  return Buffer.concat(out);
}

function rdata(type, value) {
  switch (type) {
    case 'A': return encodeIpv4(value);
    case 'AAAA': return encodeIpv6(value);
    case 'TXT': case 'SPF': return encodeTxt(value);
    case 'MX': {
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(value[0]);
      return Buffer.concat([pref, encodeName(value[1])]);
    }
    case 'PTR': case 'CNAME': case 'NS': return encodeName(value);
    default: throw new Error(`record type ${type} is not supported by the test zone`);
  }
}

function record(name, type, value) {
  const data = rdata(type, value);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type === 'SPF' ? TYPES.TXT : TYPES[type], 0);
  fixed.writeUInt16BE(1, 2); // class IN
  fixed.writeUInt32BE(300, 4); // TTL
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(name), fixed, data]);
}

/** A zone: lower-cased names without the final dot → records. */
export function loadZone(zonedata) {
  const zone = new Map();
  for (const [name, records] of Object.entries(zonedata)) {
    zone.set(name.toLowerCase().replace(/\.$/, ''), records);
  }
  return zone;
}

/** What the zone says for (name, type): { rcode, answers: [[name, type, value]] }. */
export function resolveInZone(zone, name, qtype) {
  const want = TYPE_NAMES[qtype];
  let current = name.toLowerCase().replace(/\.$/, '');
  const answers = [];
  for (let hops = 0; hops < 8; hops += 1) {
    const records = zone.get(current);
    if (records === undefined) {
      return { rcode: answers.length ? RCODE.NOERROR : RCODE.NXDOMAIN, answers };
    }
    if (records.includes('TIMEOUT')) return { rcode: RCODE.SERVFAIL, answers: [] };
    const cname = records.find((r) => typeof r === 'object' && 'CNAME' in r);
    if (cname && want !== 'CNAME') {
      answers.push([current, 'CNAME', cname.CNAME]);
      current = cname.CNAME.toLowerCase().replace(/\.$/, '');
      continue;
    }
    for (const r of records) {
      if (typeof r !== 'object') continue;
      const [type, value] = Object.entries(r)[0];
      if (type === want || (type === 'SPF' && want === 'TXT')) answers.push([current, type, value]);
    }
    return { rcode: RCODE.NOERROR, answers };
  }
  return { rcode: RCODE.SERVFAIL, answers: [] };
}

/** The response message to a query (bytes), built from the zone. */
export function respond(zone, queryBytes) {
  let query;
  try {
    query = parseQuery(queryBytes);
  } catch (err) {
    if (Buffer.from(queryBytes).length < 12) throw err;
    const header = Buffer.from(queryBytes).subarray(0, 12);
    const out = Buffer.alloc(12);
    out.writeUInt16BE(header.readUInt16BE(0), 0);
    out.writeUInt16BE(0x8000 | RCODE.FORMERR, 2);
    return out;
  }
  let rcode;
  let answers = [];
  if (query.qclass !== 1) {
    rcode = RCODE.NOTIMP;
  } else {
    ({ rcode, answers } = resolveInZone(zone, query.name, query.qtype));
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  // QR, AA, RD copied from the query, RA; the response code.
  header.writeUInt16BE(0x8000 | 0x0400 | (query.flags & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.question, ...answers.map(([n, t, v]) => record(n, t, v))]);
}
