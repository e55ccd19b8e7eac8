/** What every bench part shares: a seeded random source (the same sequence every run), timing, medians, shuffles. */

let seed = 12345;
/** The next number of a seeded linear congruential sequence (0 … 2^31-1). */
export function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
}

/** One measured run: throughput and client CPU per operation. */
export interface Sample {
  qps: number;
  cpuUs: number;
}

/** Runs `body` (n operations) once and measures its wall time and this process's CPU. */
export async function measure(body: () => Promise<unknown>, n: number): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await body();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c0);
  return { qps: n / (wall / 1000), cpuUs: (cpu.user + cpu.system) / n };
}

/** A new random order each round: no contender always follows the same one (and pays for its garbage). */
export function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
