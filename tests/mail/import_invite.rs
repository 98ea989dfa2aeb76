//! `POST /users/import?invite=true` with a mail server (issue 15): each created `invited` user's
//! invitation mail is written to the outbox with their link and arrives with a working link;
//! rows created active get no mail, and a re-run of the file sends nothing again.

use crate::common::{Backend, TestServer};
use crate::sink::{Sink, header, part};
use crate::{backends, worker};
use serde_json::Value;

backends!(imported_invited_users_get_a_working_invitation_mail,);

/// Imports `csv` into acme with `query`; the finished job.
async fn import(s: &TestServer, query: &str, csv: &str) -> Value {
    let res = s
        .client
        .post(format!("{}/t/acme/api/v1/users/import?{query}", s.base))
        .bearer_auth(&s.token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let job: Value = res.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (_, job) = s.get(&format!("/jobs/{id}")).await;
        if job["state"] != "running" {
            assert_eq!(job["state"], "succeeded", "{job}");
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

async fn imported_invited_users_get_a_working_invitation_mail(b: Backend) {
    if Sink::available().is_none() {
        return;
    }
    let sink = Sink::start(0).await;
    let url = sink.url();
    let s = TestServer::start_with(b, |c| c.smtp_url = url.clone()).await;
    let csv = "email,given_name,locale,status\n\
        zoe@acme.test,Zoë <i>,de,invited\n\
        yan@acme.test,Yan,,\n\
        act@acme.test,Act,,active\n";
    let job = import(&s, "invite=true", csv).await;
    assert_eq!(job["counts"]["created"], 3, "{job}");
    let w = worker(&s.store, &sink.url(), 60);
    assert_eq!(w.tick().await.unwrap(), 2, "two invited users, two mails");
    let got = sink.wait_for(2, 10).await;
    let mut to: Vec<&str> = got.iter().map(|m| header(m, "To")).collect();
    to.sort();
    assert_eq!(to, ["yan@acme.test", "zoe@acme.test"]);
    for m in &got {
        let text = part(m, "text/plain");
        let start = text.find("http").expect("a link");
        let link = text[start..].split_whitespace().next().unwrap();
        let link = link.trim_end_matches(['.', ')', '>']);
        assert!(link.contains("/t/acme/setup?link="), "{link}");
        let res = s.client.get(link).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(!part(m, "text/html").contains("Zoë <i>"), "escaped");
    }
    // Again: every row unchanged, no new invitation.
    let job = import(&s, "invite=true", csv).await;
    assert_eq!(job["counts"]["unchanged"], 3, "{job}");
    assert_eq!(w.tick().await.unwrap(), 0);
}
