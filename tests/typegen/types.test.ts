import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const GOOD = fileURLToPath(new URL("./consumer/good.ts", import.meta.url));
const BAD = fileURLToPath(new URL("./consumer/bad.ts", import.meta.url));
const MARKER = /\/\/ @ts-expect-error (TS\d+)/;

/** Compiles the consumer files with the project's compiler options; bad.ts with its @ts-expect-error markers off. */
function compile(): { good: ts.Diagnostic[]; bad: ts.Diagnostic[] } {
  const configFile = ts.readConfigFile("tsconfig.json", ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, process.cwd());
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, ...rest) => {
    if (fileName === BAD) {
      const text = readFileSync(BAD, "utf8").replace(/\/\/ @ts-expect-error/g, "// (expected error)");
      return ts.createSourceFile(fileName, text, language);
    }
    return original(fileName, language, ...rest);
  };
  const program = ts.createProgram([GOOD, BAD], { ...options, noEmit: true }, host);
  const all = ts.getPreEmitDiagnostics(program);
  return { good: all.filter((d) => d.file?.fileName === GOOD), bad: all.filter((d) => d.file?.fileName === BAD) };
}

describe("typed use of the generated module (tsc over consumer files)", () => {
  const { good, bad } = compile();

  test("the correct consumer compiles without errors", () => {
    expect(good.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });

  test("a wrong parameter name, a wrong parameter type and nullable misuse are compile errors, each where marked", () => {
    const lines = readFileSync(BAD, "utf8").split("\n");
    const expected = new Map<number, string>(); // 0-based line of the statement → expected code
    lines.forEach((line, i) => {
      const m = MARKER.exec(line);
      if (m) expected.set(i + 1, m[1]!);
    });
    expect(expected.size).toBe(9);
    const found = new Map<number, string[]>();
    for (const d of bad) {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start!);
      found.set(line, [...(found.get(line) ?? []), `TS${d.code}`]);
    }
    // every marked statement fails with its code, and nothing else fails
    expect(Object.fromEntries([...found].map(([l, codes]) => [l, codes[0]]))).toEqual(Object.fromEntries(expected));
  });
});
