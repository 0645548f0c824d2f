// Both languages of the settings page have the same texts and placeholders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { t, setLanguage } from '../../pkg/demo/i18n.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function tables() {
  const source = await readFile(path.join(here, '../../pkg/demo/i18n.js'), 'utf8');
  const table = (name) => {
    const body = source.slice(source.indexOf(`const ${name} = {`), source.indexOf('};', source.indexOf(`const ${name} = {`)));
    return new Map([...body.matchAll(/^\s*'([^']+)':\s*'((?:[^'\\]|\\.)*)',?$/gm)].map((m) => [m[1], m[2]]));
  };
  return { de: table('de'), en: table('en') };
}

test('German and English have the same keys and placeholders', async () => {
  const { de, en } = await tables();
  assert.ok(de.size > 100, `read ${de.size} German texts`);
  // Lint findings come in English from the package; German has its own texts.
  const shared = (m) => [...m.keys()].filter((k) => !k.startsWith('lint.')).sort();
  assert.deepEqual(shared(de), shared(en));
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, text] of de) if (en.has(key)) assert.deepEqual(holes(text), holes(en.get(key)), key);
});

test('every finding code of lintRecord has a German text', async () => {
  const { de } = await tables();
  const docs = await readFile(path.join(here, '../../core/src/lint/mod.rs'), 'utf8');
  // The first table of the module documentation lists lintRecord's codes.
  const table = docs.slice(docs.indexOf('//! # Finding codes'), docs.indexOf('//! The tree analysis adds'));
  const codes = [...table.matchAll(/^\/\/! \| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  assert.ok(codes.length >= 19, `found ${codes.length} codes`);
  for (const code of codes) assert.ok(de.has(`lint.${code}`), `lint.${code}`);
});

test('placeholders are filled and singular forms chosen', () => {
  setLanguage('de');
  assert.equal(t('whitelist.errors', { n: 1 }), '1 Fehler');
  assert.equal(t('whitelist.entries', { n: 4 }), '4 Einträge');
  setLanguage('en');
  assert.equal(t('whitelist.entries', { n: 1 }), '1 entry');
  assert.equal(t('spf.lookups', { n: 3 }), 'DNS lookups during a check: 3 of 10');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('fr');
  assert.equal(t('action.accept'), 'Annehmen', 'unknown languages fall back to German');
});
