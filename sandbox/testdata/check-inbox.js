// Renders the sandbox's inbox page in headless Chromium (Debian's) through
// puppeteer-core and prints, as JSON, what a person watching `make dev`
// sees of its comms sections, for the sandbox's browser test to assert on.
//   node check-inbox.js URL SCREENSHOT.png
const puppeteer = require('puppeteer-core');

(async () => {
  const [url, shot] = process.argv.slice(2);
  const origin = new URL(url).origin;
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const outside = [];
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().startsWith(origin)) return r.continue();
      outside.push(r.url());
      return r.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    const sections = await page.evaluate(() => [...document.querySelectorAll('.comms section')].map((s) => {
      const box = s.getBoundingClientRect();
      return {
        id: s.id,
        heading: s.querySelector('h2').innerText,
        width: box.width,
        height: box.height,
        text: s.innerText,
        // A card whose content is wider than itself spills over its neighbours.
        overflowing: [...s.querySelectorAll('.card')].filter((c) => c.scrollWidth > c.clientWidth + 1).length,
      };
    }));
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(JSON.stringify({ title: await page.title(), sections, wide, outside, errors }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
