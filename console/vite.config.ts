import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The web console: a static single-page app built into dist/console, which the server
 * serves at `/` and which ships with the package. `npm run dev:console` serves it with hot
 * reload and forwards /api to the server at MODELGOV_URL (default http://127.0.0.1:7070, the
 * CLI's own default), so a server moved with MODELGOV_PORT is found the same way the CLI finds it.
 */
const server = process.env.MODELGOV_URL ?? "http://127.0.0.1:7070";
export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.resolve(here, "../dist/console"), emptyOutDir: true, sourcemap: true },
  server: { proxy: { "/api": server, "/healthz": server } },
});
