import { runCli } from "../cli/main.ts";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against a harness's app, as the holder of `token`. */
export async function runCliAs(
  fetch: (input: string, init?: RequestInit) => Promise<Response>,
  token: string,
  argv: string[],
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    env: { MODELGOV_URL: "http://modelgov.test", MODELGOV_TOKEN: token },
    fetch,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}
