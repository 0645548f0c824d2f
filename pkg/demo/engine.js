// The package as the page uses it: the browser entry point of the built
// package one folder up (pkg/browser.js loads pkg/dist/spfgate_wasm_bg.wasm).
export {
  parseWhitelist, lintRecord, parseRecord, checkHost, dohResolver, Policy,
} from '../browser.js';
