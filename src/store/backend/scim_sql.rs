//! SCIM filters and sorts compiled to SQL. Every value is a bound parameter; only column names
//! and operators chosen here are written into the text. Each comparison is made NULL-safe
//! (`COALESCE(..., FALSE)`), so that `not (...)` means "does not match" for missing values too.

use super::DIALECT;
use crate::domain::scim::{
    AddressSub, Cond, FieldKind, GroupField, Multi, Op, PluralSub, UserField, Value, fold,
};
use crate::domain::{DomainError, Result};
use crate::store::Dialect;

/// A bound parameter.
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// SQL text under construction and its parameters (`$1` is always the tenant id).
pub struct Sql {
    pub text: String,
    pub args: Vec<Bind>,
}

impl Sql {
    pub fn new(tenant: &str) -> Self {
        Self {
            text: String::new(),
            args: vec![Bind::Text(tenant.to_owned())],
        }
    }

    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, b: Bind) -> String {
        self.args.push(b);
        format!("${}", self.args.len())
    }
}

/// A field's SQL expression and how it compares.
struct Column {
    expr: String,
    kind: FieldKind,
    /// The expression holds folded text (`domain::scim::fold`): a `*_norm` column or a `*_f`
    /// shadow. Every case-insensitive text field has one, so comparison and sorting are
    /// bytewise over folded text on both databases, whatever the locale.
    normalised: bool,
}

fn text_collate() -> &'static str {
    match DIALECT {
        Dialect::Sqlite => "",
        Dialect::Postgres => " COLLATE \"C\"",
    }
}

/// The expression of a user field, relative to `u` (users), `e` (user_emails), `gm`/`g`
/// (group_members/groups) or `ua` (user_attributes).
fn user_column(f: &UserField) -> Column {
    let col = |c: &str| folded_column(format!("u.{c}"), f.kind());
    match f {
        UserField::Id => col("id"),
        UserField::ExternalId => col("external_id"),
        UserField::UserName => Column {
            expr: "u.username_norm".into(),
            kind: f.kind(),
            normalised: true,
        },
        UserField::GivenName => col("given_name"),
        UserField::FamilyName => col("family_name"),
        UserField::MiddleName => col("middle_name"),
        UserField::HonorificPrefix => col("honorific_prefix"),
        UserField::HonorificSuffix => col("honorific_suffix"),
        UserField::DisplayName => col("display_name"),
        UserField::NickName => col("nick_name"),
        UserField::Title => col("title"),
        UserField::UserType => col("user_type"),
        UserField::PreferredLanguage => col("preferred_language"),
        UserField::Locale => col("locale"),
        UserField::Timezone => col("timezone"),
        UserField::Active => Column {
            expr: "(u.status IN ('active', 'invited'))".into(),
            kind: f.kind(),
            normalised: false,
        },
        UserField::Created => col("created_at"),
        UserField::LastModified => col("updated_at"),
        UserField::EmployeeNumber => col("employee_number"),
        UserField::CostCenter => col("cost_center"),
        UserField::Organization => col("organization"),
        UserField::Division => col("division"),
        UserField::Department => col("department"),
        UserField::ManagerId => Column {
            expr: "(SELECT m.manager_id FROM management m WHERE m.target_user_id = u.id AND m.from_scim)"
                .into(),
            kind: f.kind(),
            normalised: false,
        },
        UserField::EmailValue => Column {
            expr: "e.value_norm".into(),
            kind: f.kind(),
            normalised: true,
        },
        UserField::EmailType => folded_column("e.type".into(), f.kind()),
        UserField::EmailPrimary => Column {
            expr: "e.is_primary".into(),
            kind: f.kind(),
            normalised: false,
        },
        UserField::Plural(_, sub) => match sub {
            PluralSub::Value => Column {
                expr: "pv.value_norm".into(),
                kind: f.kind(),
                normalised: true,
            },
            PluralSub::Display => folded_column("pv.display".into(), f.kind()),
            PluralSub::Type => folded_column("pv.type".into(), f.kind()),
            PluralSub::Primary => folded_column("pv.is_primary".into(), f.kind()),
        },
        UserField::Address(sub) => folded_column(
            format!(
                "ad.{}",
                match sub {
                    AddressSub::Type => "type",
                    AddressSub::Primary => "is_primary",
                    AddressSub::Formatted => "formatted",
                    AddressSub::StreetAddress => "street_address",
                    AddressSub::Locality => "locality",
                    AddressSub::Region => "region",
                    AddressSub::PostalCode => "postal_code",
                    AddressSub::Country => "country",
                }
            ),
            f.kind(),
        ),
        UserField::GroupId => Column {
            expr: "gm.group_id".into(),
            kind: f.kind(),
            normalised: false,
        },
        UserField::GroupDisplay => folded_column("g.display_name".into(), f.kind()),
        UserField::GroupType => constant_column("direct", f.kind()),
        UserField::GroupRef(prefix) => reference(prefix, "gm.group_id"),
        UserField::ManagerRef(prefix) => reference(
            prefix,
            "(SELECT m.manager_id FROM management m WHERE m.target_user_id = u.id AND m.from_scim)",
        ),
        UserField::Unvalued(_) => Column {
            expr: "CAST(NULL AS TEXT)".into(),
            kind: f.kind(),
            normalised: false,
        },
        // The attribute id is bound where its subquery is written (`user_cond`, `user_sort`).
        UserField::Custom(_) => match f.kind() {
            FieldKind::Number => Column {
                expr: "ua.num".into(),
                kind: f.kind(),
                normalised: false,
            },
            kind => folded_column("ua.value".into(), kind),
        },
    }
}

