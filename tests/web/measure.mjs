// SPDX-License-Identifier: Apache-2.0
// Time to interactive of the browser editor on loopback, for docs/PERFORMANCE.md: navigation start
// to the page's "sentinel-editor-ready" mark (languages and config loaded, Monaco created), in
// Chromium headless; cold (a fresh browser context each load: empty cache) and warm (reloads).
// Also the bytes of web/dist a first visit transfers (gzip, as sentinel-api serves them).
// Usage: SENTINEL_URL=http://127.0.0.1:8080 node tests/web/measure.mjs [loads]
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const BASE = process.env.SENTINEL_URL ?? 'http://127.0.0.1:8080';
const N = Number(process.argv[2] ?? 9);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dist = join(here, '..', '..', 'web', 'dist');
let raw = 0, gz = 0;
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.gz')) gz += statSync(p).size;
    else {
      raw += statSync(p).size;
      try { statSync(p + '.gz'); } catch { gz += statSync(p).size; }
    }
  }
};
walk(dist);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const ready = async (page) => {
  await page.waitForSelector('html[data-ready="true"]');
  return page.evaluate(() => performance.getEntriesByName('sentinel-editor-ready')[0].startTime);
};
const cold = [], warm = [];
let transferred = 0;
for (let i = 0; i < N; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  let bytes = 0;
  page.on('response', async (r) => {
    const len = Number((await r.allHeaders())['content-length'] ?? 0);
    bytes += len;
  });
  await page.goto(BASE + '/');
  cold.push(await ready(page));
  await page.waitForTimeout(300);
  if (i === 0) transferred = bytes;
  await page.reload();
  warm.push(await ready(page));
  await ctx.close();
}
// Run to verdict: Python's hello world, from the click to the badge (POST, WebSocket, render).
const runs = [];
{
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await ready(page);
  await page.selectOption('#language', 'python');
  for (let i = 0; i < N + 1; i++) {
    await page.$eval('#output', (o) => (o.dataset.state = 'before-run'));
    const t0 = Date.now();
    await page.click('#run');
    await page.waitForSelector('#output[data-state="done"]');
    if (i > 0) runs.push(Date.now() - t0); // the first run warms the connection and the worker
  }
  await ctx.close();
}
await browser.close();
const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
console.log(JSON.stringify({
  loads: N,
  cold_ms: { median: Math.round(median(cold)), min: Math.round(Math.min(...cold)), max: Math.round(Math.max(...cold)) },
  warm_ms: { median: Math.round(median(warm)), min: Math.round(Math.min(...warm)), max: Math.round(Math.max(...warm)) },
  run_to_verdict_ms: { median: median(runs), min: Math.min(...runs), max: Math.max(...runs) },
  dist_raw: kb(raw), dist_gzip: kb(gz), first_visit_transfer: kb(transferred),
}, null, 1));
