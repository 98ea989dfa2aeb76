// The console's people procedures: create a user (a missing mandatory field is refused next to
// the field), read the audit log and filter it, and hand the ownership on (seed procedure
// "transfer ownership"). Every page state is checked with axe-core at desktop and phone widths.
"use strict";

module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInTo, waitForPath }) => ({
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
});
