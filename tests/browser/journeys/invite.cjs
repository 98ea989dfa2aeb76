// Invitations and the link page (issue 15, issue 14 "Getting in"): an administrator invites a
// person in the console and passes on the link shown once; the person sets a password with it
// and lands active and signed in; the owner's set-up link used with a passkey (a CDP virtual
// authenticator) reaches the console; an expired link shows its page. Every page state is
// checked with axe-core at desktop and phone widths.
"use strict";

module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInTo, signOut, waitForPath, recoveryCodes, addPasskeyAuthenticator }) => ({
  async console_invitation({ page }) {
    const users = `${tenantPath}/console/users`;
    await signInTo(page, `${users}/new`);
    log("invite a person");
    await page.getByLabel("Email").fill(input.new_email);
    await page.getByLabel("Given name").fill("Ines");
    await page.getByLabel("Family name").fill("Invitee");
    const invite = page.getByLabel(/Invite: send them an invitation link now/);
    expect(await invite.isChecked(), "inviting is the default");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("The user was created and invited.").waitFor();
    const link = await page.locator("#invitation-link").inputValue();
    expect(link.startsWith(`${base}${tenantPath}/setup?link=`), `the link is shown: ${link}`);
    await checkPage(page, "invitation-sent");

    log("the user page shows the invitation pending");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Go to the user" }).click();
    await page.getByRole("heading", { name: "Invitation" }).waitFor();
    await page.getByText("Pending", { exact: true }).waitFor();
    const id = new URL(page.url()).pathname.split("/").pop();
    await checkPage(page, "invitation-pending");
    await signOut(page);

    log("the person opens the link and sets a password");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(link);
    await page.getByRole("heading", { name: "Set your password" }).waitFor();
    await checkPage(page, "invitation-setup");
    await page.getByLabel("New password").fill(input.new_password);
    await page.getByLabel("The same password again").fill(input.new_password);
    await page.getByRole("button", { name: "Set the password" }).click();
    await waitForPath(page, `${tenantPath}/account`);
    await page.getByText(input.new_email).first().waitFor();
    await checkPage(page, "invitation-landed");

    log("the used link no longer works");
    await page.goto(link);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    return { id };
  },

  /// An expired invitation link: a page that says what to do.
  async invitation_expired({ page }) {
    await page.goto(input.expired_url);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await page.getByText("ask the person who invited you").waitFor();
    await checkPage(page, "invitation-expired");
    return {};
  },

  /// The owner's set-up link with a passkey instead of a password: the first recovery codes are
  /// shown once, then the console.
  async owner_setup_passkey({ context, page }) {
    const { cdp, authenticatorId } = await addPasskeyAuthenticator(context, page);
    log("open the set-up link");
    await page.goto(input.setup_url);
    await page.getByRole("heading", { name: "Set your password" }).waitFor();
    await checkPage(page, "setup-passkey");
    log("use a passkey instead");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: "Use a passkey instead" }).click();
    const codes = await recoveryCodes(page);
    await checkPage(page, "setup-passkey-codes");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials.length === 1, `one credential, not ${credentials.length}`);
    expect(credentials[0].isResidentCredential, "the passkey is discoverable");
    log("continue to the console");
    await page.getByRole("link", { name: "Continue" }).click();
    await waitForPath(page, `${tenantPath}/console/users`);
    await page.getByRole("heading", { name: "Users" }).waitFor();
    log("the used link no longer works");
    await page.goto(input.setup_url);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    return { recovery_codes: codes };
  },
});
