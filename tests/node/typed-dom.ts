// Typed usage in a browser setting (lib "dom"): the global fetch and URL fit dohResolver.
import { checkHost, dohResolver } from "spfgate";

export const resolve = dohResolver(new URL("https://dns.example/dns-query"), { fetch, timeout: 2000 });
export const wrapped = dohResolver("https://dns.example/dns-query", { fetch: (input, init) => fetch(input, init) });
export const outcome = checkHost({ ip: "192.0.2.1", mailFrom: "a@example.com", helo: "mx.example.com" }, resolve);
