// A person using Castellan's own pages in headless Chromium (playwright-core), driven by
// tests/browser/main.rs. Usage: node person.cjs JOURNEY INPUT_JSON
//
// JOURNEY is one of the functions of JOURNEYS below. INPUT_JSON carries the server's base URL
// (http://localhost:PORT: WebAuthn refuses an IP address), the tenant, the person's email and
// password, the app's authorization URL and redirect URI, Chromium's path, playwright-core's
// directory and where to put a screenshot on failure. Steps are logged on stderr; the last line
// on stdout is `RESULT {json}`, what the Rust side asserts on (the recovery codes read from the
// page...). Any failed expectation exits non-zero.
"use strict";
const crypto = require("node:crypto");
const path = require("node:path");

const [journey, rawInput] = process.argv.slice(2);
const input = JSON.parse(rawInput || "{}");
const { chromium } = require(path.join(input.playwright, "node_modules", "playwright-core"));

// What this machine needs (root, closed network); see ../shared/browser/README.md.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// A WebAuthn ceremony with no authenticator hangs forever: every wait has a limit.
const STEP_MS = 20000;
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[${Date.now() - t0} ms] ${msg}\n`);

function expect(cond, message) {
  if (!cond) throw new Error(`expectation failed: ${message}`);
}

const base = input.base;
const tenantPath = `/t/${input.tenant}`;

// ---- RFC 6238 (SHA-1, 6 digits, 30 s steps), as an authenticator app computes it ----------

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.replace(/[\s=]/g, "").toUpperCase()) {
    const i = alphabet.indexOf(ch);
    expect(i >= 0, `the secret is base32 (found ${JSON.stringify(ch)})`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}

const currentStep = () => Math.floor(Date.now() / 1000 / 30);

// ---- Pages -----------------------------------------------------------------------------------

/// With `shots` (env CASTELLAN_BROWSER_SHOTS on the Rust side), a screenshot of the page as
/// the person sees it, to look at the pages.
async function shot(page, name) {
  if (input.shots) {
    await page.screenshot({ path: path.join(input.shots, `${journey}-${name}.png`), fullPage: true });
  }
}

/// Waits until the page is at `pathname` on the server (query ignored).
async function waitForPath(page, pathname) {
  await page.waitForURL((u) => u.origin === base && u.pathname === pathname, { timeout: STEP_MS });
}

/// Fills in the sign-in page (already open) and submits it.
async function signInWithPassword(page) {
  expect(new URL(page.url()).pathname === `${tenantPath}/login`, `on the sign-in page, not ${page.url()}`);
  await page.fill("#email", input.email);
  await page.fill("#password", input.password);
  await Promise.all([
    page.waitForNavigation({ timeout: STEP_MS }),
    page.click("form:has(#password) button[type=submit]"),
  ]);
}

/// Signs in with email and password through the sign-in page, landing on `target`.
async function signInTo(page, target) {
  log(`sign in with a password, to ${target}`);
  await page.goto(`${base}${tenantPath}/login?return_to=${encodeURIComponent(target)}`);
  await signInWithPassword(page);
  await waitForPath(page, target);
}

/// Signs out through Castellan's sign-out page, then checks that nobody is signed in.
async function signOut(page) {
  log("sign out");
  await page.goto(`${base}${tenantPath}/logout`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "You are signed out" }).waitFor({ timeout: STEP_MS });
  await page.goto(`${base}${tenantPath}/`);
  await page.getByRole("heading", { name: "You are not signed in" }).waitFor({ timeout: STEP_MS });
}

/// Waits for the browser to arrive at the app's redirect URI, where the app exchanges the code
/// before it answers, and for the app to say it signed the person in.
async function arriveAtApp(page) {
  await page.waitForURL((u) => u.href.startsWith(input.redirect_uri), { timeout: STEP_MS });
  await page.getByRole("heading", { name: "Signed in to the app" }).waitFor({ timeout: STEP_MS });
  log(`signed in to the app at ${page.url().split("?")[0]}`);
}

/// The texts of the recovery codes the page shows.
async function recoveryCodes(page) {
  const list = page.locator("ul#recovery-codes");
  await list.waitFor({ timeout: STEP_MS });
  const codes = (await list.locator("li").allInnerTexts()).map((c) => c.trim()).filter(Boolean);
  expect(codes.length > 0, "the page shows recovery codes");
  log(`${codes.length} recovery codes shown`);
  return codes;
}

/// A CDP virtual authenticator on `page` that looks like a platform passkey (internal
/// transport, discoverable credentials, user verification that succeeds).
async function addPasskeyAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", ctap2Version: "ctap2_1", transport: "internal",
      hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

// ---- Journeys ----------------------------------------------------------------------------------

/// axe-core's WCAG 2.2 A/AA rules on the page as it is: the violations, each with its rule and
/// the elements it found. axe runs through the DevTools protocol, which the page's CSP (no
/// inline script) does not govern.
async function accessibilityViolations(page) {
  const fs = require("node:fs");
  const axePath = path.join(input.playwright, "node_modules", "axe-core", "axe.min.js");
  expect(fs.existsSync(axePath), `axe-core at ${axePath} (.ci/run installs it)`);
  await page.evaluate(fs.readFileSync(axePath, "utf8"));
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    }));
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}

/// The page at desktop and phone widths: a screenshot of each (with `shots`), and no axe-core
/// violation at either.
async function checkPage(page, name) {
  for (const [width, height, label] of [[1280, 800, "desktop"], [390, 844, "phone"]]) {
    await page.setViewportSize({ width, height });
    await shot(page, `${name}-${label}`);
    const violations = await accessibilityViolations(page);
    expect(violations.length === 0,
      `no accessibility violation on ${name} (${label}): ${JSON.stringify(violations, null, 1)}`);
  }
  log(`${name}: no axe-core violation at desktop and phone widths`);
}

const JOURNEYS = {
  /// An administrator opens the console, is sent to sign in and back, sees the user list,
  /// searches (htmx replaces the table and the address follows), pages, and finds nothing for
  /// a search that matches nobody. Every page state is checked with axe-core and photographed.
  async console_users({ page }) {
    log("open the console");
    await page.goto(`${base}${tenantPath}/console`);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await waitForPath(page, `${tenantPath}/console/users`);
    await page.getByRole("heading", { name: "Users" }).waitFor();
    const rows = await page.locator("#user-table tbody tr").count();
    expect(rows === 50, `50 users on the first page, not ${rows}`);
    await checkPage(page, "users");

    log("search by email prefix");
    await page.fill("#q", "bulk1");
    await page.waitForFunction(() => document.querySelectorAll("#user-table tbody tr").length === 10);
    await page.waitForURL((u) => u.searchParams.get("q") === "bulk1");
    await checkPage(page, "users-search");

    log("a search that finds nobody");
    await page.fill("#q", "nobody here");
    await page.getByText("No user matches").waitFor();
    await checkPage(page, "users-empty");

    log("the second page");
    await page.fill("#q", "");
    await page.waitForFunction(() => document.querySelectorAll("#user-table tbody tr").length === 50);
    await page.getByRole("link", { name: "Next page" }).click();
    await page.waitForURL((u) => u.searchParams.has("cursor"));
    const more = await page.locator("#user-table tbody tr").count();
    expect(more > 0 && more <= 50, `a second page of users, not ${more}`);
    return { first_page: rows, second_page: more };
  },

  /// An administrator opens a user's permissions (signing in on the way), turns a permission's
  /// switch to Grant (htmx replaces the row in place: the page does not reload), then goes to
  /// Roles and creates a role with that permission. Every state is checked with axe-core.
  async console_permissions({ page }) {
    const permissionsPath = `${tenantPath}/console/users/${input.user_id}/permissions`;
    log("open the user's permissions");
    await page.goto(`${base}${permissionsPath}`);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await waitForPath(page, permissionsPath);
    await page.getByRole("heading", { name: /^Permissions of / }).waitFor();
    const row = page.locator("table.permissions tbody tr", { has: page.locator("code", { hasText: input.permission }) });
    expect((await row.locator(".status").innerText()).trim() === "Not held", "the permission starts not held");
    const fromRole = await page.locator("table.permissions tbody tr", { has: page.locator("code", { hasText: "billing:write" }) })
      .locator(".origins").innerText();
    expect(fromRole.includes("Role Billing clerk"), `billing:write comes from the role, not ${fromRole}`);
    await checkPage(page, "permissions");

    log(`grant ${input.permission} with its switch`);
    await page.evaluate(() => { window.__samePage = true; });
    await row.getByRole("button", { name: "Grant" }).click();
    await row.locator(".status-held").waitFor();
    const pressed = await row.getByRole("button", { name: "Grant" }).getAttribute("aria-pressed");
    expect(pressed === "true", `the Grant switch is on, not ${pressed}`);
    expect(await page.evaluate(() => window.__samePage === true), "htmx swapped the row: no reload");
    expect((await row.locator(".origins").innerText()).includes("Granted to this user"), "the row says why");
    await checkPage(page, "permissions-granted");

    log("create a role");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "Roles", exact: true }).click();
    await waitForPath(page, `${tenantPath}/console/roles`);
    await page.getByRole("heading", { name: "Roles" }).waitFor();
    await checkPage(page, "roles");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "New role" }).click();
    await waitForPath(page, `${tenantPath}/console/roles/new`);
    await checkPage(page, "role-new");
    await page.getByLabel("Name").fill(input.role_name);
    await page.getByLabel("Description").fill("People who see invoices");
    await page.getByRole("checkbox", { name: input.permission }).check();
    await page.getByRole("button", { name: "Create role" }).click();
    await waitForPath(page, `${tenantPath}/console/roles`);
    await page.getByText("The role was created.").waitFor();
    await page.getByRole("link", { name: input.role_name, exact: true }).waitFor();
    await checkPage(page, "roles-created");
    return { granted: true };
  },

  /// An administrator finds a user in the console's list, opens their page, deactivates them
  /// after a confirmation step and sees the new status. The user, signed in beforehand in
  /// their own browser, loses that session, and their next sign-in is refused. The user page
  /// and the confirmation page are checked with axe-core and photographed.
  async console_user_deactivate({ context, page }) {
    const security = `${tenantPath}/account/security`;
    log("the user signs in, in their own browser");
    const theirs = await context.browser().newContext({ viewport: { width: 900, height: 700 } });
    const user = await theirs.newPage();
    user.setDefaultTimeout(STEP_MS);
    const signInAsUser = async () => {
      await user.goto(`${base}${tenantPath}/login?return_to=${encodeURIComponent(security)}`);
      await user.fill("#email", input.target_email);
      await user.fill("#password", input.password);
      await Promise.all([
        user.waitForNavigation({ timeout: STEP_MS }),
        user.click("form:has(#password) button[type=submit]"),
      ]);
    };
    await signInAsUser();
    await waitForPath(user, security);

    await signInTo(page, `${tenantPath}/console/users`);
    log("find the user and open their page");
    await page.fill("#q", input.target_email);
    await page.waitForFunction(() => document.querySelectorAll("#user-table tbody tr").length === 1);
    await page.getByRole("link", { name: input.target_name }).click();
    await page.getByRole("heading", { name: input.target_name, level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Profile" }).waitFor();
    await checkPage(page, "user");

    log("a mandatory custom field left empty is refused next to the field, then filled in");
    const field = page.getByLabel("Cost centre");
    await field.fill("");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.locator(".field-error").filter({ hasText: "required" }).waitFor();
    const described = await field.getAttribute("aria-describedby");
    expect(described && described.includes("e-attributes.cost_centre"),
      `the error is tied to the field, not ${described}`);
    await checkPage(page, "user-field-error");
    await field.fill("CC2");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByRole("status").filter({ hasText: "The profile was saved." }).waitFor();

    log("deactivate, after confirming");
    await page.getByRole("link", { name: "Deactivate" }).click();
    await page.getByRole("heading", { name: `Deactivate: ${input.target_name}?` }).waitFor();
    await checkPage(page, "user-confirm");
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByRole("status").filter({ hasText: "deactivated" }).waitFor();
    const badge = (await page.locator(".heading .status").first().innerText()).trim();
    expect(badge === "Deactivated", `the page shows the new status, not ${badge}`);
    const offered = await page.getByRole("link", { name: "Reactivate" }).count();
    expect(offered === 1, "reactivation is offered now");
    await checkPage(page, "user-deactivated");

    log("the user's session has ended and their next sign-in is refused");
    await user.goto(`${base}${security}`);
    await waitForPath(user, `${tenantPath}/login`);
    await signInAsUser();
    const at = new URL(user.url()).pathname;
    expect(at === `${tenantPath}/login`, `the sign-in is refused, not sent on to ${at}`);
    await user.locator("[role=alert]").first().waitFor();
    await theirs.close();
    return { badge };
  },

  /// The owner opens the set-up link the first start printed, chooses a password (a common
  /// one is refused first), and signs in to the console with it. Each state is checked with
  /// axe-core and photographed.
  async owner_setup({ page }) {
    log("open the set-up link");
    await page.goto(input.setup_url);
    await page.getByRole("heading", { name: "Set your password" }).waitFor();
    await checkPage(page, "setup");
    log("a common password is refused");
    await page.getByLabel("New password").fill("password1");
    await page.getByLabel("The same password again").fill("password1");
    await page.getByRole("button", { name: "Set the password" }).click();
    await page.locator("[role=alert]").waitFor();
    await checkPage(page, "setup-refused");
    log("a good one is set");
    await page.getByLabel("New password").fill(input.password);
    await page.getByLabel("The same password again").fill(input.password);
    await page.getByRole("button", { name: "Set the password" }).click();
    log("signed in at once, the owner lands in the console");
    await waitForPath(page, `${tenantPath}/console/users`);
    await page.getByRole("heading", { name: "Users" }).waitFor();
    log("the used link no longer works");
    await page.goto(input.setup_url);
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await checkPage(page, "setup-gone");
    return {};
  },

  /// Opens the app's authorization URL, signs in with email and password, arrives at the app.
  async password({ page }) {
    log("open the app's authorization URL");
    await page.goto(input.authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await arriveAtApp(page);
    return {};
  },

  /// Registers a passkey on the security page and signs out. Then, in a browser without
  /// conditional mediation: the passkey is refused by another tenant, and signs in to the app
  /// with the "Sign in with a passkey" button and no username. Then, signed out again, in a
  /// browser with it: the sign-in page offers the passkey by itself (the virtual authenticator
  /// answers a conditional request at once, standing in for the person picking it). Last, the
  /// passkey as the second factor after the password, and its last use on the security page.
  async passkey({ context, page }) {
    let conditionalMediation = false;
    await page.exposeFunction("__conditionalMediationAllowed", () => conditionalMediation);
    await page.addInitScript(() => {
      const pkc = window.PublicKeyCredential;
      if (pkc && typeof pkc.isConditionalMediationAvailable === "function") {
        const available = pkc.isConditionalMediationAvailable.bind(pkc);
        pkc.isConditionalMediationAvailable = async () =>
          (await window.__conditionalMediationAllowed()) && available();
      }
    });
    const { cdp, authenticatorId } = await addPasskeyAuthenticator(context, page);
    const security = `${tenantPath}/account/security`;
    await signInTo(page, security);

    log("add a passkey");
    await page.fill("#passkey-name", input.passkey_name);
    await page.click('[data-webauthn="register"][data-kind="passkey"]');
    const recovery = await recoveryCodes(page);
    await shot(page, "passkey-recovery-codes");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials.length === 1, `one credential on the authenticator, not ${credentials.length}`);
    expect(credentials[0].isResidentCredential, "the passkey is discoverable (resident)");
    expect(credentials[0].rpId === "localhost", `the relying party id is localhost, not ${credentials[0].rpId}`);

    log("continue to the security page, which lists the passkey");
    await page.getByRole("link", { name: "Continue" }).click();
    await waitForPath(page, security);
    await shot(page, "security-page");
    const factors = await page.locator("#factors li").allInnerTexts();
    expect(factors.some((f) => f.includes(input.passkey_name)), `#factors lists the passkey: ${JSON.stringify(factors)}`);

    await signOut(page);

    const other = `/t/${input.other_tenant}`;
    log(`the passkey is offered on ${other}'s sign-in page (same relying party id) and refused`);
    await page.goto(`${base}${other}/login`);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    const refusal = page.locator("[data-webauthn-error]");
    await refusal.waitFor({ state: "visible", timeout: STEP_MS });
    await shot(page, "other-tenant-refusal");
    const refusalText = (await refusal.innerText()).trim();
    expect(refusalText.length > 0, "a message says why");
    log(`refused: ${refusalText}`);
    expect(new URL(page.url()).pathname === `${other}/login`, `still on the sign-in page, not ${page.url()}`);
    await page.goto(`${base}${other}/`);
    await page.getByRole("heading", { name: "You are not signed in" }).waitFor({ timeout: STEP_MS });

    log("open the app; sign in with the passkey button, typing no username");
    await page.goto(input.authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    expect((await page.inputValue("#email")) === "", "the email field is empty");
    await shot(page, "sign-in-page");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await arriveAtApp(page);
    const afterButton = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(afterButton.credentials[0].signCount > credentials[0].signCount, "the passkey signed an assertion");

    await signOut(page);
    conditionalMediation = true;
    log("open the app again, in a browser offering passkeys in the username field");
    await page.goto(input.conditional_authorize_url);
    await arriveAtApp(page);
    const afterConditional = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(afterConditional.credentials[0].signCount > afterButton.credentials[0].signCount, "the passkey signed again");

    await signOut(page);
    conditionalMediation = false;
    log("open the app again; sign in with the password, then the passkey as second factor");
    await page.goto(input.second_factor_authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await waitForPath(page, `${tenantPath}/login/mfa`);
    await shot(page, "second-factor-page");
    await checkPage(page, "second-factor-passkey");
    await page.getByRole("button", { name: "Use a passkey or security key" }).click();
    await arriveAtApp(page);
    const afterSecond = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(afterSecond.credentials[0].signCount > afterConditional.credentials[0].signCount, "the passkey signed a third time");

    log("the security page tells when the passkey was last used");
    await page.goto(`${base}${security}`);
    const used = await page.locator("#factors li", { hasText: input.passkey_name }).innerText();
    expect(used.includes("last used") && !used.includes("never used"), `the passkey's last use is shown: ${JSON.stringify(used)}`);
    return { recovery_codes: recovery, factors, other_tenant_refusal: refusalText };
  },

  /// Enrols an authenticator app by reading the secret from the page, signs out, signs in to
  /// the app with the password and a code (after a replayed one is refused); signs out and in
  /// again with the password and one of the recovery codes the page showed.
  async totp({ page }) {
    const setup = `${tenantPath}/account/security/totp`;
    await signInTo(page, setup);

    log("read the secret from the page");
    const secret = (await page.locator("code#totp-secret").innerText()).trim();
    expect(/^[A-Z2-7]+=*$/.test(secret.replace(/\s/g, "")), `a base32 secret, not ${JSON.stringify(secret)}`);
    await page.getByText("Show the setup link").click();
    const uri = (await page.locator("#totp-uri").innerText()).trim();
    expect(uri.startsWith("otpauth://totp/"), `an otpauth URI, not ${JSON.stringify(uri)}`);
    expect(new URL(uri).searchParams.get("secret") === secret.replace(/\s/g, ""), "the otpauth URI carries the same secret");
    await page.locator("svg#totp-qr").waitFor({ state: "visible" });
    await checkPage(page, "totp-setup");

    const enrolStep = currentStep();
    log("type the current code and confirm");
    await page.fill("#totp-code", totp(secret, enrolStep));
    await page.getByRole("button", { name: "Confirm" }).click();
    const recovery = await recoveryCodes(page);
    await checkPage(page, "recovery-codes");

    await signOut(page);

    log("open the app; sign in with the password");
    await page.goto(input.authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await waitForPath(page, `${tenantPath}/login/mfa`);

    log("the code already used at enrolment is refused");
    await page.fill("#totp-code", totp(secret, enrolStep));
    await Promise.all([
      page.waitForNavigation({ timeout: STEP_MS }),
      page.click("form:has(#totp-code) button[type=submit]"),
    ]);
    await page.getByText("That code is not right, or it was already used").waitFor({ timeout: STEP_MS });
    const at = new URL(page.url());
    expect(at.origin === base && at.pathname.startsWith(`${tenantPath}/login/mfa`), `still asked for a code, at ${page.url()}`);
    await shot(page, "replayed-code-refused");

    // Each step counts once and the server accepts one step of skew: the next step's code is
    // the fresh code an app would show (without waiting up to 30 s for it).
    log("type a fresh code");
    await page.fill("#totp-code", totp(secret, Math.max(enrolStep + 1, currentStep())));
    await page.click("form:has(#totp-code) button[type=submit]");
    await arriveAtApp(page);

    await signOut(page);
    log("open the app again; sign in with the password and a recovery code read at enrolment");
    await page.goto(input.recovery_authorize_url);
    await waitForPath(page, `${tenantPath}/login`);
    await signInWithPassword(page);
    await waitForPath(page, `${tenantPath}/login/mfa`);
    await page.getByText("Lost your device? Use a recovery code").click();
    await page.fill("#recovery-code", recovery[0]);
    await page.getByRole("button", { name: "Use the recovery code" }).click();
    await arriveAtApp(page);
    return { recovery_codes: recovery };
  },
};

// More journeys live in `journeys/*.cjs`, one file per area of the pages: each exports a
// function that takes the kit below and returns its journeys by name.
const KIT = {
  input, base, tenantPath, STEP_MS, log, expect, totp, currentStep, shot, waitForPath,
  signInWithPassword, signInTo, signOut, arriveAtApp, recoveryCodes, addPasskeyAuthenticator,
  accessibilityViolations, checkPage,
};
{
  const fs = require("node:fs");
  const dir = path.join(__dirname, "journeys");
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    if (!file.endsWith(".cjs")) continue;
    for (const [name, run] of Object.entries(require(path.join(dir, file))(KIT))) {
      expect(!(name in JOURNEYS), `journey ${name} (journeys/${file}) defined once`);
      JOURNEYS[name] = run;
    }
  }
}

// ---- Main ----------------------------------------------------------------------------------------

(async () => {
  const run = JOURNEYS[journey];
  expect(run, `a known journey (${Object.keys(JOURNEYS).join(", ")}), not ${journey}`);
  const browser = await chromium.launch({
    executablePath: input.chromium, headless: true, args: CHROMIUM_ARGS,
  });
  log(`launched Chromium ${browser.version()}`);
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  let code = 0;
  try {
    const result = await run({ context, page });
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    log("done");
  } catch (e) {
    code = 1;
    log(`FAILED at ${page.url()}: ${e && e.stack ? e.stack : e}`);
    const text = await page.locator("body").innerText({ timeout: 2000 }).catch(() => "");
    log(`page text: ${text.slice(0, 1500)}`);
    if (input.screenshot) {
      await page.screenshot({ path: input.screenshot, fullPage: true }).catch(() => {});
      log(`screenshot: ${input.screenshot}`);
    }
  } finally {
    await browser.close();
  }
  process.exit(code);
})().catch((e) => {
  log(`FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
