import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { parse as parseYaml } from "yaml";

/** Reads a JSON or YAML file (by extension; `-` is stdin). */
export function readDataFile(path: string): unknown {
  const text = path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
  return /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
}

export function readText(path: string): string {
  return path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
}

/** `--metric success_rate=0.93` → { success_rate: 0.93 }. */
export function collectMetric(value: string, prev: Record<string, number> = {}) {
  const m = /^([^=]+)=(.+)$/.exec(value);
  const n = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isFinite(n)) throw new InvalidArgumentError(`expected name=number, got '${value}'`);
  return { ...prev, [m[1]!]: n };
}

export const collect = (value: string, prev: string[] = []) => [...prev, value];

export function intArg(value: string) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
  return n;
}
