//! What one row asks for, read from its cells: names resolved to ids through the tenant's
//! catalogue, dates and statuses parsed, custom attribute cells typed by their definitions.

use super::parse::{Column, ImportFile, list};
use crate::admin::users::CreateUser;
use crate::domain::clock::parse_date;
use crate::domain::*;
use crate::store::Store;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// The tenant's accounts, roles and groups by name (case-insensitive), and its attribute
/// definitions: loaded once per import.
pub struct Catalogue {
    accounts: HashMap<String, Vec<AccountId>>,
    roles: HashMap<String, Vec<RoleId>>,
    groups: HashMap<String, Vec<GroupId>>,
    group_names: HashMap<GroupId, String>,
    pub defs: Vec<AttributeDef>,
    /// Roles the caller was found to be allowed to hand out.
    grantable: std::sync::Mutex<std::collections::HashSet<RoleId>>,
}

fn by_name<I: Clone>(items: impl Iterator<Item = (String, I)>) -> HashMap<String, Vec<I>> {
    let mut map: HashMap<String, Vec<I>> = HashMap::new();
    for (name, id) in items {
        map.entry(name.to_lowercase()).or_default().push(id);
    }
    map
}

impl Catalogue {
    pub async fn load(store: &Store, tenant: &TenantId) -> Result<Self> {
        let accounts = store.list_accounts(tenant, None).await?;
        let roles = store.list_roles(tenant).await?;
        let groups = store.list_groups(tenant).await?;
        Ok(Catalogue {
            accounts: by_name(accounts.into_iter().map(|a| (a.name, a.id))),
            roles: by_name(roles.into_iter().map(|r| (r.name, r.id))),
            group_names: groups
                .iter()
                .map(|g| (g.id.clone(), g.display_name.to_lowercase()))
                .collect(),
            groups: by_name(groups.into_iter().map(|g| (g.display_name, g.id))),
            defs: store.attribute_defs(tenant).await?,
            grantable: Default::default(),
        })
    }

    /// [`crate::admin::users::check_grantable_role`], asked once per role and import.
    pub async fn check_grantable(
        &self,
        store: &Store,
        caller: &crate::domain::authz::Caller,
        role: &RoleId,
    ) -> std::result::Result<(), String> {
        let known = self.grantable.lock().is_ok_and(|g| g.contains(role));
        if !known {
            crate::admin::users::check_grantable_role(store, caller, role)
                .await
                .map_err(super::plan::reason)?;
            if let Ok(mut g) = self.grantable.lock() {
                g.insert(role.clone());
            }
        }
        Ok(())
    }

    /// Whether group `id` is the one named `name`.
    pub fn group_is(&self, id: &GroupId, name: &str) -> bool {
        self.group_names
            .get(id)
            .is_some_and(|n| *n == name.to_lowercase())
    }
}

fn resolve<I: Clone>(
    map: &HashMap<String, Vec<I>>,
    what: &str,
    column: &str,
    name: &str,
) -> std::result::Result<I, String> {
    match map.get(&name.to_lowercase()).map(Vec::as_slice) {
        Some([one]) => Ok(one.clone()),
        Some([_, _, ..]) => Err(format!("{column}: several {what}s are named `{name}`")),
        _ => Err(format!("{column}: there is no {what} named `{name}`")),
    }
}

/// A row's wishes: the creation request it amounts to, plus what a creation cannot carry.
#[derive(Debug)]
pub struct Wanted {
    /// `account_id` is the main account; `role_ids` start with the main role.
    pub create: CreateUser,
    pub other_accounts: Vec<AccountId>,
    /// The main membership's dates, when the file has date columns.
    pub dates: Option<(Option<Date>, Option<Date>)>,
    pub groups: Vec<GroupId>,
}