/// A column as it compares: its folded shadow when it is case-insensitive text, else itself.
fn folded_column(expr: String, kind: FieldKind) -> Column {
    if kind == (FieldKind::Text { case_exact: false }) {
        Column {
            expr: format!("{expr}_f"),
            kind,
            normalised: true,
        }
    } else {
        Column {
            expr,
            kind,
            normalised: false,
        }
    }
}

/// A value every row of a multi-valued attribute shows (`groups.type`, `members.type`), as
/// folded text when it compares case-insensitively.
fn constant_column(value: &str, kind: FieldKind) -> Column {
    let value = match kind {
        FieldKind::Text { case_exact: false } => fold(value),
        _ => value.to_owned(),
    };
    // The store's own constants, never the client's text.
    debug_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()));
    Column {
        expr: format!("CAST('{value}' AS TEXT)"),
        kind,
        normalised: true,
    }
}

/// A `$ref` (RFC 7643 §2.3.7, compared case-insensitively as `/Schemas` says): the resource's
/// URI, that is the folded prefix (the server's own text, never the client's, written as a
/// quoted literal) then the id, which is already folded (ids are lowercase). NULL when there is
/// no id (no manager).
fn reference(prefix: &str, id_expr: &str) -> Column {
    Column {
        expr: format!("({} || {id_expr})", sql_text(&fold(prefix))),
        kind: FieldKind::Text { case_exact: false },
        normalised: true,
    }
}

/// `s` as an SQL string literal (standard quoting: `'` doubled; backslashes are plain text on
/// both databases).
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn group_column(f: &GroupField) -> Column {
    let expr = match f {
        GroupField::MemberType => return constant_column("User", f.kind()),
        GroupField::MemberRef(prefix) => return reference(prefix, "gm.user_id"),
        GroupField::Id => "g.id",
        GroupField::ExternalId => "g.external_id",
        GroupField::DisplayName => "g.display_name",
        GroupField::Created => "g.created_at",
        GroupField::LastModified => "g.updated_at",
        GroupField::MemberId => "gm.user_id",
    };
    folded_column(expr.into(), f.kind())
}

/// `%`, `_` and `\` escaped for LIKE ... ESCAPE '\'.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `*`, `?` and `[` escaped for SQLite's GLOB (case-sensitive matching).
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// The smallest string greater than every string starting with `prefix` (byte order).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn bad(message: impl Into<String>) -> DomainError {
    DomainError::invalid("filter", message)
}

