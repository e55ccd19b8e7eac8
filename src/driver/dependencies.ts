import { MissingDependencyError } from "../core/errors.js";

/**
 * Write every driver import as `() => import("pkg").catch(rethrow)`. The `.catch` tells bundlers (esbuild) that a
 * missing package is handled at run time, so an app bundles without the optional drivers it does not use; the
 * failure then reaches importDriver, which names the package.
 */
export function rethrow(err: unknown): never {
  throw err;
}

/**
 * Imports an optional driver package. A package that is not installed raises MissingDependencyError naming it;
 * any other failure (a broken install) is rethrown as is.
 */
export async function importDriver<M>(packageName: string, feature: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new MissingDependencyError(packageName, feature, err);
    }
    throw err;
  }
}
