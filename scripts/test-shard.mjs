// One test process for several test files (scripts/run-tests.mjs): imports them in order, so
// node:test runs their tests one file after another in this process. Each file in its own
// process (what `node --test` does) costs about a second of CPU to start Node and tsx and load
// the modules again; over a hundred files on two cores that was a minute of the suite's time.
import path from "node:path";
import { pathToFileURL } from "node:url";

for (const file of process.argv.slice(2)) await import(pathToFileURL(path.resolve(file)).href);