/// One comparison, NULL-safe.
/// One comparison; under `not` (`neg`) made NULL-safe, elsewhere left bare so indexes serve it.
fn compare(sql: &mut Sql, col: &Column, op: Op, value: &Value, neg: bool) -> Result<String> {
    if *value == Value::Null {
        return match op {
            Op::Eq => Ok(format!("({} IS NULL)", col.expr)),
            Op::Ne => Ok(format!("({} IS NOT NULL)", col.expr)),
            _ => Err(bad("null can only be compared with eq or ne")),
        };
    }
    let positive = match (col.kind, value) {
        (FieldKind::Text { case_exact }, Value::Text(v)) => text_compare(
            sql,
            col,
            case_exact,
            if op == Op::Ne { Op::Eq } else { op },
            v,
        )?,
        (FieldKind::Boolean, Value::Bool(b)) => match op {
            Op::Eq | Op::Ne => {
                // Custom boolean attributes are stored as the text `true` / `false`.
                if col.expr == "ua.value" {
                    let p = sql.bind(Bind::Text(b.to_string()));
                    format!("ua.value = {p}")
                } else {
                    let p = sql.bind(Bind::Bool(*b));
                    format!("{} = {p}", col.expr)
                }
            }
            _ => return Err(bad("booleans can only be compared with eq or ne")),
        },
        (FieldKind::DateTime, Value::Time(t)) => {
            let p = sql.bind(Bind::Int(*t));
            ordered(&col.expr, if op == Op::Ne { Op::Eq } else { op }, &p)?
        }
        (FieldKind::Number, Value::Number(n)) => {
            let p = sql.bind(Bind::Float(*n));
            ordered(&col.expr, if op == Op::Ne { Op::Eq } else { op }, &p)?
        }
        _ => return Err(bad("the value does not have the attribute's type")),
    };
    if op == Op::Ne {
        Ok(format!("(NOT COALESCE(({positive}), FALSE))"))
    } else if neg {
        Ok(format!("COALESCE(({positive}), FALSE)"))
    } else {
        Ok(format!("({positive})"))
    }
}

fn ordered(expr: &str, op: Op, p: &str) -> Result<String> {
    let sym = match op {
        Op::Eq => "=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        _ => return Err(bad("co, sw and ew apply only to strings")),
    };
    Ok(format!("{expr} {sym} {p}"))
}

fn text_compare(sql: &mut Sql, col: &Column, case_exact: bool, op: Op, v: &str) -> Result<String> {
    // Operands are compared as sent (no trimming); case-insensitive ones folded like the column.
    let (expr, v) = if case_exact {
        (col.expr.clone(), v.to_owned())
    } else if col.normalised {
        (col.expr.clone(), fold(v))
    } else {
        return Err(DomainError::Internal(format!(
            "{} is case-insensitive text without a folded form",
            col.expr
        )));
    };
    let c = text_collate();
    Ok(match op {
        Op::Eq => {
            let p = sql.bind(Bind::Text(v));
            format!("{expr} = {p}")
        }
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            let p = sql.bind(Bind::Text(v));
            ordered(&format!("{expr}{c}"), op, &p)?
        }
        Op::Co | Op::Sw | Op::Ew => {
            let m = match DIALECT {
                // SQLite's LIKE ignores ASCII case; GLOB compares exactly (folded or exact text).
                Dialect::Sqlite => {
                    let e = glob_escape(&v);
                    let pat = match op {
                        Op::Co => format!("*{e}*"),
                        Op::Sw => format!("{e}*"),
                        _ => format!("*{e}"),
                    };
                    let p = sql.bind(Bind::Text(pat));
                    format!("{expr} GLOB {p}")
                }
                _ => {
                    let e = like_escape(&v);
                    let pat = match op {
                        Op::Co => format!("%{e}%"),
                        Op::Sw => format!("{e}%"),
                        _ => format!("%{e}"),
                    };
                    let p = sql.bind(Bind::Text(pat));
                    format!("{expr}{c} LIKE {p} ESCAPE '\\'")
                }
            };
            // A prefix on a normalised (indexed) column is also a range, which the index serves.
            if op == Op::Sw && col.normalised && !v.is_empty() {
                let lo = sql.bind(Bind::Text(v.clone()));
                let range = match prefix_upper_bound(&v) {
                    Some(hi) => {
                        let hi = sql.bind(Bind::Text(hi));
                        format!("{expr}{c} >= {lo} AND {expr}{c} < {hi}")
                    }
                    None => format!("{expr}{c} >= {lo}"),
                };
                format!("{range} AND {m}")
            } else {
                m
            }
        }
        Op::Ne => unreachable!("ne is compiled as not eq"),
    })
}

fn present(col: &Column) -> String {
    match col.kind {
        // Never NULL: `IS NOT NULL` is false first.
        FieldKind::Text { .. } => format!("({e} IS NOT NULL AND {e} <> '')", e = col.expr),
        _ => format!("({} IS NOT NULL)", col.expr),
    }
}

/// Where a condition is evaluated: on the user row, or on one row of a multi-valued table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    Row(Multi),
}

