// An annotator logs in to the Argilla web UI, picks one label for the first pending record and
// submits it. Usage: node annotate.js API_URL DATASET_ID USERNAME PASSWORD OPTION_ID SCREENSHOT
// (OPTION_ID is the id of the option's checkbox, e.g. preference_a). Prints "submitted".
// The password comes from the environment variable ANNOTATOR_PASSWORD when PASSWORD is "-".
const { chromium } = require('playwright-core');

const [url, datasetId, username, passwordArg, optionId, screenshot] = process.argv.slice(2);
const password = passwordArg === '-' ? process.env.ANNOTATOR_PASSWORD : passwordArg;

(async () => {
  const userDataDir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'chromium-'));
  // an empty --user-data-dir: playwright passes it for a persistent context
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(60000);
    await page.goto(`${url}/sign-in`);
    await page.fill('input[name=Username]', username);
    await page.fill('input[name=Password]', password);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
    await page.goto(`${url}/dataset/${datasetId}/annotation-mode`);
    await page.click(`label[for=${optionId}]`);
    const saved = page.waitForResponse((r) => r.url().includes('/responses')
      && ['POST', 'PUT'].includes(r.request().method()));
    await page.click('button.button--submit:not([disabled])');
    const resp = await saved;
    await page.screenshot({ path: screenshot, fullPage: true });
    if (resp.status() >= 300) throw new Error(`saving the response answered ${resp.status()}`);
    console.log('submitted');
  } finally {
    await browser.close();
    require('fs').rmSync(userDataDir, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
