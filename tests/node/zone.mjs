// Answers lookups from an RFC 7208 test-suite `zonedata` map, with the suite drivers'
// conventions (as core/src/zone.rs): SPF records answer TXT queries unless the name
// lists a TXT record (`TXT: NONE` lists none); a query of a type with no record listed
// before a TIMEOUT times out; CNAMEs are followed; MX values are [preference, name].

const MAX_CNAME_HOPS = 16;

const normalize = (name) => name.replace(/\.+$/, "").toLowerCase();

/** A zone over `zonedata`; `resolve(name, type)` gives a `{ records }`-style answer. */
export class Zone {
  constructor(zonedata) {
    this.names = new Map();
    for (const [name, entries] of Object.entries(zonedata ?? {})) {
      const key = normalize(name);
      this.names.set(key, [...(this.names.get(key) ?? []), ...(entries ?? [])]);
    }
  }

  resolve(name, type) {
    let current = normalize(name);
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      const entries = this.names.get(current);
      if (!entries) return { nxdomain: true };
      const hasTxt = entries.some((e) => typeof e === "object" && "TXT" in e);
      const records = [];
      let cname;
      for (const entry of entries) {
        if (entry === "TIMEOUT") {
          if (records.length === 0) return { error: "timeout" };
          break;
        }
        const [rtype, value] = Object.entries(entry)[0];
        if (rtype === "CNAME") cname = normalize(value);
        else if (rtype === type && !(rtype === "TXT" && value === "NONE")) records.push(record(type, value));
        else if (rtype === "SPF" && type === "TXT" && !hasTxt) records.push(value);
      }
      if (cname !== undefined && records.length === 0) {
        current = cname;
        continue;
      }
      return { records };
    }
    return { error: "servfail" };
  }
}

function record(type, value) {
  switch (type) {
    case "MX":
      return { preference: value[0], exchange: value[1] };
    default:
      return value; // A, AAAA, PTR: text; TXT: a string or a list of character-strings
  }
}
