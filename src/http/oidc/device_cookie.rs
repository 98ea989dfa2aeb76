//! The device cookie (see `domain::devices`): read at sign-in, set at every successful one.
//! HttpOnly, SameSite=Lax, and `__Host-` with Secure when the public URL is https, like the
//! other cookies; it lives `sign_in.device_cookie_days`.

use super::cookies::{self, Kind};
use super::login::secure;
use crate::domain::clock::now_ms;
use crate::domain::devices::{self, Device};
use crate::domain::{Tenant, User};
use crate::http::AppState;
use axum::http::{HeaderMap, header};
use axum::response::Response;

/// The device the browser's cookie names, when it verifies (signed here, for this tenant, not
/// expired). Anything else is no device.
pub fn read(s: &AppState, tenant: &Tenant, headers: &HeaderMap) -> Option<Device> {
    if s.config.sign_in.device_cookie_days == 0 {
        return None;
    }
    let value = cookies::read(headers, Kind::Device, &tenant.slug, secure(s))?;
    devices::verify(s.store.master_key()?, value, &tenant.id, now_ms())
}

/// `res` with a new device cookie for `user` (a new nonce and a full lifetime: each sign-in
/// renews it).
pub fn with_cookie(s: &AppState, tenant: &Tenant, user: &User, mut res: Response) -> Response {
    let lifetime = s.config.sign_in.device_cookie_secs();
    let Some(key) = s.store.master_key().filter(|_| lifetime > 0) else {
        return res;
    };
    let value = devices::issue(key, &tenant.id, &user.id, now_ms(), lifetime);
    if let Some(c) = cookies::set(
        Kind::Device,
        &value,
        &tenant.slug,
        secure(s),
        Some(lifetime),
    ) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
