// Links that come by mail (issue 15), read from the mail the SMTP sink received (JSON files in
// `input.sink_dir`): "forgot password" (the person asks on the sign-in page, opens the link,
// chooses a new password and signs in with it) and an invitation (the person opens the link,
// chooses a password and lands signed in). Every page state is checked with axe-core at desktop
// and phone widths.
"use strict";

const { mailedLink } = require("../mailbox.cjs");

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

  async invitation_from_mail({ page }) {
    log("read the invitation mail and open its link");
    const link = await mailedLink(input.sink_dir, input.email, `${tenantPath}/setup?link=`, expect);
    expect(link.startsWith(`${base}${tenantPath}/setup?link=`), `the link: ${link}`);
    await page.goto(link);
    await page.getByRole("heading", { name: "Set your password" }).waitFor();
    await page.getByText(input.email).first().waitFor();
    await checkPage(page, "invitation-mail-setup");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("New password").fill(input.password);
    await page.getByLabel("The same password again").fill(input.password);
    await page.getByRole("button", { name: "Set the password" }).click();
    await waitForPath(page, `${tenantPath}/account`);
    await page.getByText(input.email).first().waitFor();
    await checkPage(page, "invitation-mail-landed");
    log("the used link no longer works");
    await page.goto(link);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    return {};
  },
});
