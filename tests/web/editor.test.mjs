// SPDX-License-Identifier: Apache-2.0
// The browser editor in Debian's Chromium (headless, driven by playwright-core) against a real
// stack: SENTINEL_URL is the sentinel-api that serves web/dist. Run by tests/web/test_web.py.
// Screenshots go to tests/web/out/ (or SENTINEL_WEB_OUT).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const BASE = process.env.SENTINEL_URL ?? 'http://127.0.0.1:8080';
const OUT = process.env.SENTINEL_WEB_OUT ?? join(here, 'out');
const CHROMIUM = process.env.SENTINEL_CHROMIUM ?? '/usr/bin/chromium';
const RUN_TIMEOUT = 90_000;
mkdirSync(OUT, { recursive: true });

let browser;
/** Console errors and uncaught exceptions of every page, checked once at the end. */
const consoleErrors = [];

async function newPage({ drafts = {}, language, viewport = { width: 1280, height: 800 }, allow = [] } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  if (Object.keys(drafts).length || language)
    await context.addInitScript(
      ([d, l]) => {
        if (sessionStorage.getItem('seeded')) return; // once per tab: reloads keep what the page saved
        sessionStorage.setItem('seeded', '1');
        for (const [k, v] of Object.entries(d)) localStorage.setItem(`sentinel:draft:${k}`, v);
        if (l) localStorage.setItem('sentinel:language', l);
      },
      [drafts, language],
    );
  const page = await context.newPage();
  const record = (text, where) => {
    if (!allow.some((re) => re.test(text))) consoleErrors.push(`${where}: ${text}`);
  };
  page.on('console', (m) => {
    if (m.type() === 'error') record(m.text(), page.url());
  });
  page.on('pageerror', (e) => record(`uncaught ${e.message}`, page.url()));
  page.setDefaultTimeout(RUN_TIMEOUT);
  return page;
}

async function openEditor(page, path = '/') {
  await page.goto(BASE + path);
  await page.waitForSelector('html[data-ready="true"]');
  await page.waitForSelector('.monaco-editor .view-lines');
}

async function runAndWait(page, how = 'button') {
  // A fast job may be done before "running" could be seen: wait for "done" of this run instead.
  await page.$eval('#output', (o) => (o.dataset.state = 'before-run'));
  if (how === 'button') await page.click('#run');
  else {
    await page.click('.monaco-editor .view-lines');
    await page.keyboard.press('Control+Enter');
  }
  await page.waitForSelector('#output[data-state="done"]');
}

async function editorText(page) {
  // Monaco renders the visible lines only; the programs here are short.
  return page.$$eval('.monaco-editor .view-lines .view-line', (lines) =>
    lines
      .map((l) => ({ top: parseFloat(l.style.top), text: l.textContent.replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text)
      .join('\n'),
  );
}

/** Waits until the rendered editor matches re (Monaco paints on the next animation frame). */
async function expectEditor(page, re) {
  await page
    .waitForFunction(
      ([src, flags]) =>
        new RegExp(src, flags).test(
          [...document.querySelectorAll('.monaco-editor .view-lines .view-line')]
            .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
            .map((l) => l.textContent.replace(/\u00a0/g, ' '))
            .join('\n'),
        ),
      [re.source, re.flags],
      { timeout: 10_000 },
    )
    .catch(async () => assert.fail(`editor: ${JSON.stringify(await editorText(page))} does not match ${re}`));
}

const outText = (page, stream) =>
  page.$$eval(`#out [data-stream="${stream}"]`, (els) => els.map((e) => e.textContent).join(''));

function deadPort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
});

