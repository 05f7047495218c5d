/**
 * The package's main entry (`import … from "modelgov"`): run the server from your own process, and
 * talk to one. The statistics and fairness engines have their own entries (`modelgov/stats`,
 * `modelgov/fairness`), the typed client also lives at `modelgov/client`.
 */
export { type Client, type ClientOptions, createClient } from "./client/index.ts";
export { type Config, loadConfig } from "./config.ts";
export { startServer } from "./main.ts";
