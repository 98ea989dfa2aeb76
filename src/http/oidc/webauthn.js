// Castellan: passkeys and security keys on the sign-in and account pages.
// Wires <button data-webauthn="register|login|verify" data-tenant data-csrf
// [data-return-to] [data-kind] [data-name-input]> to /t/{tenant}/webauthn/...
// ([data-base] [data-link]: a link page's own endpoints, and its link sent along).
(function () {
  "use strict";

  var buttons = document.querySelectorAll("[data-webauthn]");
  if (!window.PublicKeyCredential || !navigator.credentials) {
    buttons.forEach(function (b) { b.hidden = true; });
    return;
  }

  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(pk) {
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return pk;
  }

  function requestOptions(pk) {
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return pk;
  }

  // Only the client extension outputs the server reads (others vary between browsers).
  function extensions(cred) {
    var all = {};
    try { all = cred.getClientExtensionResults() || {}; } catch (e) { all = {}; }
    var out = {};
    if (typeof all.appid === "boolean") { out.appid = all.appid; }
    if (all.credProps && typeof all.credProps.rk === "boolean") { out.credProps = { rk: all.credProps.rk }; }
    return out;
  }

  function registration(cred) {
    var r = cred.response;
    var transports = typeof r.getTransports === "function" ? r.getTransports() : undefined;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toBase64url(r.attestationObject),
        clientDataJSON: toBase64url(r.clientDataJSON),
        transports: transports
      },
      extensions: extensions(cred)
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null
      },
      extensions: extensions(cred)
    };
  }

  function post(b, step, payload) {
    // A link page posts to its own endpoints, with its link in every payload.
    var base = b.dataset.base || ("/t/" + encodeURIComponent(b.dataset.tenant) + "/webauthn");
    var url = base + "/" + step;
    if (b.dataset.link) { payload.link = b.dataset.link; }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": b.dataset.csrf || "" },
      body: JSON.stringify(payload)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) {
          throw new Error(body.message || "Something went wrong; please try again.");
        }
        return body;
      });
    });
  }

  function errorBox(b) {
    var el = b;
    while (el) {
      var box = el.querySelector ? el.querySelector("[data-webauthn-error]") : null;
      if (box) { return box; }
      el = el.parentElement;
    }
    return document.querySelector("[data-webauthn-error]");
  }

  function showError(b, err) {
    var box = errorBox(b);
    var text = err && err.name === "NotAllowedError"
      ? "The request was cancelled or timed out."
      : (err && err.message) || String(err);
    if (box) {
      box.textContent = text;
      box.setAttribute("role", "alert");
      box.hidden = false;
    }
  }

  function clearError(b) {
    var box = errorBox(b);
    if (box) { box.hidden = true; box.textContent = ""; }
  }

  function go(b) {
    if (b.dataset.returnTo) { location.assign(b.dataset.returnTo); } else { location.reload(); }
  }

  function showCodes(b, codes) {
    var box = document.querySelector("[data-webauthn-codes]");
    if (!box) { go(b); return; }
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = "Your recovery codes, each usable once if you lose your authenticators. " +
      "Write them down or store them safely now: they are shown only once.";
    var ul = document.createElement("ul");
    ul.id = "recovery-codes";
    codes.forEach(function (c) {
      var li = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = c;
      li.appendChild(code);
      ul.appendChild(li);
    });
    var a = document.createElement("a");
    a.textContent = "Continue";
    a.href = b.dataset.returnTo || location.href;
    box.appendChild(p);
    box.appendChild(ul);
    box.appendChild(a);
    box.hidden = false;
  }

  function register(b) {
    var nameInput = b.dataset.nameInput ? document.getElementById(b.dataset.nameInput) : null;
    var handle;
    return post(b, "register/start", { kind: b.dataset.kind || "passkey" })
      .then(function (start) {
        handle = start.handle;
        return navigator.credentials.create({ publicKey: creationOptions(start.publicKey) });
      })
      .then(function (cred) {
        return post(b, "register/finish", {
          handle: handle,
          name: nameInput ? nameInput.value : null,
          credential: registration(cred)
        });
      })
      .then(function (done) {
        if (done.redirect) { b.dataset.returnTo = done.redirect; }
        if (done.recovery_codes) { showCodes(b, done.recovery_codes); } else { go(b); }
      });
  }

  function authenticate(b, step, signal, mediation) {
    var handle;
    return post(b, step + "/start", {})
      .then(function (start) {
        handle = start.handle;
        var opts = { publicKey: requestOptions(start.publicKey) };
        if (signal) { opts.signal = signal; }
        if (mediation) { opts.mediation = mediation; }
        return navigator.credentials.get(opts);
      })
      .then(function (cred) {
        return post(b, step + "/finish", {
          handle: handle,
          credential: assertion(cred),
          return_to: b.dataset.returnTo || null
        });
      })
      .then(function (done) { location.assign(done.redirect); });
  }

  var conditional = null;

  buttons.forEach(function (b) {
    b.addEventListener("click", function (ev) {
      ev.preventDefault();
      if (conditional) { conditional.abort(); conditional = null; }
      b.disabled = true;
      clearError(b);
      var kind = b.dataset.webauthn;
      var run = kind === "register" ? register(b) : authenticate(b, kind === "verify" ? "verify" : "login");
      run.catch(function (err) {
        showError(b, err);
        b.disabled = false;
      });
    });
  });

  // Offer passkeys in the username field where the browser can (conditional mediation).
  var loginButton = document.querySelector('[data-webauthn="login"]');
  var field = document.querySelector('input[autocomplete~="webauthn"]');
  if (loginButton && field && typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) { return; }
      conditional = new AbortController();
      authenticate(loginButton, "login", conditional.signal, "conditional").catch(function (err) {
        if (err && err.name !== "AbortError") { showError(loginButton, err); }
      });
    }).catch(function () {});
  }
})();