describe('the page is served by sentinel-api', () => {
  test('index, shared links, assets, config, refusals', async () => {
    const r = await fetch(BASE + '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /worker-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const html = await r.text();
    const asset = /\/assets\/index-[\w-]+\.js/.exec(html)[0];
    const a = await fetch(BASE + asset, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(a.status, 200);
    assert.match(a.headers.get('content-type'), /^text\/javascript/);
    assert.match(a.headers.get('cache-control'), /immutable/);
    assert.equal((await fetch(BASE + '/s/01a24961-ee46-7473-bb17-8d0d179e5ada')).status, 200);
    for (const bad of ['/s/not-an-id', '/assets/..%2f..%2fetc%2fpasswd', '/assets/.vite', '/assets/nope.js', '/index.html'])
      assert.equal((await fetch(BASE + bad)).status, 404, bad);
    assert.equal((await fetch(BASE + '/', { method: 'POST' })).status, 405);
    const cfg = await (await fetch(BASE + '/api/v1/config')).json();
    assert.ok(cfg.ws_port > 0 && cfg.limits.default.cpu_time > 0, JSON.stringify(cfg));
  });
});

describe('running programs', () => {
  test("each language's hello world: streamed output and verdict", async () => {
    const langs = await (await fetch(BASE + '/api/v1/languages')).json();
    assert.ok(langs.length >= 1);
    for (const lang of langs) {
      const page = await newPage({ language: lang.id });
      const frames = [];
      page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
      await openEditor(page);
      assert.equal(await page.inputValue('#language'), lang.id);
      await page.fill('#stdin', 'Sentinel');
      await runAndWait(page, lang.id === 'python' ? 'keyboard' : 'button');
      assert.equal(await page.textContent('#badge'), 'Accepted', `${lang.id}: ${await page.textContent('#status')}`);
      assert.equal(await outText(page, 'stdout'), 'Hello, Sentinel!\n', lang.id);
      assert.equal(await page.textContent('[data-stat="exit"]'), '0');
      for (const s of ['cpu', 'wall', 'memory']) assert.match(await page.textContent(`[data-stat="${s}"]`), /\d/);
      const types = frames.map((f) => JSON.parse(f).type);
      assert.ok(types.includes('stdout') && types.at(-1) === 'result', `${lang.id}: frames ${types}`);
      assert.match(page.url(), /\/s\/[0-9a-f-]{36}$/);
      await page.screenshot({ path: join(OUT, `hello-${lang.id}.png`) });
      await page.context().close();
    }
  });

  test('stdout and stderr stream live and are told apart', async () => {
    const program =
      'import sys, time\nfor i in range(6):\n    print("tick", i, flush=True)\n' +
      '    print("warn", i, file=sys.stderr, flush=True)\n    time.sleep(0.4)\n';
    const page = await newPage({ drafts: { python: program }, language: 'python' });
    await openEditor(page);
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#out')?.textContent.includes('tick 1'));
    // Output arrived while the job still runs: no verdict yet.
    assert.equal(await page.getAttribute('#output', 'data-state'), 'running');
    assert.equal(await page.isVisible('#badge'), false);
    assert.equal(await page.textContent('#transport'), 'live');
    await page.screenshot({ path: join(OUT, 'streaming.png') });
    await page.waitForSelector('#output[data-state="done"]');
    assert.equal(await outText(page, 'stdout'), [0, 1, 2, 3, 4, 5].map((i) => `tick ${i}\n`).join(''));
    assert.equal(await outText(page, 'stderr'), [0, 1, 2, 3, 4, 5].map((i) => `warn ${i}\n`).join(''));
    const colors = await page.$$eval('#out [data-stream]', (els) => [...new Set(els.map((e) => getComputedStyle(e).color))]);
    assert.equal(colors.length, 2, 'stdout and stderr look different');
    await page.context().close();
  });

  test('a compile error shows the compiler output and marks the line', async () => {
    const program = '#include <stdio.h>\n\nint main(void)\n{\n        printf("%d\\n", undeclared);\n        return 0;\n}\n';
    const page = await newPage({ drafts: { c: program }, language: 'c' });
    await openEditor(page);
    await runAndWait(page);
    assert.equal(await page.textContent('#badge'), 'Compile error');
    assert.match(await page.textContent('#compile'), /main\.c:5:\d+: error: .*undeclared/);
    assert.equal(await page.getAttribute('#output', 'data-marked-line'), '5');
    await page.waitForSelector('.monaco-editor .squiggly-error');
    // The squiggle sits on line 5 (Monaco: 19 px lines at 14 px; compare with line 5's own top).
    const [squiggleTop, lineTop] = await page.evaluate(() => {
      const sq = document.querySelector('.monaco-editor .squiggly-error').parentElement;
      const lines = [...document.querySelectorAll('.monaco-editor .view-lines .view-line')].sort(
        (a, b) => parseFloat(a.style.top) - parseFloat(b.style.top),
      );
      return [parseFloat(sq.style.top), parseFloat(lines[4].style.top)];
    });
    assert.equal(squiggleTop, lineTop);
    await page.screenshot({ path: join(OUT, 'compile-error.png') });
    await page.context().close();
  });

  test('a runtime error marks the line its traceback names', async () => {
    const page = await newPage({ drafts: { python: 'total = 0\nfor i in range(3):\n    total += undefined_name\n' }, language: 'python' });
    await openEditor(page);
    await runAndWait(page);
    assert.equal(await page.textContent('#badge'), 'Runtime error');
    assert.match(await outText(page, 'stderr'), /NameError/);
    assert.equal(await page.getAttribute('#output', 'data-marked-line'), '3');
    await page.waitForSelector('.monaco-editor .squiggly-error');
    await page.context().close();
  });

  test('a time limit, set under the advanced fold', async () => {
    const page = await newPage({ drafts: { python: 'while True:\n    pass\n' }, language: 'python' });
    await openEditor(page);
    await page.click('summary:has-text("Advanced")');
    await page.fill('input[name="cpu_time"]', '0.5');
    await page.fill('input[name="wall_time"]', '3');
    await runAndWait(page);
    assert.equal(await page.textContent('#badge'), 'Time limit exceeded');
    assert.ok((await page.getAttribute('#badge', 'class')).includes('limit'));
    await page.screenshot({ path: join(OUT, 'time-limit.png') });
    await page.context().close();
  });
});

describe('when things go wrong', () => {
  test('WebSocket unreachable: polling gives the result', async () => {
    const port = await deadPort();
    const page = await newPage({
      drafts: { python: 'import time\ntime.sleep(0.5)\nprint("polled")\n' },
      language: 'python',
      allow: [new RegExp(`WebSocket connection to 'ws://[^']*:${port}/`)],
    });
    // The page is told a WebSocket port where nothing listens (the page's CSP, which names the
    // real port, is widened to it so that the browser really tries and is refused).
    await page.route('**/api/v1/config', async (route) => {
      const resp = await route.fetch();
      const cfg = await resp.json();
      await route.fulfill({ response: resp, json: { ...cfg, ws_port: port } });
    });
    await page.route(/\/(s\/[^/]+)?$/, async (route) => {
      if (route.request().resourceType() !== 'document') return route.fallback();
      const resp = await route.fetch();
      const headers = resp.headers();
      headers['content-security-policy'] = headers['content-security-policy'].replace(
        'connect-src',
        `connect-src ws://127.0.0.1:${port}`,
      );
      await route.fulfill({ response: resp, headers });
    });
    await openEditor(page);
    await page.click('#run');
    await page.waitForSelector('#transport[data-transport="polling"]');
    await page.waitForSelector('#output[data-state="done"]');
    assert.equal(await page.textContent('#badge'), 'Accepted');
    assert.equal(await outText(page, 'stdout'), 'polled\n');
    await page.screenshot({ path: join(OUT, 'polling.png') });
    await page.context().close();
  });

  test('the WebSocket drops mid-run: the page reconnects, nothing lost or doubled', async () => {
    const program = 'import time\nfor i in range(8):\n    print("line", i, flush=True)\n    time.sleep(0.25)\n';
    const page = await newPage({ drafts: { python: program }, language: 'python' });
    let connections = 0;
    await page.routeWebSocket(/\/ws\/submissions\//, (ws) => {
      const n = ++connections;
      const server = ws.connectToServer();
      let seen = 0;
      server.onMessage((m) => {
        ws.send(m);
        if (n === 1 && ++seen === 3) {
          server.close();
          ws.close({ code: 4000, reason: 'test: dropped' });
        }
      });
    });
    await openEditor(page);
    await runAndWait(page);
    assert.ok(connections >= 2, `connections: ${connections}`);
    assert.equal(await page.textContent('#badge'), 'Accepted');
    assert.equal(await outText(page, 'stdout'), [...Array(8).keys()].map((i) => `line ${i}\n`).join(''));
    await page.context().close();
  });

  test('API errors in words: 422 names the field, 413, 429 with the wait', async () => {
    // Chromium itself logs every 4xx answer to a fetch; these three are provoked on purpose.
    const page = await newPage({
      language: 'python',
      allow: [/Failed to load resource: the server responded with a status of (422|429|413)/],
    });
    await openEditor(page);
    await page.click('summary:has-text("Advanced")');
    await page.fill('input[name="memory"]', '999999');
    await page.click('#run');
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.textContent('#banner'), /memory limit/);
    assert.equal(await page.getAttribute('input[name="memory"]', 'aria-invalid'), 'true');
    await page.fill('input[name="memory"]', '');

    let reply = { status: 429, headers: { 'Retry-After': '7' }, code: 'rate_limited', message: 'too many requests' };
    await page.route('**/api/v1/submissions', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            status: reply.status,
            headers: reply.headers,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: reply.code, message: reply.message, field: null } }),
          })
        : route.fallback(),
    );
    await page.click('#run');
    await page.waitForFunction(() => /try again in 7 seconds/.test(document.querySelector('#banner').textContent));
    reply = { status: 413, headers: {}, code: 'body_too_large', message: 'the body is larger than 32768 KiB' };
    await page.click('#run');
    await page.waitForFunction(() => /Too large/.test(document.querySelector('#banner').textContent));
    await page.screenshot({ path: join(OUT, 'api-error.png') });
    await page.context().close();
  });
});

