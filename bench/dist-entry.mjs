// The published bin's path, for benchmarks: run the build in dist/ (`npm run build` first).
await (await import("../dist/cli/main.js")).main();
