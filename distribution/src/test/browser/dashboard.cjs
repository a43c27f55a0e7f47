// Loads a Meshwork node's dashboard in Debian's headless Chromium, waits until the live
// update (server-sent events) has rendered it, reads what the page shows from the DOM, saves
// a full-page screenshot, and prints one JSON document on stdout for the Java test to check.
//
// usage: node dashboard.cjs DASHBOARD_URL SCREENSHOT_PNG USER_DATA_DIR [TIMEOUT_MS]
"use strict";
const { chromium } = require("playwright-core");

const [url, screenshot, userDataDir, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg || 20000);

async function main() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const result = { url, screenshot, consoleErrors: [] };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("console", m => { if (m.type() === "error") result.consoleErrors.push(m.text()); });
    page.on("pageerror", e => result.consoleErrors.push(String(e)));
    await page.goto(url, { timeout });
    // The page is static until the first event arrives: wait for a rendered update.
    await page.waitForFunction(() => document.getElementById("conn").textContent.startsWith("live")
        && document.querySelectorAll("#peers tbody tr").length > 0, null, { timeout });
    Object.assign(result, await page.evaluate(readPage));
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

// Runs in the page: every table as rows of {header: cell text}; blank first cells of a
// peer's continuation rows (one row per channel) are filled from the row above.
function readPage() {
  function table(id) {
    const headers = [...document.querySelectorAll("#" + id + " thead th")].map(th => th.textContent.trim());
    const rows = [];
    let previous = null;
    for (const tr of document.querySelectorAll("#" + id + " tbody tr")) {
      const cells = [...tr.children];
      const row = {};
      cells.forEach((td, i) => { row[headers[i] || "c" + i] = td.textContent.trim(); });
      row._classes = cells.map(td => td.className);
      if (previous && cells[0].textContent.trim() === "" && headers[0] === "peer") {
        row.peer = previous.peer;
      }
      rows.push(row);
      previous = row;
    }
    return rows;
  }
  const text = id => document.getElementById(id).textContent.trim();
  return {
    title: text("title"),
    conn: text("conn"),
    listen: text("listen"),
    peers: table("peers"),
    health: table("health"),
    outbox: text("outbox"),
    dead: table("dead"),
    gateways: table("gateways"),
    counters: [...document.querySelectorAll("#counters tbody tr")].map(tr => [...tr.children].map(td => td.textContent.trim())),
  };
}

main().catch(e => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }) + "\n");
  process.exit(1);
});