describe('a server with API keys', () => {
  test('401: the page asks for a key, keeps it, and sends it as a Bearer token', async () => {
    const page = await newPage({
      language: 'python',
      allow: [/Failed to load resource: the server responded with a status of 401/],
    });
    const KEY = 'snk_browser-test-key';
    const seen = [];
    // This stack has no keys (its /api is open): the keyed server is played by the route.
    await page.route('**/api/v1/**', (route) => {
      const auth = route.request().headers()['authorization'] ?? null;
      seen.push(auth);
      if (auth === `Bearer ${KEY}`) return route.continue();
      return route.fulfill({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer' },
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unauthorized', message: 'an API key is required', field: 'Authorization' } }),
      });
    });
    await page.goto(BASE + '/');
    await page.waitForSelector('#key-form:not([hidden])');
    assert.match(await page.textContent('#banner'), /requires an API key/);
    await page.fill('#api-key', KEY);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('html[data-ready="true"]');
    await runAndWait(page);
    assert.equal(await page.textContent('#badge'), 'Accepted');
    assert.ok(seen.includes(`Bearer ${KEY}`) && seen.at(-1) === `Bearer ${KEY}`, JSON.stringify(seen));
    await page.context().close();
  });
});

describe('history, share links, drafts', () => {
  test('history reopens a run; its share link loads code and result', async () => {
    const program = 'print("shared", 6 * 7)\n';
    const page = await newPage({ drafts: { python: program }, language: 'python' });
    await openEditor(page);
    await runAndWait(page);
    const shared = page.url();
    const id = shared.split('/s/')[1];
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(await page.getAttribute('#share', 'href'), `${BASE}/s/${id}`);

    // Another tab, another program: then reopen the first from the history.
    await page.goto(BASE + '/');
    await page.waitForSelector('html[data-ready="true"]');
    await page.selectOption('#language', 'bash');
    await page.waitForSelector(`#history-list a[data-id="${id}"]`);
    await page.click(`#history-list a[data-id="${id}"]`);
    await page.waitForSelector('#output[data-state="done"]');
    assert.equal(page.url(), shared);
    assert.equal(await page.inputValue('#language'), 'python');
    assert.equal(await outText(page, 'stdout'), 'shared 42\n');
    await expectEditor(page, /^print\("shared", 6 \* 7\)\s*$/);

    // The link alone, in a fresh browser context (no drafts, no history).
    const other = await newPage();
    await openEditor(other, `/s/${id}`);
    await other.waitForSelector('#output[data-state="done"]');
    assert.equal(await other.textContent('#badge'), 'Accepted');
    assert.equal(await outText(other, 'stdout'), 'shared 42\n');
    await expectEditor(other, /^print\("shared", 6 \* 7\)\s*$/);
    await other.screenshot({ path: join(OUT, 'share-link.png') });
    await other.context().close();
    await page.context().close();
  });

  test('drafts are kept per language across reloads', async () => {
    const page = await newPage({ language: 'javascript' });
    await openEditor(page);
    await expectEditor(page, /readFileSync/); // the starter
    await page.click('.monaco-editor .view-lines');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n// my draft');
    await page.waitForTimeout(500); // drafts are saved 300 ms after the last key
    await page.selectOption('#language', 'bash');
    await expectEditor(page, /read -r name/);
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.inputValue('#language'), 'bash');
    await page.selectOption('#language', 'javascript');
    await expectEditor(page, /\/\/ my draft/);
    await page.context().close();
  });
});

