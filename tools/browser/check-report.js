// Renders `sitrep report` HTML in headless Chromium (Debian's) through
// puppeteer-core and prints what a manager's browser shows of its charts,
// as JSON, for cmd/sitrep's browser test to assert on.
//   node check-report.js REPORT.html SCREENSHOT.png
const puppeteer = require('puppeteer-core');

(async () => {
  const [file, shot] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const outside = [];
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().startsWith('file://')) return r.continue();
      outside.push(r.url());
      return r.abort();
    });
    await page.goto('file://' + file, { waitUntil: 'load' });
    const charts = await page.evaluate(() => [...document.querySelectorAll('svg.chart')].map((svg) => {
      const box = svg.getBoundingClientRect();
      const visible = (el) => { const b = el.getBoundingClientRect(); return b.width > 0 || b.height > 0; };
      return {
        id: svg.id,
        width: box.width,
        height: box.height,
        bars: [...svg.querySelectorAll('rect.bar')].map((b) => ({
          value: b.dataset.value, key: b.dataset.week || b.dataset.source, drawn: visible(b),
          fill: getComputedStyle(b).fill,
        })),
        points: [...svg.querySelectorAll('circle.point')].map((c) => ({
          series: c.classList.contains('mtta') ? 'mtta' : 'mttr', week: c.dataset.week, seconds: c.dataset.seconds, drawn: visible(c),
        })),
        lines: svg.querySelectorAll('polyline').length,
      };
    }));
    const tables = await page.evaluate(() => [...document.querySelectorAll('table.figures')].map((t) => t.dataset.group));
    await page.screenshot({ path: shot, fullPage: true });
    console.log(JSON.stringify({ title: await page.title(), charts, tables, outside, errors }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
