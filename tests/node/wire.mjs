// Builds DNS response messages (RFC 1035) from `{ records }`-style answers, so that the
// suite can run with every answer as wire bytes decoded by the package.

const TYPES = { A: 1, NS: 2, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28 };
const utf8 = new TextEncoder();

class Writer {
  bytes = [];
  u8(v) {
    this.bytes.push(v & 0xff);
  }
  u16(v) {
    this.u8(v >> 8);
    this.u8(v);
  }
  u32(v) {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  raw(b) {
    for (const x of b) this.u8(x);
  }
  name(name) {
    for (const label of name.replace(/\.$/, "").split(".").filter((l) => l.length)) {
      const b = utf8.encode(label);
      this.u8(b.length);
      this.raw(b);
    }
    this.u8(0);
  }
}

function ipv4(text) {
  return text.split(".").map(Number);
}

function ipv6(text) {
  let groups = [];
  let tail = [];
  const v4 = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const [a, b, c, d] = ipv4(v4[2]);
    tail = [(a << 8) | b, (c << 8) | d];
    text = v4[1].endsWith("::") ? v4[1] : v4[1].slice(0, -1);
  }
  const [head, rest] = text.split("::");
  const parse = (s) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  if (rest === undefined) groups = [...parse(head), ...tail];
  else {
    const h = parse(head);
    const r = [...parse(rest), ...tail];
    groups = [...h, ...Array(8 - h.length - r.length).fill(0), ...r];
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function rdata(type, record) {
  const w = new Writer();
  switch (type) {
    case "A":
      w.raw(ipv4(record));
      break;
    case "AAAA":
      w.raw(ipv6(record));
      break;
    case "MX":
      w.u16(record.preference);
      w.name(record.exchange);
      break;
    case "PTR":
      w.name(record);
      break;
    case "TXT": {
      const parts = typeof record === "string" ? [record] : record;
      for (const part of parts) {
        const b = utf8.encode(part);
        if (b.length === 0) w.u8(0);
        for (let i = 0; i < b.length; i += 255) {
          const chunk = b.subarray(i, i + 255);
          w.u8(chunk.length);
          w.raw(chunk);
        }
      }
      if (parts.length === 0) w.u8(0);
      break;
    }
  }
  return w.bytes;
}

/** The response message to a query for `name`/`type` carrying `answer`. */
export function encodeResponse(name, type, answer, id = 0) {
  const w = new Writer();
  const rcode = answer.nxdomain ? 3 : answer.error ? 2 : 0;
  const records = answer.records ?? [];
  w.u16(id);
  w.u16(0x8000 | 0x0100 | 0x0080 | rcode); // QR, RD, RA
  w.u16(1);
  w.u16(records.length);
  w.u16(0);
  w.u16(0);
  w.name(name);
  w.u16(TYPES[type]);
  w.u16(1);
  for (const record of records) {
    const data = rdata(type, record);
    w.name(name);
    w.u16(TYPES[type]);
    w.u16(1);
    w.u32(300);
    w.u16(data.length);
    w.raw(data);
  }
  return Uint8Array.from(w.bytes);
}
