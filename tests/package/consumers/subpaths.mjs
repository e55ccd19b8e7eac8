// Imports every subpath the installed package exports; none may need a driver package at import time.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const subpaths = Object.keys(require("sqlspec/package.json").exports);
const out = [];
for (const subpath of subpaths) {
  if (subpath === "./package.json") continue;
  const name = subpath === "." ? "sqlspec" : `sqlspec/${subpath.slice(2)}`;
  const mod = await import(name);
  out.push([name, Object.keys(mod).length]);
}
console.log(JSON.stringify(out));
