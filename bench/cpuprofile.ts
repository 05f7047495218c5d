import { readFileSync } from "node:fs";
import path from "node:path";

/** Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, busiest first. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const short = (url: string) => {
  if (!url) return "(native)";
  const u = url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) return u.slice(nm + "node_modules/".length);
  const src = u.indexOf("/src/");
  if (src >= 0) return u.slice(src + 1);
  return u.startsWith("node:") ? u : path.basename(u);
};

const CLK_TCK = 100; // getconf CLK_TCK on Linux

/** A process's CPU time so far (user + system, every thread; µs) from /proc, or null. */
export function cpuUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Non-idle sampled time (µs): tells the main thread's profile from the loader worker's. */
export function busyTime(file: string): number {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) if (!idle.has(p.samples[i]!)) busy += p.timeDeltas[i] ?? 0;
  return busy;
}

export function summarizeCpuProfile(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") idle += us;
    const key = `${name}  ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fileKey = f.url
      ? short(f.url).replace(/^(@[^/]+\/[^/]+|[^/@][^/]*)\/.*$/, (m, pkg: string) =>
          m.startsWith("src/") ? m : `${pkg}/…`,
        )
      : name;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [
    `CPU profile ${file}`,
    `  ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle, ${(busy / 1e6).toFixed(1)} s busy; shares are of busy time`,
    "  top self time by function:",
  ];
  for (const [k, us] of [...fns]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${ms(us)} ${pct(us)}  ${k}`);
  lines.push("  self time by file / package:");
  for (const [k, us] of [...files]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${ms(us)} ${pct(us)}  ${k}`);
  return lines.join("\n");
}

// `tsx bench/cpuprofile.ts file.cpuprofile [top]` prints the summary of an existing profile.
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1])) && process.argv[2])
  console.log(summarizeCpuProfile(process.argv[2], Number(process.argv[3] ?? 25)));
