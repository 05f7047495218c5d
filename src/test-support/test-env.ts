import { accessSync, constants } from "node:fs";

/**
 * The only variables of the caller's environment the test suite reads. They choose what a
 * run covers (a PostgreSQL server, a browser), never how modelgov behaves: a MODELGOV_ setting
 * in the caller's shell (an admin token, a database URL, a log level) reaches no test and no
 * server a test starts (servers get an explicit environment: loadConfig(…, env), hermeticEnv).
 * test-env.test.ts holds the tests and their helpers to this list.
 */
export const TEST_KNOBS = {
  MODELGOV_TEST_DATABASE_URL:
    "a PostgreSQL server on which the store-backed suites also run (a database per suite, dropped after); CI sets it",
  MODELGOV_TEST_CHROMIUM:
    "the Chromium (or Chrome) executable of the browser tests (default /usr/bin/chromium)",
  MODELGOV_TEST_REQUIRE_BROWSER:
    "1: a missing browser fails the browser tests instead of skipping them; CI sets it (.ci/run installs Chromium)",
} as const;

type Knob = keyof typeof TEST_KNOBS;
const knob = (name: Knob, env: NodeJS.ProcessEnv = process.env): string | undefined => env[name] || undefined;

export const testDatabaseUrl = (env?: NodeJS.ProcessEnv) => knob("MODELGOV_TEST_DATABASE_URL", env);

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

export interface BrowserCheck {
  /** The executable looked for. */
  executablePath: string;
  /** Set when it is missing: why the browser tests are skipped, and how to install one. */
  skip?: string;
  /** Set when it is missing and MODELGOV_TEST_REQUIRE_BROWSER=1: the browser tests fail with it. */
  failure?: string;
}

/**
 * Whether the browser tests can run: the executable is there, or why they are skipped and how
 * to make them run. Under MODELGOV_TEST_REQUIRE_BROWSER=1 a missing browser is also a `failure`.
 */
export function checkBrowser(env: NodeJS.ProcessEnv = process.env): BrowserCheck {
  const executablePath = knob("MODELGOV_TEST_CHROMIUM", env) ?? DEFAULT_CHROMIUM;
  try {
    accessSync(executablePath, constants.X_OK);
    return { executablePath };
  } catch {}
  const skip = `no browser at ${executablePath}: install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or point MODELGOV_TEST_CHROMIUM at a Chromium or Chrome executable`;
  return knob("MODELGOV_TEST_REQUIRE_BROWSER", env) === "1"
    ? { executablePath, skip, failure: `MODELGOV_TEST_REQUIRE_BROWSER=1 and ${skip}` }
    : { executablePath, skip };
}
