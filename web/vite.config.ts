/// <reference types="vitest/config" />
/// <reference types="node" />
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const SWAGGER_FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "swagger-ui.css",
  "LICENSE",
  "NOTICE",
];

/**
 * Ship Swagger UI with the build (served by Python's /docs from /static/app/docs/), so the
 * API docs need no CDN. Source-map comments are dropped: the maps are not shipped.
 */
function swaggerUi(): Plugin {
  const require = createRequire(import.meta.url);
  return {
    name: "synapse-swagger-ui",
    apply: "build",
    generateBundle() {
      for (const name of SWAGGER_FILES) {
        const text = readFileSync(require.resolve(`swagger-ui-dist/${name}`), "utf8");
        const source = text.replace(/\n?\/\*# sourceMappingURL=[^*]*\*\/\s*$/, "\n");
        this.emitFile({ type: "asset", fileName: `docs/${name}`, source });
      }
    },
  };
}

// The build is committed under serve/static/app and served by Python at /static/app/, so a
// running Synapse needs no Node. web/check.sh rebuilds into a temporary folder and compares.
export default defineConfig({
  base: "/static/app/",
  plugins: [react(), swaggerUi()],
  build: {
    outDir: "../serve/static/app",
    emptyOutDir: true,
    target: "es2022",
    // The polyfill would be an inline script, which the CSP (default-src 'self') refuses.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` against a running Synapse: log in once on the proxied origin.
    proxy: { "/api": "http://127.0.0.1:8000", "/health": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    restoreMocks: true,
  },
});
