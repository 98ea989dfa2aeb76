// The pages a person sees on the way to an app (issue 14: on the same templates as the
// console): the tenant's home page, sign-in (also refused, and in French), the second-factor
// step (enrolment, a code refused, the recovery code), consent, sign-out and an error page.
// Every state is checked with axe-core at desktop and phone widths and photographed.

module.exports = (kit) => {
  const { input, base, tenantPath, STEP_MS, log, expect, totp, currentStep, checkPage, waitForPath } = kit;

  const lang = (page) => page.locator("html").getAttribute("lang");

  return {
    /// With the tenant's policy requiring a second factor, a person without one: home page,
    /// sign-in refused then accepted, enrolment of an authenticator app from the second-factor
    /// page, consent to a third-party app, the home page signed in, sign-out confirmed, then
    /// sign-in again with a code refused and a good one; an error page; the sign-in page in French.
    async people_pages({ page }) {
      log("the home page, nobody signed in");
      await page.goto(`${base}${tenantPath}/`);
      await page.getByRole("heading", { name: "You are not signed in" }).waitFor();
      await checkPage(page, "home-signed-out");

      log("the sign-in page; a wrong password is refused");
      await page.goto(`${base}${tenantPath}/login?return_to=${encodeURIComponent(`${tenantPath}/`)}`);
      await checkPage(page, "sign-in");
      await page.fill("#email", input.email);
      await page.fill("#password", "not the password");
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_MS }),
        page.click("form:has(#password) button[type=submit]"),
      ]);
      await page.getByRole("alert").filter({ hasText: "incorrect" }).waitFor();
      expect((await page.inputValue("#email")) === input.email, "the email is kept");
      await checkPage(page, "sign-in-refused");

      log("the right password: the second-factor page asks to add a method");
      await page.fill("#password", input.password);
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_MS }),
        page.click("form:has(#password) button[type=submit]"),
      ]);
      await waitForPath(page, `${tenantPath}/login/mfa`);
      await page.getByRole("heading", { name: "Add a second sign-in method" }).waitFor();
      await checkPage(page, "second-factor-enrol");

      log("set up an authenticator app from there");
      await page.getByRole("link", { name: "Set up an authenticator app" }).click();
      await waitForPath(page, `${tenantPath}/account/security/totp`);
      const secret = (await page.locator("code#totp-secret").innerText()).replace(/\s/g, "");
      const enrolStep = currentStep();
      await page.fill("#totp-code", totp(secret, enrolStep));
      await page.getByRole("button", { name: "Confirm" }).click();
      await page.locator("ul#recovery-codes").waitFor();
      const recovery = (await page.locator("ul#recovery-codes li").allInnerTexts()).map((c) => c.trim());
      await page.getByRole("link", { name: "Continue" }).click();
      await waitForPath(page, `${tenantPath}/`);
      await page.getByRole("heading", { name: "You are signed in" }).waitFor();
      await checkPage(page, "home-signed-in");

      log("a third-party app asks for consent");
      await page.goto(input.consent_url);
      await waitForPath(page, `${tenantPath}/authorize`);
      await page.getByRole("heading", { name: /wants to access your account/ }).waitFor();
      await checkPage(page, "consent");
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((u) => u.href.startsWith(input.redirect_uri), { timeout: STEP_MS });
      const code = new URL(page.url()).searchParams.get("code");
      expect(code, `the app got a code: ${page.url()}`);

      log("sign out, confirming it");
      await page.goto(`${base}${tenantPath}/logout`);
      await page.getByRole("heading", { name: /^Sign out of / }).waitFor();
      await checkPage(page, "sign-out-confirm");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "You are signed out" }).waitFor();
      await checkPage(page, "signed-out");

      log("sign in again: the second factor is asked; a wrong code is refused");
      await page.goto(`${base}${tenantPath}/login?return_to=${encodeURIComponent(`${tenantPath}/`)}`);
      await page.fill("#email", input.email);
      await page.fill("#password", input.password);
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_MS }),
        page.click("form:has(#password) button[type=submit]"),
      ]);
      await waitForPath(page, `${tenantPath}/login/mfa`);
      await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
      await checkPage(page, "second-factor");
      await page.fill("#totp-code", totp(secret, enrolStep));
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_MS }),
        page.click("form:has(#totp-code) button[type=submit]"),
      ]);
      await page.getByRole("alert").filter({ hasText: "not right" }).waitFor();
      await checkPage(page, "second-factor-refused");
      await page.getByText("Lost your device? Use a recovery code").click();
      await page.locator("#recovery-code").waitFor({ state: "visible" });
      await checkPage(page, "second-factor-recovery");
      await page.fill("#totp-code", totp(secret, Math.max(enrolStep + 1, currentStep())));
      await page.click("form:has(#totp-code) button[type=submit]");
      await waitForPath(page, `${tenantPath}/`);

      log("an error page");
      await page.goto(`${base}${tenantPath}/authorize?response_type=code`);
      await page.getByRole("alert").waitFor();
      await checkPage(page, "error");

      log("the sign-in page in French");
      await page.goto(`${base}${tenantPath}/login?ui_locales=fr`);
      expect((await lang(page)) === "fr", "<html lang=fr>");
      await page.getByRole("heading", { name: "Se connecter" }).waitFor();
      await checkPage(page, "sign-in-fr");
      return { code, recovery_codes: recovery };
    },
  };
};
