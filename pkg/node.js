// Entry point for Node.js (>= 20): loads the WebAssembly module from the package folder.
import { readFileSync } from "node:fs";
import { initSync } from "./dist/spfgate_wasm.js";

initSync({ module: readFileSync(new URL("./dist/spfgate_wasm_bg.wasm", import.meta.url)) });

export * from "./api.js";
