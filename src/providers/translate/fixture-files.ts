import { readFileSync } from "node:fs";
import { parseSse } from "../http/sse.ts";

/** Recorded wire-format fixtures (hand-written from each provider's documented examples). */
const dir = new URL("./fixtures/", import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, dir), "utf8");
}

export function fixtureJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** A recorded SSE file delivered in `size`-byte pieces (splitting lines, CRLFs and UTF-8 sequences). */
export async function* sseFixtureEvents<T>(name: string, size = 7): AsyncGenerator<T> {
  const bytes = readFileSync(new URL(name, dir));
  async function* pieces() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  for await (const ev of parseSse(pieces())) {
    if (ev.data !== "[DONE]") yield JSON.parse(ev.data) as T;
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
