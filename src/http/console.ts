/**
 * Serves the web console (console/, built by Vite into dist/console) at `/`: hashed assets
 * with a long cache, and index.html for every other page path so the single-page app's
 * routes work on reload. API, gateway and probe paths pass through untouched.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import type { AppEnv } from "./context.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Paths the console never answers. */
const NOT_CONSOLE = /^\/(api|v1|healthz|readyz|metrics)(\/|$)/;
// Recharts draws with inline styles; everything else comes from this origin.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** dist/console beside the running code (src/http → ../../dist/console, dist/http → ../console), or MODELGOV_CONSOLE_DIR. */
export function findConsoleDir(override?: string): string | null {
  const candidates = override
    ? [override]
    : [path.resolve(here, "../console"), path.resolve(here, "../../dist/console")];
  return candidates.find((d) => existsSync(path.join(d, "index.html"))) ?? null;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>modelgov</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>modelgov</h1><p>The web console is not built in this checkout. Run <code>npm run build:console</code>
(or <code>npm start</code>, which builds it), then reload. The API is at <a href="/api/v1/openapi.json">/api/v1</a>.</p>`;

export function consoleRoutes(dir: string | null) {
  const app = new Hono<AppEnv>();
  const page = (html: string) => (c: import("hono").Context<AppEnv>) => {
    c.header("cache-control", "no-cache");
    c.header("content-security-policy", CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    return c.html(html);
  };
  if (!dir) {
    app.get("/", page(NOT_BUILT));
    return app;
  }
  const index = readFileSync(path.join(dir, "index.html"), "utf8");
  // Asset names carry a content hash: a new build is a new name, so they may be cached for good.
  app.use("/assets/*", async (c, next) => {
    await next();
    if (c.res.status === 200) c.res.headers.set("cache-control", "public, max-age=31536000, immutable");
  });
  app.use("/assets/*", serveStatic({ root: path.relative(process.cwd(), dir) || "." }));
  const html = page(index);
  app.get("*", async (c, next) => {
    if (NOT_CONSOLE.test(c.req.path) || c.req.path.startsWith("/assets/")) return next();
    return html(c);
  });
  return app;
}
