// SPDX-License-Identifier: Apache-2.0
// The editor's build: hashed files below assets/ (served immutable by sentinel-api), the Monaco
// editor worker as a file of its own (same origin: the page's CSP allows 'self' workers only), and a
// .gz sibling of every text file that sentinel-api sends to clients that take gzip.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

function gzipSiblings(): Plugin {
  let outDir = 'dist';
  return {
    name: 'sentinel-gzip-siblings',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): void => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) walk(path);
          else if (/\.(js|css|html|svg|ttf|json)$/.test(name)) {
            const data = readFileSync(path);
            const gz = gzipSync(data, { level: 9 });
            if (gz.length < data.length * 0.9) writeFileSync(path + '.gz', gz);
          }
        }
      };
      walk(outDir);
    },
  };
}

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 4096,
    modulePreload: { polyfill: false },
  },
  plugins: [gzipSiblings()],
});
