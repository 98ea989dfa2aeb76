// The console's Directory and Security sections as an administrator uses them (issue 14).
// Directory: the latest SCIM requests, a new SCIM token read from the page, the SCIM settings
// saved, an old token revoked after a confirmation. Security: passkey settings saved, signing
// keys rotated after a confirmation, then the MFA policy made required (the administrator is
// then asked for a second factor). The Rust side checks what each changed.
module.exports = ({ input, tenantPath, log, expect, checkPage, signInTo, waitForPath }) => ({
  async console_directory({ page }) {
    const directory = `${tenantPath}/console/directory`;
    await signInTo(page, directory);
    await page.getByRole("heading", { name: "Directory", level: 1 }).waitFor();
    const logged = page.locator("table.log tbody tr", { hasText: "GET /Users" });
    expect(await logged.count() > 0, "the SCIM request made before is in the table");
    await checkPage(page, "directory");

    log("create a SCIM token");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("Label of a new token").fill(input.token_label);
    await page.getByRole("button", { name: "Create token" }).click();
    await page.getByText("it will not be shown again").waitFor();
    const token = await page.getByLabel("Token (bearer)").inputValue();
    expect(token.startsWith("scim_"), "a SCIM token on the page");
    await checkPage(page, "directory-token");

    log("save the SCIM settings");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: /back to the directory/ }).click();
    await waitForPath(page, directory);
    await page.getByLabel("When the directory deletes a user").selectOption("anonymise");
    await page.getByRole("button", { name: "Save SCIM settings" }).click();
    await page.getByText("The SCIM settings were saved.").waitFor();
    const chosen = await page.getByLabel("When the directory deletes a user").inputValue();
    expect(chosen === "anonymise", `the setting is kept, not ${chosen}`);
    await checkPage(page, "directory-saved");

    log(`revoke ${input.old_token_label}`);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: `Revoke ${input.old_token_label}` }).click();
    await page.getByRole("heading", { name: /^Revoke the SCIM token/ }).waitFor();
    await checkPage(page, "directory-revoke");
    await page.getByRole("button", { name: "Revoke token" }).click();
    await waitForPath(page, directory);
    await page.getByText("The token was revoked").waitFor();
    await checkPage(page, "directory-revoked");
    return { token };
  },

  async console_security({ page }) {
    const security = `${tenantPath}/console/security`;
    await signInTo(page, security);
    await page.getByRole("heading", { name: "Security", level: 1 }).waitFor();
    await checkPage(page, "security");

    log("allow passkey-only accounts, touch-only security keys");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("Allow passkey-only accounts").check();
    await page.getByLabel("Security keys ask for").selectOption("discouraged");
    await page.getByRole("button", { name: "Save MFA settings" }).click();
    await page.getByText("The MFA settings were saved.").waitFor();
    expect(await page.getByLabel("Allow passkey-only accounts").isChecked(), "saved and shown");
    await checkPage(page, "security-saved");

    log("rotate the signing keys");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Rotate signing keys" }).click();
    await waitForPath(page, `${security}/keys/rotate`);
    await checkPage(page, "security-rotate");
    await page.getByRole("button", { name: "Rotate keys" }).click();
    await page.getByText("The signing keys were rotated").waitFor();
    const active = await page.locator("table.keys tbody tr", { has: page.locator(".status", { hasText: "active" }) })
      .locator("th code").allInnerTexts();
    expect(active.length > 0, "active keys listed");
    await checkPage(page, "security-rotated");

    log("make a second factor required");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("MFA policy").selectOption("required");
    await page.getByRole("button", { name: "Save MFA settings" }).click();
    await page.waitForURL((u) => u.pathname !== security, { timeout: 10000 });
    const landed = new URL(page.url()).pathname;
    log(`asked for a second factor at ${landed}`);
    return { active, landed };
  },
});
