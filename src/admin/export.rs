//! CSV export of users, in the import's columns, one keyset page at a time: a caller streams
//! the chunks out and never holds more than one page of users.

use super::import::parse::{COLUMNS, Column, LIST_SEPARATOR};
use super::users::{self, ListUsers};
use crate::domain::attributes::validate_value;
use crate::domain::authz::Caller;
use crate::domain::changes::Relations;
use crate::domain::clock::format_date;
use crate::domain::*;
use crate::store::Store;
use serde_json::Value;

/// Users per page read from the store.
const PAGE: u32 = 500;

/// An export under way: call [`Export::next_chunk`] until it gives `None`.
pub struct Export {
    store: Store,
    caller: Caller,
    defs: Vec<AttributeDef>,
    cursor: Option<String>,
    state: State,
}

#[derive(PartialEq)]
enum State {
    Header,
    Rows,
    Done,
}

impl Export {
    /// Starts an export of the users the caller may read (anonymised users are left out).
    pub async fn start(store: Store, caller: Caller) -> Result<Self> {
        caller.user_read_scope()?;
        let defs = store.attribute_defs(caller.tenant_id()).await?;
        Ok(Export {
            store,
            caller,
            defs,
            cursor: None,
            state: State::Header,
        })
    }

    /// The next piece of the CSV text: the header, then one page of users each time.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        match self.state {
            State::Done => return Ok(None),
            State::Header => {
                let header = COLUMNS
                    .iter()
                    .map(|(n, _)| *n)
                    .chain(self.defs.iter().map(|d| d.key.as_str()));
                out.write_record(header).map_err(csv_error)?;
                self.state = State::Rows;
            }
            State::Rows => {
                let page = users::list(
                    &self.store,
                    &self.caller,
                    ListUsers {
                        limit: Some(PAGE),
                        cursor: self.cursor.take(),
                        ..ListUsers::default()
                    },
                )
                .await?;
                let users: Vec<&User> = page
                    .items
                    .iter()
                    .filter(|u| u.status != UserStatus::Anonymised)
                    .collect();
                let ids: Vec<UserId> = users.iter().map(|u| u.id.clone()).collect();
                let tenant = self.caller.tenant_id();
                let mut held = self.store.relations_of(tenant, &ids).await?;
                for user in users {
                    let relations = held.remove(&user.id).unwrap_or_default();
                    out.write_record(self.row(user, relations))
                        .map_err(csv_error)?;
                }
                self.cursor = page.next_cursor;
                if self.cursor.is_none() {
                    self.state = State::Done;
                }
            }
        }
        out.into_inner()
            .map(Some)
            .map_err(|e| DomainError::Internal(e.to_string()))
    }

    /// Every chunk, one after the other, handed to `sink`.
    pub async fn write_all(mut self, mut sink: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        while let Some(chunk) = self.next_chunk().await? {
            sink(&chunk)?;
        }
        Ok(())
    }

    fn row(&self, u: &User, held: Relations) -> Vec<String> {
        let Relations {
            memberships,
            assignments,
            mut groups,
        } = held;
        groups.sort();
        let main = memberships.iter().find(|m| m.main);
        let roles: Vec<&RoleAssignment> = assignments
            .iter()
            .filter(|a| a.account_id.is_none())
            .collect();
        let main_role = roles.iter().find(|a| a.main);
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let date = |d: Option<time::Date>| d.map(format_date).unwrap_or_default();
        let join = |names: Vec<&str>| names.join(&LIST_SEPARATOR.to_string());
        let mut row = Vec::with_capacity(COLUMNS.len() + self.defs.len());
        for (_, column) in &COLUMNS {
            row.push(match column {
                Column::Email => u.email.clone(),
                Column::Username if u.username == u.email => String::new(),
                Column::Username => u.username.clone(),
                Column::EmailVerified => u.email_verified.to_string(),
                Column::GivenName => opt(&u.given_name),
                Column::FamilyName => opt(&u.family_name),
                Column::DisplayName => opt(&u.display_name),
                Column::Phone => opt(&u.phone),
                Column::Locale => opt(&u.locale),
                Column::Timezone => opt(&u.timezone),
                Column::ExternalId => opt(&u.external_id),
                Column::Status => u.status.as_str().to_owned(),
                Column::MainAccount => main.map(|m| m.account_name.clone()).unwrap_or_default(),
                Column::StartDate => date(main.and_then(|m| m.start_date)),
                Column::EndDate => date(main.and_then(|m| m.end_date)),
                Column::Accounts => join(
                    memberships
                        .iter()
                        .map(|m| m.account_name.as_str())
                        .collect(),
                ),
                Column::MainRole => main_role.map(|a| a.role_name.clone()).unwrap_or_default(),
                Column::Roles => join(roles.iter().map(|a| a.role_name.as_str()).collect()),
                Column::Groups => join(groups.iter().map(String::as_str).collect()),
                Column::Attribute(_) => String::new(),
            });
        }
        for def in &self.defs {
            row.push(attribute_text(def, u.attributes.get(&def.key)));
        }
        row
    }
}

/// An attribute value as a cell: its canonical stored text.
fn attribute_text(def: &AttributeDef, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(v) => validate_value(def, v)
            .map(|s| s.value)
            .unwrap_or_else(|_| v.to_string()),
    }
}

fn csv_error(e: csv::Error) -> DomainError {
    DomainError::Internal(e.to_string())
}
