// The console's Users → Import page as an administrator uses it (issue 15): a small CSV with one
// bad row is uploaded (playwright's setInputFiles), the check's report shows the refused row
// first and writes nothing, the file is applied, the job's progress ends (htmx polls the page),
// and the report is downloaded. The Rust side checks the users that exist afterwards.
const fs = require("node:fs");

module.exports = ({ input, tenantPath, log, expect, checkPage, signInTo, waitForPath }) => ({
  async console_import({ page }) {
    const users = `${tenantPath}/console/users`;
    await signInTo(page, users);
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Import", exact: true }).click();
    await waitForPath(page, `${users}/import`);
    await page.getByRole("heading", { name: "Import users", level: 1 }).waitFor();
    await checkPage(page, "import");

    log("upload a CSV with one bad row");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("CSV file").setInputFiles({
      name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(input.csv, "utf8"),
    });
    await page.getByRole("button", { name: "Check the file" }).click();
    await page.getByRole("heading", { name: "Import check", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Checked: nothing was written" }).waitFor();
    const status = await page.locator("#job-status [role=status]").innerText();
    expect(/Would create 2,.*refused 1/.test(status), `the check's counts: ${status}`);
    const first = page.locator("table.audit tbody tr").first();
    const firstOutcome = await first.locator("td[data-label=Outcome]").innerText();
    const firstLine = await first.locator("td[data-label=Line]").innerText();
    const reason = await first.locator("td[data-label=Reason]").innerText();
    expect(firstOutcome === "refused", `the refused row comes first, not ${firstOutcome}`);
    expect(firstLine === input.bad_line, `line ${input.bad_line} is refused, not ${firstLine}`);
    expect(reason.length > 5, `the refusal says why: ${reason}`);
    const rows = await page.locator("table.audit tbody tr").count();
    expect(rows === 3, `a report line per row, not ${rows}`);
    await checkPage(page, "import-checked");

    log("apply the file");
    await page.setViewportSize({ width: 1280, height: 800 });
    const checked = new URL(page.url()).pathname;
    await page.getByRole("button", { name: "Apply the file" }).click();
    await page.waitForURL((u) => u.pathname !== checked && /\/import\/[^/]+$/.test(u.pathname));
    await page.getByRole("heading", { name: "Import", level: 1 }).waitFor();
    // Running first (htmx polls), then done: the page is reloaded with the report.
    await page.getByRole("heading", { name: "Done" }).waitFor({ timeout: 30000 });
    const done = await page.locator("#job-status [role=status]").innerText();
    expect(/Created 2,.*refused 1/.test(done), `the import's counts: ${done}`);
    const progress = await page.locator("#job-progress").getAttribute("value");
    expect(progress === "100", `the progress ended at 100, not ${progress}`);
    expect(await page.getByRole("button", { name: "Apply the file" }).count() === 0,
      "an applied file cannot be applied again");
    await checkPage(page, "import-done");

    log("download the report");
    await page.setViewportSize({ width: 1280, height: 800 });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download the report (CSV)" }).click(),
    ]);
    const report = fs.readFileSync(await download.path(), "utf8");
    log(`report ${download.suggestedFilename()}: ${report.split("\n").length} lines`);
    expect(download.suggestedFilename().endsWith("-report.csv"), download.suggestedFilename());
    return { report, filename: download.suggestedFilename() };
  },
});
