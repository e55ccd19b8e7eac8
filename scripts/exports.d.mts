/** Declarations for scripts/exports.mjs (imported by tests/package/packaging.test.ts). */
export declare const root: string;
export declare const PUBLIC: readonly string[];
export declare function entryPoints(srcDir?: string): [subpath: string, file: string][];
export declare function expectedExports(srcDir?: string): Record<string, unknown>;
export declare function expectedTypesVersions(srcDir?: string): Record<string, Record<string, string[]>>;
export declare const LEGACY_FIELDS: { main: string; module: string; types: string };
export declare function expectedSideEffects(srcDir?: string): string[];
export declare function derivedFields(srcDir?: string): Record<string, unknown>;
export declare function exportsDrift(pkg?: Record<string, unknown>): string[];
