import { readFileSync } from "node:fs";
import ts from "typescript";

/**
 * Type tests that can fail for the right reason only. A fixture marks each line that must not compile with
 * `// @ts-expect-error TSnnnn why`. `tsc` alone only proves that *some* error occurs there; this compiles the fixtures
 * with the markers turned into plain comments and returns, per fixture, the error codes found on each line, so a test
 * can compare them with the codes the markers name (and see that no unmarked line fails).
 */
const MARKER = /\/\/ @ts-expect-error (TS\d+)/;

export interface FixtureReport {
  /** line (1-based) → the code its marker names, for the line after each marker */
  expected: Record<number, string>;
  /** line (1-based) → the first error code found there with the markers off */
  found: Record<number, string>;
  /** every message, for a readable failure */
  messages: string[];
}

/** Compiler options of a tsconfig file (paths, strictness), with overrides. */
export function tsconfigOptions(path: string, overrides: ts.CompilerOptions = {}): ts.CompilerOptions {
  const configFile = ts.readConfigFile(path, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, process.cwd());
  return { ...options, ...overrides, noEmit: true };
}

export function checkFixtures(files: readonly string[], options: ts.CompilerOptions): Map<string, FixtureReport> {
  const host = ts.createCompilerHost(options);
  const original = host.getSourceFile.bind(host);
  const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
  host.getSourceFile = (fileName, language, ...rest) => {
    const text = texts.get(fileName);
    if (text === undefined) return original(fileName, language, ...rest);
    return ts.createSourceFile(fileName, text.replace(/\/\/ @ts-expect-error/g, "// (expected error)"), language);
  };
  const program = ts.createProgram([...files], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const reports = new Map<string, FixtureReport>();
  for (const [file, text] of texts) {
    const expected: Record<number, string> = {};
    text.split("\n").forEach((line, i) => {
      const m = MARKER.exec(line);
      if (m) expected[i + 2] = m[1]!;
    });
    const found: Record<number, string> = {};
    const messages: string[] = [];
    for (const d of diagnostics) {
      if (d.file?.fileName !== file || d.start === undefined) continue;
      const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
      found[line] ??= `TS${d.code}`;
      messages.push(`${line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    }
    reports.set(file, { expected, found, messages });
  }
  // Errors outside the fixtures (in the library's own declarations) belong to the first report.
  const elsewhere = diagnostics.filter((d) => d.file === undefined || !texts.has(d.file.fileName));
  const first = reports.get(files[0]!);
  if (first) {
    for (const d of elsewhere) {
      first.messages.push(
        `${d.file?.fileName ?? "(global)"}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
      );
      first.found[0] = `TS${d.code}`;
    }
  }
  return reports;
}
