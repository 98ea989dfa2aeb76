// "Forgot password" (issue 15, account email): from the sign-in page the person asks for a
// link, reads the mail that the SMTP sink received (written as JSON files in `input.sink_dir`),
// opens the link, chooses a new password, and signs in with it. Every page state is checked
// with axe-core at desktop and phone widths.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

/// The link under `marker` in the plain-text part of the newest mail to `to` in `dir`, waiting
/// for it to arrive.
async function mailedLink(dir, to, marker, expect) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const files = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !f.startsWith("."))
      : [];
    for (const file of files) {
      const mail = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
      const rcpt = mail.headers.find(([name]) => name.toLowerCase() === "to");
      const text = mail.parts.find((p) => p.content_type === "text/plain");
      if (!rcpt || rcpt[1] !== to || !text) continue;
      const found = text.body.split(/\s+/).find((word) => word.includes(marker));
      if (found) return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(false, `a mail to ${to} with a link to ${marker} arrived`);
  return "";
}

module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInWithPassword, waitForPath }) => ({
  async forgot_password({ page }) {
    log("the sign-in page offers a way back in");
    await page.goto(`${base}${tenantPath}/login`);
    await checkPage(page, "login-with-forgot");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByRole("heading", { name: "Forgot your password?" }).waitFor();
    await checkPage(page, "forgot");
    await page.getByLabel("Email address").fill(input.email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByRole("heading", { name: "Check your mail" }).waitFor();
    await page.getByText("works once, for 30 minutes").waitFor();
    await checkPage(page, "forgot-sent");

    log("read the mail and open its link");
    const link = await mailedLink(input.sink_dir, input.email, `${tenantPath}/reset?link=`, expect);
    expect(link.startsWith(`${base}${tenantPath}/reset?link=`), `the link: ${link}`);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await checkPage(page, "reset");

    log("a password that differs is refused, then the new password is set");
    await page.getByLabel("New password").fill(input.password);
    await page.getByLabel("The same password again").fill(`${input.password} typo`);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByText("The two passwords are not the same.").waitFor();
    await checkPage(page, "reset-mismatch");
    await page.getByLabel("New password").fill(input.password);
    await page.getByLabel("The same password again").fill(input.password);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByRole("heading", { name: "Your password was changed" }).waitFor();
    await checkPage(page, "reset-done");

    log("sign in with the new password");
    await page.getByRole("link", { name: "Sign in" }).click();
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await page.goto(`${base}${tenantPath}/account`);
    await waitForPath(page, `${tenantPath}/account`);
    await page.getByText(input.email).first().waitFor();

    log("the used link no longer works");
    await page.goto(link);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await checkPage(page, "reset-gone");
    return {};
  },
});