/// Whether the filter is best driven by a subquery's index (a multi-valued or custom attribute
/// that must hold) rather than by a users index (no `userName` or `externalId` equality).
/// SQLite has no statistics to tell, so the store then keeps it off the tenant index.
pub fn driven_by_subquery(c: &Cond<UserField>) -> bool {
    fn drives(c: &Cond<UserField>) -> bool {
        match c {
            Cond::And(a, b) => drives(a) || drives(b),
            Cond::Within(..) => true,
            Cond::Compare { field, op, .. } => {
                *op != Op::Ne && (field.multi().is_some() || matches!(field, UserField::Custom(_)))
            }
            _ => false,
        }
    }
    fn indexed(c: &Cond<UserField>) -> bool {
        match c {
            Cond::And(a, b) => indexed(a) || indexed(b),
            Cond::Compare {
                field: UserField::UserName | UserField::ExternalId | UserField::Id,
                op: Op::Eq,
                ..
            } => true,
            _ => false,
        }
    }
    drives(c) && !indexed(c)
}

/// Compiles a user filter (over `users u`).
pub fn user_filter(sql: &mut Sql, c: &Cond<UserField>) -> Result<String> {
    user_cond(sql, c, Scope::Top, false)
}

/// `neg`: the condition stands under an odd number of `not`, where a NULL comparison must
/// count as false rather than unknown.
fn user_cond(sql: &mut Sql, c: &Cond<UserField>, scope: Scope, neg: bool) -> Result<String> {
    Ok(match c {
        Cond::And(a, b) => format!(
            "({} AND {})",
            user_cond(sql, a, scope, neg)?,
            user_cond(sql, b, scope, neg)?
        ),
        Cond::Or(a, b) => format!(
            "({} OR {})",
            user_cond(sql, a, scope, neg)?,
            user_cond(sql, b, scope, neg)?
        ),
        Cond::Not(a) => format!("(NOT {})", user_cond(sql, a, scope, !neg)?),
        Cond::Within(multi, inner) => {
            if scope != Scope::Top {
                return Err(bad("value filters cannot nest"));
            }
            let body = user_cond(sql, inner, Scope::Row(*multi), false)?;
            multi_subquery(sql, *multi, &body)?
        }
        Cond::Compare { field, .. } | Cond::Present(field) => {
            let col = user_column(field);
            // In a subquery of its own, the comparison is positive again.
            let subquery = matches!(field, UserField::Custom(_))
                || (field.multi().is_some() && scope == Scope::Top);
            let body = match c {
                Cond::Compare { op, value, .. } => {
                    compare(sql, &col, *op, value, neg && !subquery)?
                }
                _ => present(&col),
            };
            match (field, field.multi(), scope) {
                (UserField::Custom(def), _, _) => {
                    let a = sql.bind(Bind::Text(def.id.0.clone()));
                    format!(
                        "u.id IN (SELECT ua.user_id FROM user_attributes ua WHERE ua.attribute_id = {a} AND {body})"
                    )
                }
                (_, None, Scope::Top) => body,
                (_, Some(m), Scope::Top) => multi_subquery(sql, m, &body)?,
                (_, Some(m), Scope::Row(r)) if m == r => body,
                _ => {
                    return Err(bad(
                        "a value filter names an attribute of another attribute",
                    ));
                }
            }
        }
    })
}

fn multi_subquery(_sql: &mut Sql, multi: Multi, body: &str) -> Result<String> {
    Ok(match multi {
        Multi::Emails => format!(
            "u.id IN (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = $1 AND {body})"
        ),
        Multi::Groups => format!(
            "u.id IN (SELECT gm.user_id FROM group_members gm JOIN groups g ON g.id = gm.group_id \
             WHERE g.tenant_id = $1 AND {body})"
        ),
        // The attribute's name is one of the store's own constants, never the client's text.
        Multi::Plurals(p) => format!(
            "u.id IN (SELECT pv.user_id FROM user_values pv WHERE pv.tenant_id = $1 \
             AND pv.attribute = '{}' AND {body})",
            p.name()
        ),
        Multi::Addresses => format!(
            "u.id IN (SELECT ad.user_id FROM user_addresses ad WHERE ad.tenant_id = $1 AND {body})"
        ),
        Multi::Members => return Err(bad("members is an attribute of groups")),
    })
}

/// Compiles a group filter (over `groups g`).
pub fn group_filter(sql: &mut Sql, c: &Cond<GroupField>) -> Result<String> {
    group_cond(sql, c, Scope::Top, false)
}