describe('layout and keyboard', () => {
  test('phone width: one column, nothing wider than the screen', async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 }, language: 'python' });
    await openEditor(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${overflow} px wider than the viewport`);
    assert.ok(await page.isVisible('#run'));
    await runAndWait(page);
    assert.equal(await page.textContent('#badge'), 'Accepted');
    await page.screenshot({ path: join(OUT, 'phone.png'), fullPage: true });
    await page.context().close();
  });

  test('dark scheme follows the system', async () => {
    const page = await newPage({ language: 'python' });
    await page.emulateMedia({ colorScheme: 'dark' });
    await openEditor(page);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(30, 30, 30)');
    assert.ok(await page.$('.monaco-editor.vs-dark'));
    await page.screenshot({ path: join(OUT, 'dark.png') });
    await page.context().close();
  });

  test('keyboard only: Tab reaches the controls, Ctrl+Enter runs from the input', async () => {
    const page = await newPage({ language: 'python' });
    await openEditor(page);
    const active = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    const reached = [];
    for (let i = 0; i < 8 && !reached.includes('run'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await active());
    }
    assert.ok(reached.indexOf('language') >= 0 && reached.indexOf('language') < reached.indexOf('run'), `${reached}`);
    // Tab indents inside Monaco; Ctrl+M switches Tab to moving the focus, as the editor's label says.
    await page.click('.monaco-editor .view-lines');
    await page.keyboard.press('Control+m');
    await page.keyboard.press('Tab');
    assert.ok(!(await page.evaluate(() => document.activeElement?.closest('.monaco-editor'))), 'Tab left the editor');
    await page.focus('#stdin');
    await page.keyboard.type('keys');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#output[data-state="done"]');
    assert.equal(await outText(page, 'stdout'), 'Hello, keys!\n');
    await page.context().close();
  });

  test('the README screenshot', async () => {
    const program =
      'import sys\n\nname = sys.stdin.readline().strip() or "world"\nfor i in range(3):\n' +
      '    print(f"Hello, {name}! ({i})", flush=True)\nprint("and a line on stderr", file=sys.stderr)\n';
    const page = await newPage({ drafts: { python: program }, language: 'python' });
    await openEditor(page);
    await page.fill('#stdin', 'Sentinel');
    await runAndWait(page);
    await page.screenshot({ path: join(OUT, 'editor.png') });
    await page.context().close();
  });
});

describe('console', () => {
  test('no console errors on any page', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
