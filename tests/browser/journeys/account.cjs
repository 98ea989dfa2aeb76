// The self-service account portal (issue 14's seed procedure): a person corrects their
// profile, signs out a session of theirs elsewhere, revokes an app, changes their password and
// a notification preference. Every page state is checked with axe-core at desktop and phone
// widths and photographed.
"use strict";

module.exports = (kit) => {
  const { input, base, tenantPath, log, expect, checkPage, signInTo, waitForPath } = kit;
  const account = `${tenantPath}/account`;

  /// Goes to a section of the portal through its navigation.
  async function open(page, name, path, heading) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("navigation").getByRole("link", { name, exact: true }).click();
    await waitForPath(page, `${account}${path}`);
    await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
  }

  /// The button of the page's own form (the top bar has a Sign out button too).
  const mainButton = (page, name) => page.getByRole("main").getByRole("button", { name, exact: true });

  return {
    async account_portal({ page }) {
      await signInTo(page, account);
      await page.getByRole("heading", { name: "Your profile", level: 1 }).waitFor();
      await checkPage(page, "account-profile");

      log("a phone number too long is refused next to the field; then the profile is saved");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByLabel("Phone").fill("9".repeat(60));
      await mainButton(page, "Save").click();
      await page.locator("#e-phone").waitFor();
      const described = await page.getByLabel("Phone").getAttribute("aria-describedby");
      expect(described && described.includes("e-phone"), `the error is tied to the field, not ${described}`);
      await checkPage(page, "account-profile-error");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByLabel("Phone").fill("+44 20 7946 0000");
      await page.getByLabel("Given name").fill(input.given_name);
      await mainButton(page, "Save").click();
      await page.getByText("Your profile was saved.").waitFor();
      await checkPage(page, "account-profile-saved");

      log("the email page is a section of the portal, marked current in the navigation");
      await open(page, "Email", "/email", "Email address");
      const current = await page.getByRole("navigation").getByRole("link", { name: "Email", exact: true }).getAttribute("aria-current");
      expect(current === "page", `the Email entry is the current page, not ${current}`);
      await checkPage(page, "account-email");

      log("the security page is a page of the portal");
      await open(page, "Security", "/security", "Sign-in and security");
      await page.locator("#no-factors").waitFor();
      await checkPage(page, "account-security");

      log("sign out the session of another browser");
      await open(page, "Sessions", "/sessions", "Your sessions");
      const rows = await page.locator("table.account-sessions tbody tr").count();
      expect(rows === 2, `two sessions, not ${rows}`);
      await page.locator("table.account-sessions .status", { hasText: "This browser" }).waitFor();
      const mine = await page.locator("table.account-sessions tbody tr", { hasText: "This browser" }).innerText();
      expect(mine.includes("Chrome on Linux"), `this browser is named by its user agent: ${mine}`);
      await checkPage(page, "account-sessions");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.locator("table.account-sessions").getByRole("link", { name: /^Sign out/ }).click();
      await page.getByRole("heading", { name: "Sign out this session?" }).waitFor();
      await checkPage(page, "account-session-confirm");
      await mainButton(page, "Sign out").click();
      await waitForPath(page, `${account}/sessions`);
      await page.getByText("The session was signed out.").waitFor();
      const left = await page.locator("table.account-sessions tbody tr").count();
      expect(left === 1, `one session left, not ${left}`);
      await checkPage(page, "account-sessions-ended");

      log(`revoke the access of ${input.app_name}`);
      await open(page, "Apps", "/apps", "Connected apps");
      await page.getByRole("rowheader", { name: input.app_name }).waitFor();
      await checkPage(page, "account-apps");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByRole("link", { name: `Revoke ${input.app_name}` }).click();
      await page.getByRole("heading", { name: `Revoke the access of ${input.app_name}?` }).waitFor();
      await checkPage(page, "account-app-confirm");
      await mainButton(page, "Revoke").click();
      await waitForPath(page, `${account}/apps`);
      await page.getByText("The app's access was revoked.").waitFor();
      await page.getByText("No app has access to your account.").waitFor();
      await checkPage(page, "account-apps-revoked");

      log("change the password: a wrong current one first");
      await open(page, "Password", "/password", "Change your password");
      await checkPage(page, "account-password");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByLabel("Current password").fill("not my password");
      await page.getByLabel("New password", { exact: true }).fill(input.new_password);
      await page.getByLabel("New password again").fill(input.new_password);
      await mainButton(page, "Change password").click();
      await page.locator("#e-current").waitFor();
      await checkPage(page, "account-password-error");
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByLabel("Current password").fill(input.password);
      await page.getByLabel("New password", { exact: true }).fill(input.new_password);
      await page.getByLabel("New password again").fill(input.new_password);
      await mainButton(page, "Change password").click();
      await page.getByText("Your password was changed.").waitFor();
      await checkPage(page, "account-password-changed");

      log("no more mail about role changes, but alerts on the phone; new sign-ins stay mailed");
      await open(page, "Notifications", "/notifications", "Notifications");
      await checkPage(page, "account-notifications");
      await page.setViewportSize({ width: 1280, height: 800 });
      const signIns = "A sign-in from a new device or place";
      const locked = await page.getByRole("checkbox", { name: `By email: ${signIns}` }).isDisabled();
      expect(locked, "a mandatory security notification cannot be turned off");
      const roles = "Roles or permission overrides changed";
      await page.getByRole("checkbox", { name: `By email: ${roles}` }).uncheck();
      await page.getByRole("checkbox", { name: `On my phone: ${roles}` }).check();
      await mainButton(page, "Save").click();
      await page.getByText("Your notification preferences were saved.").waitFor();
      const phone = await page.getByRole("checkbox", { name: `On my phone: ${roles}` }).isChecked();
      expect(phone, "the page shows the saved choice");
      await checkPage(page, "account-notifications-saved");
      return { done: true, base };
    },
  };
};
