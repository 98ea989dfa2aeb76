// The console's people procedures: create a user (a missing mandatory field is refused next to
// the field), read the audit log and filter it, and hand the ownership on (seed procedure
// "transfer ownership"). Every page state is checked with axe-core at desktop and phone widths.
"use strict";

module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInTo, signOut, waitForPath, arriveAtApp, STEP_MS }) => ({
  async console_people({ page }) {
    const users = `${tenantPath}/console/users`;
    await signInTo(page, users);
    await page.getByRole("heading", { name: "Users" }).waitFor();

    log("filter and order the list");
    await page.selectOption("#sort", "-created");
    await page.waitForURL((u) => u.searchParams.get("sort") === "-created");
    const firstRow = (await page.locator("#user-table tbody tr").first().innerText()).trim();
    expect(firstRow.includes(input.newest_email), `the newest user first, not ${firstRow}`);
    await checkPage(page, "users-newest");

    log("create a user, forgetting the mandatory field");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "New user" }).click();
    await waitForPath(page, `${users}/new`);
    await checkPage(page, "user-new");
    await page.getByLabel("Email").fill(input.new_email);
    await page.getByLabel("Given name").fill("Nia");
    await page.getByLabel("Family name").fill("Okafor");
    await page.getByLabel(/Invited, no link yet/).check();
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("Cost centre is required").waitFor();
    const kept = await page.getByLabel("Email").inputValue();
    expect(kept === input.new_email, `what was typed is kept, not ${kept}`);
    const invalid = await page.getByLabel(/Cost centre/).getAttribute("aria-invalid");
    expect(invalid === "true", "the field is marked invalid");
    await checkPage(page, "user-new-error");
    await page.getByLabel(/Cost centre/).fill("CC-7");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("The user was created.").waitFor();
    await page.getByRole("heading", { name: "Nia Okafor" }).waitFor();
    const created = new URL(page.url()).pathname.split("/").pop();
    await checkPage(page, "user-created");

    log("read the audit log and filter it by action");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    await waitForPath(page, `${tenantPath}/console/audit`);
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await checkPage(page, "audit");
    await page.fill("#action", "user.create");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL((u) => u.searchParams.get("action") === "user.create");
    await page.locator("#audit-table tbody tr").first().waitFor();
    const actions = await page.locator("#audit-table tbody tr code").allInnerTexts();
    expect(actions.length > 0 && actions.every((a) => a === "user.create"), `only user.create: ${actions}`);
    const who = (await page.locator("#audit-table tbody tr").first().innerText());
    expect(who.includes(`${input.email} (console)`), `the newest entry is the console's creation: ${who}`);
    await checkPage(page, "audit-filtered");

    log("transfer the ownership to the heir");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}${users}/${input.heir_id}`);
    await page.getByRole("link", { name: "Make owner" }).click();
    await waitForPath(page, `${users}/${input.heir_id}/transfer-ownership`);
    await checkPage(page, "transfer-confirm");
    await page.getByRole("button", { name: "Make owner" }).click();
    await page.getByText("The user is now the organisation's owner.").waitFor();
    await checkPage(page, "transferred");
    return { created };
  },

  /// Seed procedures "invite" and "permission switch": an administrator invites a person,
  /// gives them a first password and grants them a permission with its switch; the person
  /// then signs in to the app for the first time (becoming active) and the app's token
  /// carries the permission.
  async console_invite({ page }) {
    const users = `${tenantPath}/console/users`;
    await signInTo(page, `${users}/new`);
    log("invite a person");
    await page.getByLabel("Email").fill(input.new_email);
    await page.getByLabel("Given name").fill("Ines");
    await page.getByLabel("Family name").fill("Invited");
    await page.getByLabel(/Invited, no link yet/).check();
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByText("The user was created.").waitFor();
    await page.getByText("Invited", { exact: true }).first().waitFor();
    const id = new URL(page.url()).pathname.split("/").pop();
    await checkPage(page, "invited");

    log("give a first password");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Set a new password" }).click();
    await checkPage(page, "first-password");
    await page.fill("#f-password", input.new_password);
    await page.getByRole("button", { name: "Set a new password" }).click();
    await page.getByText("The new password was set.").waitFor();

    log(`grant ${input.permission} with its switch`);
    await page.goto(`${base}${users}/${id}/permissions`);
    const row = page.locator("table.permissions tbody tr", { has: page.locator("code", { hasText: input.permission }) });
    await row.getByRole("button", { name: "Grant" }).click();
    await row.locator(".status-held").waitFor();
    await signOut(page);

    log("the person signs in to the app for the first time");
    await page.goto(input.authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    await page.fill("#email", input.new_email);
    await page.fill("#password", input.new_password);
    await Promise.all([
      page.waitForNavigation({ timeout: STEP_MS }),
      page.click("form:has(#password) button[type=submit]"),
    ]);
    await arriveAtApp(page);
    return { id };
  },

  /// Seed procedure "anonymise": an administrator anonymises a person after confirming; the
  /// person's page shows placeholders, and the audit log still holds their history.
  async console_anonymise({ page }) {
    const userPath = `${tenantPath}/console/users/${input.user_id}`;
    await signInTo(page, userPath);
    await page.getByRole("link", { name: "Anonymise" }).click();
    await waitForPath(page, `${userPath}/anonymise`);
    await checkPage(page, "anonymise-confirm");
    await page.getByRole("button", { name: "Anonymise" }).click();
    await page.getByText("The user was anonymised. Their history is kept.").waitFor();
    const shown = await page.locator("main").innerText();
    expect(!shown.includes(input.user_email), "the email is gone from the page");
    await checkPage(page, "anonymised");

    log("the audit log keeps the history");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}${tenantPath}/console/audit?target_kind=user&target_id=${input.user_id}`);
    await page.locator("#audit-table tbody tr").first().waitFor();
    const actions = await page.locator("#audit-table tbody tr code").allInnerTexts();
    for (const a of ["user.anonymise", "user.create", "user.update"]) {
      expect(actions.includes(a), `the history has ${a}: ${actions}`);
    }
    await checkPage(page, "anonymised-audit");
    return { actions };
  },
});
