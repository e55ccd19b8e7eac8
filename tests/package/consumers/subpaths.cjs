// Requires every subpath the installed package exports (run without require(esm), as on Node 20.0–20.18).
const subpaths = Object.keys(require("sqlspec/package.json").exports);
const out = [];
for (const subpath of subpaths) {
  if (subpath === "./package.json") continue;
  const name = subpath === "." ? "sqlspec" : `sqlspec/${subpath.slice(2)}`;
  if (!require.resolve(name).includes("/dist/cjs/")) throw new Error(`${name} resolved to ${require.resolve(name)}`);
  out.push([name, Object.keys(require(name)).length]);
}
console.log(JSON.stringify(out));
