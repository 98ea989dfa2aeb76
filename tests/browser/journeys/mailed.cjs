// Links that come by mail (issue 15), read from the mail the SMTP sink received (JSON files in
// `input.sink_dir`): "forgot password" (the person asks on the sign-in page, opens the link,
// chooses a new password and signs in with it) and an invitation (the person opens the link,
// chooses a password and lands signed in), and an address change from the account portal (the
// link mailed to the new address, confirmed). Every page state is checked with axe-core at desktop
// and phone widths.
"use strict";

const { mailedLink } = require("../mailbox.cjs");

module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInTo, signInWithPassword, waitForPath }) => ({
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

  async email_change({ page }) {
    const main = (name) => page.getByRole("main").getByRole("button", { name, exact: true });
    await signInTo(page, `${tenantPath}/account`);
    await page.getByRole("heading", { name: "Your profile", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Change your email address" }).click();
    await waitForPath(page, `${tenantPath}/account/email`);
    await page.getByRole("heading", { name: "Email address", level: 1 }).waitFor();
    await page.getByText("This address is not confirmed yet.").waitFor();
    await checkPage(page, "account-email");

    log("a wrong current password is refused next to its field");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("New address").fill(input.new_email);
    await page.getByLabel("Current password").fill("not the password at all");
    await main("Send the link").click();
    await page.locator("#e-current").waitFor();
    await checkPage(page, "account-email-error");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("New address").fill(input.new_email);
    await page.getByLabel("Current password").fill(input.password);
    await main("Send the link").click();
    await page.getByText("We sent a link to your new address.").waitFor();
    await checkPage(page, "account-email-sent");

    log("open the link from the mail at the new address and confirm");
    const link = await mailedLink(input.sink_dir, input.new_email, `${tenantPath}/confirm-email?link=`, expect);
    await page.goto(link);
    await page.getByRole("heading", { name: "Confirm your new email address" }).waitFor();
    await checkPage(page, "confirm-email");
    await page.getByRole("button", { name: "Confirm this address" }).click();
    await page.getByRole("heading", { name: "Your address was changed" }).waitFor();
    await checkPage(page, "confirm-email-done");
    await page.getByRole("link", { name: "Go to your account" }).click();
    await waitForPath(page, `${tenantPath}/account`);
    await page.getByText(input.new_email).first().waitFor();
    return {};
  },
});