fn group_cond(sql: &mut Sql, c: &Cond<GroupField>, scope: Scope, neg: bool) -> Result<String> {
    Ok(match c {
        Cond::And(a, b) => format!(
            "({} AND {})",
            group_cond(sql, a, scope, neg)?,
            group_cond(sql, b, scope, neg)?
        ),
        Cond::Or(a, b) => format!(
            "({} OR {})",
            group_cond(sql, a, scope, neg)?,
            group_cond(sql, b, scope, neg)?
        ),
        Cond::Not(a) => format!("(NOT {})", group_cond(sql, a, scope, !neg)?),
        Cond::Within(multi, inner) => {
            if scope != Scope::Top || *multi != Multi::Members {
                return Err(bad("groups have one multi-valued attribute: members"));
            }
            let body = group_cond(sql, inner, Scope::Row(*multi), false)?;
            members_subquery(&body)
        }
        Cond::Compare { field, .. } | Cond::Present(field) => {
            let col = group_column(field);
            let subquery = field.multi().is_some() && scope == Scope::Top;
            let body = match c {
                Cond::Compare { op, value, .. } => {
                    compare(sql, &col, *op, value, neg && !subquery)?
                }
                _ => present(&col),
            };
            match (field.multi(), scope) {
                (None, Scope::Top) => body,
                (Some(_), Scope::Top) => members_subquery(&body),
                (Some(_), Scope::Row(_)) => body,
                _ => {
                    return Err(bad(
                        "a value filter names an attribute of another attribute",
                    ));
                }
            }
        }
    })
}

fn members_subquery(body: &str) -> String {
    format!(
        "g.id IN (SELECT gm.group_id FROM group_members gm JOIN users mu ON mu.id = gm.user_id \
         WHERE mu.tenant_id = $1 AND {body})"
    )
}

/// The ORDER BY expression for sorting users by `f` (multi-valued: the primary or first value).
pub fn user_sort(sql: &mut Sql, f: &UserField) -> String {
    let c = text_collate();
    let col = user_column(f);
    let text = matches!(col.kind, FieldKind::Text { .. });
    let expr = match (f, f.multi()) {
        (UserField::Custom(def), _) => {
            let a = sql.bind(Bind::Text(def.id.0.clone()));
            let v = if col.kind == FieldKind::Number {
                "ua.num"
            } else {
                "ua.value_f"
            };
            format!(
                "(SELECT {v} FROM user_attributes ua WHERE ua.user_id = u.id AND ua.attribute_id = {a})"
            )
        }
        (_, Some(Multi::Emails)) => format!(
            "(SELECT {} FROM user_emails e WHERE e.user_id = u.id ORDER BY e.is_primary DESC, e.position LIMIT 1)",
            sort_text(&col)
        ),
        (_, Some(Multi::Plurals(p))) => format!(
            "(SELECT {} FROM user_values pv WHERE pv.user_id = u.id AND pv.attribute = '{}' \
             ORDER BY pv.is_primary DESC, pv.position LIMIT 1)",
            sort_text(&col),
            p.name()
        ),
        (_, Some(Multi::Addresses)) => format!(
            "(SELECT {} FROM user_addresses ad WHERE ad.user_id = u.id ORDER BY ad.is_primary DESC, ad.position LIMIT 1)",
            sort_text(&col)
        ),
        (_, Some(_)) => format!(
            "(SELECT MIN({}) FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = u.id)",
            sort_text(&col)
        ),
        _ => sort_text(&col),
    };
    if text { format!("{expr}{c}") } else { expr }
}

fn sort_text(col: &Column) -> String {
    col.expr.clone()
}

/// The ORDER BY expression for sorting groups by `f`.
pub fn group_sort(f: &GroupField) -> String {
    let col = group_column(f);
    let expr = match f.multi() {
        Some(_) => format!(
            "(SELECT MIN({}) FROM group_members gm JOIN users mu ON mu.id = gm.user_id WHERE gm.group_id = g.id)",
            sort_text(&col)
        ),
        None => sort_text(&col),
    };
    if matches!(col.kind, FieldKind::Text { .. }) {
        format!("{expr}{}", text_collate())
    } else {
        expr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(like_escape("a%b_c\\"), "a\\%b\\_c\\\\");
        assert_eq!(glob_escape("a*b?[c]"), "a[*]b[?][[]c]");
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
    }

    #[test]
    fn values_are_bound_never_written() {
        let mut sql = Sql::new("t");
        let c = Cond::Compare {
            field: UserField::UserName,
            op: Op::Eq,
            value: Value::Text("x' OR 1=1 --".into()),
        };
        let text = user_filter(&mut sql, &c).unwrap();
        assert!(!text.contains("OR 1=1"), "{text}");
        assert_eq!(sql.args.len(), 2);
    }
}
