// Small text helpers for the settings page.

/** Maps UTF-8 byte offsets of `text` (the core's spans) to JS string indices. */
export function byteIndexer(text) {
  const starts = []; // starts[i] = byte offset of UTF-16 index i
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    starts.push(bytes);
    const code = text.codePointAt(i);
    if (code > 0xffff) {
      starts.push(bytes); // the low surrogate shares the code point's offset
      bytes += 4;
      i += 1;
    } else {
      bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    }
  }
  starts.push(bytes);
  return (byte) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= byte) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
}

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * `text` split into text nodes and <mark> elements for the given ranges
 * ({ start, end, severity, title }, JS indices; overlaps keep the first).
 */
export function marked(text, ranges) {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || b.end - a.end);
  const out = [];
  let at = 0;
  for (const r of sorted) {
    if (r.start < at) continue;
    if (r.start > at) out.push(text.slice(at, r.start));
    const end = Math.max(r.start, Math.min(r.end, text.length));
    // An empty range marks a position (e.g. where `-all` belongs).
    const content = end > r.start ? text.slice(r.start, end) : '\u200b';
    out.push(el('mark', { class: r.severity, title: r.title, dataset: r.data ?? {} }, content));
    at = end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
