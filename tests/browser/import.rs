//! The console's Users → Import page in Chromium (issue 15): an administrator uploads a small
//! CSV with one bad row, reads the check's report (the refused row first, nothing written),
//! applies the file, sees the job's progress end and downloads the report; the admin API then
//! shows the two good rows' users and not the bad one.

use crate::app::App;
use crate::apps::administrator;
use crate::common::{Backend, TestServer};
use crate::{chromium, input};

const CSV: &str = "email,given_name,family_name\n\
                   ana.lima@import.test,Ana,Lima\n\
                   not an address,Bad,Row\n\
                   zoé.ülker@import.test,Zoé,Ülker <b>\n";

/// The users of the tenant whose address ends with `@import.test`.
async fn imported(s: &TestServer) -> Vec<serde_json::Value> {
    let (st, v) = s.get("/users?limit=200").await;
    assert_eq!(st, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"].as_str().unwrap_or("").ends_with("@import.test"))
        .cloned()
        .collect()
}

async fn an_administrator_imports_a_csv_from_the_console(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let app = App::start(&s).await;
    administrator(&s, "admin@acme.test").await;
    let mut input = input(&s, &app, "admin@acme.test", "");
    input["csv"] = CSV.into();
    input["bad_line"] = "3".into();
    let result = chromium::run(&tools, "console_import", input).await;

    let report = result["report"].as_str().unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 4, "a header and a line per row: {report}");
    assert!(lines[0].starts_with("line,email"), "{report}");
    let bad = lines
        .iter()
        .find(|l| l.starts_with("3,"))
        .expect("line 3 reported");
    assert!(bad.contains("refused"), "{bad}");
    assert_eq!(
        lines.iter().filter(|l| l.contains(",create,")).count(),
        2,
        "{report}"
    );

    let users = imported(&s).await;
    let mut emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["ana.lima@import.test", "zoé.ülker@import.test"]);
    let zoe = users
        .iter()
        .find(|u| u["given_name"] == "Zoé")
        .expect("Zoé imported");
    assert_eq!(zoe["family_name"], "Ülker <b>", "{zoe}");
}

crate::backends!(an_administrator_imports_a_csv_from_the_console);
