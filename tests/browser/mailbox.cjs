// Reading the mail the SMTP sink (`tests/support/smtp_sink.py`) received: one JSON file per
// message in a directory, with its headers and decoded parts. Used by the journeys that follow
// a link from a mail.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

/// The link under `marker` in the plain-text part of a mail to `to` in `dir`, waiting
/// for it to arrive.
async function mailedLink(dir, to, marker, expect) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const files = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !f.startsWith("."))
      : [];
    for (const file of files) {
      const mail = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
      const rcpt = mail.headers.find(([name]) => name.toLowerCase() === "to");
      const text = mail.parts.find((p) => p.content_type === "text/plain");
      if (!rcpt || rcpt[1] !== to || !text) continue;
      const found = text.body.split(/\s+/).find((word) => word.includes(marker));
      if (found) return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(false, `a mail to ${to} with a link to ${marker} arrived`);
  return "";
}

module.exports = { mailedLink };
