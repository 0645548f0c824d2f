// Entry point for browsers and bundlers: fetches the WebAssembly module next to this file
// (`new URL(..., import.meta.url)`, which bundlers understand) and instantiates it.
import init from "./dist/spfgate_wasm.js";

await init({ module_or_path: new URL("./dist/spfgate_wasm_bg.wasm", import.meta.url) });

export * from "./api.js";
