// The console's catalogues: an administrator adds a permission, defines a custom field (a
// mistake first, said next to the field), adds a kind of notification and looks at a
// removal's confirmation; lets people change the new field themselves and uses it in their own
// portal. Every page state is checked with axe-core at both widths.
"use strict";

module.exports = ({ base, tenantPath, log, expect, checkPage, signInTo, waitForPath }) => ({
  async console_catalogue({ page }) {
    const desk = { width: 1280, height: 800 };
    await signInTo(page, `${tenantPath}/console/permissions`);
    await page.getByRole("heading", { name: "Permissions", exact: true }).waitFor();
    await checkPage(page, "permissions");

    log("add a permission");
    await page.setViewportSize(desk);
    await page.getByLabel(/^Name/).fill("Billing Read");
    await page.getByRole("button", { name: "Add permission" }).click();
    await page.locator("#e-name").waitFor();
    await checkPage(page, "permissions-error");
    await page.setViewportSize(desk);
    await page.getByLabel(/^Name/).fill("billing:read");
    await page.getByLabel("Description").fill("See invoices");
    await page.getByRole("button", { name: "Add permission" }).click();
    await page.getByText("The permission was added.").waitFor();
    await page.locator("code", { hasText: "billing:read" }).waitFor();

    log("define a custom field");
    await page.getByRole("link", { name: "Custom fields", exact: true }).click();
    await waitForPath(page, `${tenantPath}/console/fields`);
    await page.getByText("No custom field yet.").waitFor();
    await checkPage(page, "fields-empty");
    await page.setViewportSize(desk);
    await page.getByRole("link", { name: "New field" }).click();
    await waitForPath(page, `${tenantPath}/console/fields/new`);
    await checkPage(page, "field-new");
    await page.setViewportSize(desk);
    await page.getByLabel(/^Key/).fill("grade");
    await page.getByLabel(/^Label/).fill("Grade");
    await page.getByLabel(/^Kind/).selectOption("enum");
    await page.getByRole("button", { name: "Create field" }).click();
    await page.locator("#e-options").waitFor();
    await checkPage(page, "field-new-error");
    await page.setViewportSize(desk);
    await page.getByLabel(/^Values/).fill("junior, senior");
    await page.getByRole("button", { name: "Create field" }).click();
    await page.getByText("The field was created.").waitFor();
    await checkPage(page, "fields");

    log("let people choose their grade themselves, and keep their phone");
    await page.setViewportSize(desk);
    await page.getByRole("link", { name: "Choose the fields people change themselves" }).click();
    await waitForPath(page, `${tenantPath}/console/fields/self-service`);
    await checkPage(page, "fields-self-service");
    await page.setViewportSize(desk);
    await page.getByLabel("Grade").check();
    await page.getByLabel("Phone").uncheck();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved what people change themselves.").waitFor();
    await page.goto(`${base}${tenantPath}/account`);
    await page.getByRole("heading", { name: "Your profile" }).waitFor();
    await page.getByLabel(/^Grade/).selectOption("senior");
    expect(await page.getByLabel(/^Phone/).count() === 0, "the phone is no longer offered");
    await page.getByRole("heading", { name: "Kept by your organisation" }).waitFor();
    await checkPage(page, "account-profile-policy");
    await page.setViewportSize(desk);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Your profile was saved.").waitFor();
    expect(await page.getByLabel(/^Grade/).inputValue() === "senior", "the grade was saved");
    await page.goto(`${base}${tenantPath}/console/permissions`);
    await page.getByRole("heading", { name: "Permissions", exact: true }).waitFor();

    log("add a kind of notification, then look at removing it");
    await page.setViewportSize(desk);
    await page.getByRole("link", { name: "Notifications", exact: true }).click();
    await waitForPath(page, `${tenantPath}/console/notifications`);
    await page.getByLabel(/^Key/).fill("billing.invoice_ready");
    await page.getByLabel("Description").fill("An invoice is ready");
    await page.getByRole("button", { name: "Add notification" }).click();
    await page.getByText("The notification was added.").waitFor();
    await checkPage(page, "notifications");
    await page.setViewportSize(desk);
    await page.getByRole("link", { name: "Delete billing.invoice_ready" }).click();
    await page.getByRole("heading", { name: "Remove the notification billing.invoice_ready?" }).waitFor();
    await checkPage(page, "notification-delete");
    await page.getByRole("button", { name: "Remove notification" }).click();
    await page.getByText("The notification was removed.").waitFor();
    const left = await page.locator("code", { hasText: "billing.invoice_ready" }).count();
    expect(left === 0, "the notification is gone from the list");
    return { done: true };
  },
});
