//! The console's CSV import and export over HTTP (issue 15): upload (multipart), the check's
//! per-row report with nothing written, apply once, the report and export downloads; CSRF on
//! both forms; who may import (as the admin API: not a member; a manager only into the
//! accounts they manage); jobs stay in their tenant.

use crate::backends;
use crate::browser::{Browser, PASSWORD, Page, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::json;

backends!(check_then_apply_a_file, who_may_import_and_csrf);

async fn signed_in_as(s: &TestServer, email: &str, template: &str) -> (Browser, String) {
    let id = user_with_password(s, email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Every new user is a Member already.
    if template != "member" {
        let role = s.role_id(template).await;
        let (st, v) = s
            .post(&format!("/users/{id}/roles"), json!({"role_id": role}))
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let b = Browser::new(s);
    let page = b.sign_in("/t/acme/login", email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    (b, id)
}

/// Posts the import form as a browser does (`multipart/form-data`).
async fn upload(b: &Browser, csrf: &str, file: &[u8], options: &[&str]) -> Page {
    let boundary = "----castellan-test-7c1b";
    let mut body = Vec::new();
    let mut field = |name: &str, filename: Option<&str>, value: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(f) => {
                format!("form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv")
            }
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    field("csrf", None, csrf.as_bytes());
    field("file", Some("people.csv"), file);
    for o in options {
        field(o, None, b"1");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = b
        .http
        .post(b.absolute_url("/t/acme/console/users/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        content_type: String::new(),
        body: res.text().await.unwrap(),
    }
}

/// Follows a job page until it has finished; the finished page.
async fn finished(b: &Browser, url: &str) -> Page {
    for _ in 0..400 {
        let page = b.get(url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if !page.body.contains(">Running<") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

async fn user_count(s: &TestServer) -> usize {
    s.get("/users?limit=200").await.1["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn check_then_apply_a_file(b: Backend) {
    let s = TestServer::start(b).await;
    let (admin, _) = signed_in_as(&s, "admin@acme.test", "administrator").await;
    let list = admin.get("/t/acme/console/users").await;
    assert!(list.body.contains("/console/users/import"), "{}", list.body);
    assert!(list.body.contains("/console/users/export"));
    let form = admin.get("/t/acme/console/users/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf").unwrap();
    let before = user_count(&s).await;
    let file = "\u{feff}email;given_name;status\nzoe@acme.test;Zoë <b>;active\nbad@acme.test;Bad;<b>retired</b>\n";
    let sent = upload(&admin, &csrf, file.as_bytes(), &[]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let job_url = sent.location.unwrap();
    assert!(
        job_url.starts_with("/t/acme/console/users/import/"),
        "{job_url}"
    );
    let page = finished(&admin, &job_url).await;
    assert!(
        page.body.contains("Checked: nothing was written"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("status: `&#60;b&#62;retired&#60;/b&#62;`"),
        "the refusal, on the page, escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<b>retired"));
    assert_eq!(user_count(&s).await, before, "a check writes nothing");
    // htmx polling a finished job: the whole page is reloaded.
    let res = admin
        .http
        .get(admin.absolute_url(&job_url))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["hx-refresh"], "true");
    // The report, downloaded.
    let report = admin.get(&format!("{job_url}/report")).await;
    assert_eq!(report.status, 200);
    assert!(
        report.content_type.starts_with("text/csv"),
        "{}",
        report.content_type
    );
    assert!(
        report
            .body
            .starts_with("line,email,external_id,outcome,reason")
    );
    assert!(
        report.body.contains("zoe@acme.test,,create,"),
        "{}",
        report.body
    );
    // Applying needs the form's CSRF token.
    let apply = format!("{job_url}/apply");
    assert_eq!(
        admin.post_form(&apply, &[("csrf", "forged")]).await.status,
        403
    );
    assert_eq!(user_count(&s).await, before);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let applied = admin.post_form(&apply, &[("csrf", &csrf)]).await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    let done = finished(&admin, &applied.location.unwrap()).await;
    assert!(done.body.contains(">Done<"), "{}", done.body);
    assert!(!done.body.contains("Apply the file"));
    assert_eq!(user_count(&s).await, before + 1);
    // A file is applied once.
    let again = admin.post_form(&apply, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(user_count(&s).await, before + 1);
    // The export: the people as CSV, as the admin API gives them.
    let export = admin.get("/t/acme/console/users/export").await;
    assert_eq!(export.status, 200);
    assert!(export.body.starts_with("email,username"));
    assert!(export.body.contains("zoe@acme.test,,false,Zoë <b>"));
    // Another tenant's job is nobody's here.
    let other = s.other_tenant("other").await;
    let res = s
        .client
        .post(format!(
            "{}/t/other/api/v1/users/import?dry_run=true",
            s.base
        ))
        .bearer_auth(&other)
        .header("content-type", "text/csv")
        .body("email\nx@other.test\n")
        .send()
        .await
        .unwrap();
    let job: serde_json::Value = res.json().await.unwrap();
    let theirs = format!(
        "/t/acme/console/users/import/{}",
        job["id"].as_str().unwrap()
    );
    assert_eq!(admin.get(&theirs).await.status, 404);
    assert_eq!(admin.get(&format!("{theirs}/report")).await.status, 404);
}

async fn who_may_import_and_csrf(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, accounts) = s
        .post("/accounts", json!({"name": "North", "kind": "customer"}))
        .await;
    let north = accounts["id"].as_str().unwrap().to_owned();
    let file = b"email,main_account\nin@acme.test,North\nout@acme.test,\n";
    // A member has no administration rights: no page, no import.
    let (member, _) = signed_in_as(&s, "member@acme.test", "member").await;
    let page = member.get("/t/acme/console/users/import").await;
    assert!(
        page.body.contains("No administration rights"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"file\""));
    let refused = upload(&member, "whatever", file, &[]).await;
    assert_ne!(refused.status, 303, "{}", refused.body);
    // A forged CSRF token: refused, nothing starts.
    let (admin, _) = signed_in_as(&s, "admin@acme.test", "administrator").await;
    let forged = upload(&admin, "forged", file, &[]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let form = admin.get("/t/acme/console/users/import").await;
    let csrf = hidden(&form.body, "csrf").unwrap();
    // No file: said on the form.
    let empty = upload(&admin, &csrf, b"", &[]).await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    // A file that cannot be read as a whole: said on the form, no job.
    let bad = upload(&admin, &csrf, b"name\nx\n", &[]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("neither one of Castellan"),
        "{}",
        bad.body
    );
    // A manager imports only into the accounts they manage (as through the admin API).
    let (manager, mid) = signed_in_as(&s, "manager@acme.test", "manager").await;
    let (st, e) = s
        .post(
            &format!("/users/{mid}/management"),
            json!({"kind": "account", "id": north}),
        )
        .await;
    assert_eq!(st, 201, "{e}");
    let form = manager.get("/t/acme/console/users/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf").unwrap();
    let sent = upload(&manager, &csrf, file, &[]).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = finished(&manager, &sent.location.unwrap()).await;
    assert!(page.body.contains("Would create 1"), "{}", page.body);
    assert!(
        page.body
            .contains("as a manager, give a `main_account` you manage")
    );
}
