import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The web console: a static single-page app built into dist/console, which the server
 * serves at `/` and which ships with the package. `npm run dev:console` serves it with hot
 * reload and forwards /api to a server on :7070.
 */
export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.resolve(here, "../dist/console"), emptyOutDir: true, sourcemap: true },
  server: { proxy: { "/api": "http://127.0.0.1:7070", "/healthz": "http://127.0.0.1:7070" } },
});
