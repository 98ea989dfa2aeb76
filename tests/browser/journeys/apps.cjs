// The console's Apps section as an administrator uses it (issue 14): register an app (a
// missing name is refused next to its field), read its secret from the page that answers the
// registration, then, in a second journey, rotate the secret after a confirmation and read the
// new one. The Rust side proves each secret with a token request.
module.exports = ({ input, base, tenantPath, log, expect, checkPage, signInTo, waitForPath }) => ({
  async console_app_register({ page }) {
    await signInTo(page, `${tenantPath}/console/apps`);
    await page.getByRole("heading", { name: "Apps", level: 1 }).waitFor();
    await checkPage(page, "apps");

    log("register an app, first without a name");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Register an app" }).click();
    await waitForPath(page, `${tenantPath}/console/apps/new`);
    await page.getByRole("heading", { name: "Register an app" }).waitFor();
    await checkPage(page, "app-new");
    await page.getByRole("checkbox", { name: /Authorization code/ }).uncheck();
    await page.getByRole("checkbox", { name: /Client credentials/ }).check();
    await page.getByLabel("Scopes").fill("openid");
    await page.getByLabel("Permission namespaces").fill("billing");
    await page.getByRole("button", { name: "Register app" }).click();
    await page.locator("#e-name").waitFor();
    const described = await page.getByLabel("Name", { exact: false }).first().getAttribute("aria-describedby");
    expect(described === "e-name", `the name's error is tied to it, not ${described}`);
    await checkPage(page, "app-new-error");

    log("with a name");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator("#f-name").fill(input.app_name);
    await page.getByRole("button", { name: "Register app" }).click();
    await page.getByText("it will not be shown again").waitFor();
    const clientId = await page.getByLabel("Client ID").inputValue();
    const secret = await page.getByLabel("Client secret").inputValue();
    expect(secret.startsWith("ccs_"), "a client secret on the page");
    await checkPage(page, "app-secret");

    log("the app's page");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: /go to the app/ }).click();
    await page.getByRole("heading", { name: input.app_name, level: 1 }).waitFor();
    expect(!(await page.content()).includes(secret), "the secret is not shown again");
    await checkPage(page, "app");
    return { client_id: clientId, secret, path: new URL(page.url()).pathname };
  },

  async console_app_rotate({ page }) {
    await signInTo(page, input.app_path);
    await page.getByRole("heading", { name: input.app_name, level: 1 }).waitFor();
    log("rotate the secret");
    await page.getByRole("link", { name: "Rotate secret" }).click();
    await waitForPath(page, `${input.app_path}/rotate`);
    await page.getByRole("heading", { name: /^Rotate the secret of/ }).waitFor();
    await checkPage(page, "app-rotate");
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByText("the previous one no longer works").waitFor();
    const secret = await page.getByLabel("Client secret").inputValue();
    await checkPage(page, "app-rotated");

    log("the delete confirmation (cancelled)");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}${input.app_path}`);
    await page.getByRole("link", { name: "Delete app" }).click();
    await page.getByRole("heading", { name: /^Delete the app/ }).waitFor();
    await checkPage(page, "app-delete");
    await page.getByRole("link", { name: "Cancel" }).click();
    await waitForPath(page, input.app_path);
    return { secret };
  },
});