impl Wanted {
    pub fn read(
        cat: &Catalogue,
        file: &ImportFile<'_>,
        cells: &[String],
    ) -> std::result::Result<Self, String> {
        let cell = |c: Column| file.cell(cells, &c).unwrap_or("");
        let text = |c: Column| Some(cell(c).to_owned()).filter(|s| !s.is_empty());
        let email = cell(Column::Email);
        if email.is_empty() {
            return Err("email: missing (the column is mandatory)".to_owned());
        }
        let (account_id, other_accounts) = main_and_others(
            &cat.accounts,
            "account",
            cell(Column::MainAccount),
            cell(Column::Accounts),
        )?;
        let (main_role, other_roles) = main_and_others(
            &cat.roles,
            "role",
            cell(Column::MainRole),
            cell(Column::Roles),
        )?;
        let groups = list(cell(Column::Groups))
            .into_iter()
            .map(|g| resolve(&cat.groups, "group", "groups", g))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let dates = if file.has(&Column::StartDate) || file.has(&Column::EndDate) {
            let start = date(cell(Column::StartDate), "start_date")?;
            let end = date(cell(Column::EndDate), "end_date")?;
            if let (Some(s), Some(e)) = (start, end)
                && e < s
            {
                return Err(format!("end_date: `{e}` is before start_date `{s}`"));
            }
            if account_id.is_none() && (start.is_some() || end.is_some()) {
                return Err("start_date: employment dates need a main_account".to_owned());
            }
            account_id.is_some().then_some((start, end))
        } else {
            None
        };
        let create = CreateUser {
            email: email.to_owned(),
            username: text(Column::Username),
            email_verified: flag(cell(Column::EmailVerified))?,
            given_name: text(Column::GivenName),
            family_name: text(Column::FamilyName),
            display_name: text(Column::DisplayName),
            phone: text(Column::Phone),
            locale: text(Column::Locale),
            timezone: text(Column::Timezone),
            external_id: text(Column::ExternalId),
            status: status(cell(Column::Status))?,
            attributes: attributes(cat, file, cells),
            account_id,
            start_date: dates.and_then(|d| d.0),
            end_date: dates.and_then(|d| d.1),
            role_ids: main_role.into_iter().chain(other_roles).collect(),
            // Invitations are the import's option (`Options::invite`), sent once created.
            invite: false,
        };
        Ok(Wanted {
            create,
            other_accounts,
            dates,
            groups,
        })
    }
}

/// The main item (named, or else the list's first) and the others of the list.
fn main_and_others<I: Clone + PartialEq>(
    map: &HashMap<String, Vec<I>>,
    what: &str,
    main: &str,
    others: &str,
) -> std::result::Result<(Option<I>, Vec<I>), String> {
    let (main_column, list_column) = (format!("main_{what}"), format!("{what}s"));
    let mut all = Vec::new();
    for name in list(others) {
        let id = resolve(map, what, &list_column, name)?;
        if !all.contains(&id) {
            all.push(id);
        }
    }
    let main = match main {
        "" => all.first().cloned(),
        name => Some(resolve(map, what, &main_column, name)?),
    };
    all.retain(|i| Some(i) != main.as_ref());
    Ok((main, all))
}

fn date(cell: &str, column: &str) -> std::result::Result<Option<Date>, String> {
    match cell {
        "" => Ok(None),
        s => parse_date(s)
            .map(Some)
            .ok_or_else(|| format!("{column}: `{s}` is not a date of the form YYYY-MM-DD")),
    }
}

fn flag(cell: &str) -> std::result::Result<bool, String> {
    match cell.to_lowercase().as_str() {
        "" | "false" | "no" | "0" => Ok(false),
        "true" | "yes" | "1" => Ok(true),
        _ => Err(format!("email_verified: `{cell}` is not true or false")),
    }
}

fn status(cell: &str) -> std::result::Result<Option<UserStatus>, String> {
    match cell.to_lowercase().as_str() {
        "" => Ok(None),
        s => match UserStatus::parse(s) {
            Some(st @ (UserStatus::Invited | UserStatus::Active | UserStatus::Inactive)) => {
                Ok(Some(st))
            }
            _ => Err(format!(
                "status: `{cell}` is not one of invited, active, inactive"
            )),
        },
    }
}

/// The attribute cells as the admin API's JSON values: empty is `null` (no value), numbers and
/// booleans typed by their definitions; anything else stays text for validation to judge.
fn attributes(cat: &Catalogue, file: &ImportFile<'_>, cells: &[String]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for def in &cat.defs {
        let Some(cell) = file.cell(cells, &Column::Attribute(def.key.clone())) else {
            continue;
        };
        let value = match (def.kind, cell.to_lowercase().as_str()) {
            (_, "") => Value::Null,
            (AttributeKind::Number, _) => cell
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(cell.to_owned()), Value::Number),
            (AttributeKind::Boolean, "true" | "yes" | "1") => Value::Bool(true),
            (AttributeKind::Boolean, "false" | "no" | "0") => Value::Bool(false),
            _ => Value::String(cell.to_owned()),
        };
        out.insert(def.key.clone(), value);
    }
    out
}
