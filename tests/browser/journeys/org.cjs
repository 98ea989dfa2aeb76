// Journeys of the console's organisation pages (issue 14, seed 001): employment with dates and
// a main account, management, accounts, account groups and groups; and a Manager confined to
// the people of the account they manage.
"use strict";

module.exports = (kit) => {
  const { input, base, tenantPath, STEP_MS, log, expect, checkPage, signInTo, waitForPath, arriveAtApp } = kit;
  const desktop = (page) => page.setViewportSize({ width: 1280, height: 800 });
  const section = (page, name) =>
    page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });

  return {
    /// An administrator opens a user's page, goes to "Employment and management", is refused an
    /// end date before the start (the error is on the field), adds an employment with dates as
    /// the main account, ends the guest membership on its own page, makes the user manage an
    /// account; then visits the account, the account groups and creates a group with the user
    /// in it. Finally the user signs in to the app, whose ID token the Rust side reads.
    async console_employment({ context, page }) {
      const userPath = `${tenantPath}/console/users/${input.user_id}`;
      const path = `${userPath}/memberships`;
      await signInTo(page, userPath);
      await page.getByRole("link", { name: "Employment and management" }).click();
      await waitForPath(page, path);
      await page.getByRole("heading", { name: "Employment and management" }).waitFor();
      await checkPage(page, "employment");

      log("an end before the start is refused, on the field");
      await desktop(page);
      // The picker: a search that asks the server for at most twenty accounts, as radio buttons.
      await page.fill("#m-account-q", "north");
      await page.locator("#m-account-results legend", { hasText: "Accounts matching “north”" }).waitFor();
      await page.locator("#m-account-results").getByText(/Only the first 20 are shown/).waitFor();
      expect((await page.locator("#m-account-results input[type=radio]").count()) === 20, "a search shows at most 20 accounts");
      await checkPage(page, "employment-picker-capped");
      await desktop(page);
      await page.fill("#m-account-q", "NORTHWI");
      const pick = page.locator("#m-account-results").getByLabel(`${input.account} (Customer)`, { exact: true });
      await page.locator("#m-account-results legend", { hasText: "Accounts matching “NORTHWI”" }).waitFor();
      expect((await page.locator("#m-account-results input[type=radio]").count()) === 1, "the search narrows to one account");
      await pick.check();
      await checkPage(page, "employment-picker");
      await desktop(page);
      await page.fill("#m-start", "2024-03-01");
      await page.fill("#m-end", "2024-02-01");
      await page.getByRole("button", { name: "Add employment" }).click();
      const error = page.locator("#m-end-error");
      await error.waitFor();
      expect((await page.locator("#m-end").getAttribute("aria-describedby")) === "m-end-error", "the error is tied to its field");
      expect((await page.locator("#m-start").inputValue()) === "2024-03-01", "what was typed is kept");
      await checkPage(page, "employment-error");

      log("an open-ended employment as the main account");
      await desktop(page);
      await page.fill("#m-start", "2020-01-01");
      await page.fill("#m-end", "");
      await page.locator("#m-main").check();
      await page.getByRole("button", { name: "Add employment" }).click();
      await page.getByText("The employment was added.").waitFor();
      const mainRow = page.locator("table.memberships tbody tr", { has: page.locator(".status-main") });
      expect((await mainRow.locator("th").innerText()).includes(input.account), "the new employment is the main one");
      await checkPage(page, "employment-added");

      log("the guest membership ends, on its own page");
      await desktop(page);
      await page.getByRole("link", { name: "Edit dates of Guest" }).click();
      await page.getByRole("heading", { name: "Employment in Guest" }).waitFor();
      await checkPage(page, "employment-edit");
      await page.fill("#end_date", "2020-12-31");
      await page.getByRole("button", { name: "Save dates" }).click();
      await waitForPath(page, path);
      await page.getByText("The employment was saved.").waitFor();
      const guestRow = page.locator("table.memberships tbody tr", { hasText: "Guest" });
      expect((await guestRow.innerText()).includes("Not current"), "the guest membership is over");

      log("the user manages an account");
      await page.fill("#g-account-q", input.managed_account.split(" ")[0].toLowerCase());
      const managed = page.locator("#g-account-results").getByLabel(input.managed_account, { exact: true });
      await managed.waitFor();
      await managed.check();
      await page.getByRole("button", { name: "Manage account", exact: true }).click();
      await page.getByText("The management relation was added.").waitFor();
      await checkPage(page, "employment-management");

      log("the account and the account groups");
      await desktop(page);
      await section(page, "Accounts").click();
      await waitForPath(page, `${tenantPath}/console/accounts`);
      await checkPage(page, "accounts");
      await page.getByRole("link", { name: input.account, exact: true }).click();
      await page.getByRole("heading", { name: `Account ${input.account}` }).waitFor();
      expect(await page.getByRole("link", { name: input.user_name }).count() === 1, "the user is a current member");
      await checkPage(page, "account");
      await section(page, "Accounts").click();
      await page.getByRole("link", { name: "Account groups", exact: true }).click();
      await waitForPath(page, `${tenantPath}/console/account-groups`);
      await checkPage(page, "account-groups");
      await page.getByRole("link", { name: input.account_group }).click();
      await page.getByRole("heading", { name: `Account group ${input.account_group}` }).waitFor();
      await checkPage(page, "account-group");

      log("a new group, with the user in it");
      await desktop(page);
      await section(page, "Groups").click();
      await waitForPath(page, `${tenantPath}/console/groups`);
      await checkPage(page, "groups");
      await page.getByRole("link", { name: "New group" }).click();
      await waitForPath(page, `${tenantPath}/console/groups/new`);
      await checkPage(page, "group-new");
      await page.getByLabel("Name").fill(input.group_name);
      await page.getByRole("button", { name: "Create group" }).click();
      await page.getByText("The group was created.").waitFor();
      await page.fill("#member_q", input.target_email);
      await page.getByRole("button", { name: "Find" }).click();
      await page.getByRole("button", { name: `Add ${input.user_name}` }).click();
      await page.getByText("The person was added to the group.").waitFor();
      expect(await page.locator("table.org tbody tr", { hasText: input.target_email }).count() === 1, "the user is a member");
      await checkPage(page, "group");

      log("deleting the group asks first, on the shared confirmation; cancelled");
      await desktop(page);
      await page.getByRole("link", { name: "Delete this group" }).click();
      await page.getByRole("heading", { name: `Delete group ${input.group_name}?`, level: 1 }).waitFor();
      const consequence = await page.getByRole("main").innerText();
      expect(consequence.includes("its 1 member loses the roles it granted"), `the consequence: ${consequence}`);
      await checkPage(page, "group-delete");
      await page.getByRole("main").getByRole("link", { name: "Cancel" }).click();
      await page.getByRole("heading", { name: `Group ${input.group_name}` }).waitFor();

      log("the user signs in to the app, in their own browser");
      const theirs = await context.browser().newContext({ viewport: { width: 900, height: 700 } });
      const user = await theirs.newPage();
      user.setDefaultTimeout(STEP_MS);
      await user.goto(input.authorize_url);
      await user.waitForURL((u) => u.pathname === `${tenantPath}/login`, { timeout: STEP_MS });
      await user.fill("#email", input.target_email);
      await user.fill("#password", input.password);
      await Promise.all([
        user.waitForNavigation({ timeout: STEP_MS }),
        user.click("form:has(#password) button[type=submit]"),
      ]);
      await arriveAtApp(user);
      await theirs.close();
      return { done: true };
    },

    /// A Manager who manages an account sees its people in the user list and nobody else,
    /// opens one's employment (no management forms), and is refused someone outside.
    async console_manager_scope({ page }) {
      await signInTo(page, `${tenantPath}/console/users`);
      await page.getByRole("heading", { name: "Users" }).waitFor();
      const emails = (await page.locator("#user-table tbody tr td:nth-child(2)").allInnerTexts()).map((t) => t.trim());
      expect(emails.includes(input.target_email), `${input.target_email} is listed: ${emails}`);
      expect(!emails.includes(input.outsider_email), `${input.outsider_email} is not listed: ${emails}`);
      await checkPage(page, "manager-users");
      await desktop(page);
      await page.getByRole("link", { name: input.user_name }).click();
      await page.getByRole("link", { name: "Employment and management" }).click();
      await waitForPath(page, `${tenantPath}/console/users/${input.user_id}/memberships`);
      expect(await page.getByRole("button", { name: "Manage account" }).count() === 0, "no management forms for a manager");
      await checkPage(page, "manager-employment");
      log("someone outside the scope");
      const response = await page.goto(`${base}${tenantPath}/console/users/${input.outsider_id}/memberships`);
      expect(response.status() === 403, `refused, not ${response.status()}`);
      await page.getByRole("heading", { name: "Not allowed" }).waitFor();
      await checkPage(page, "manager-refused");
      return { listed: emails };
    },
  };
};
