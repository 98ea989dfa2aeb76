//! One page of a list the console searches by name (groups, accounts, account groups):
//! searched, sorted and cut by the database, so that a tenant with tens of thousands of them
//! reads one page, not all of them.

use super::{AccountGroupId, DomainError, GroupId, Result};

/// The longest search the lists take, in characters.
pub const SEARCH_MAX: usize = 200;

/// The highest page number a list is asked for (beyond, the page is as empty as any past the
/// end).
const PAGE_MAX: u32 = 1_000_000;

/// Which page of a list searched by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPage {
    /// Names containing this, folded as [`super::scim::fold`] folds names; empty: every name.
    pub search: String,
    /// From 1.
    pub number: u32,
    pub size: u32,
}

impl NamedPage {
    /// The `number`th page (from 1) of `size` rows whose name contains `search` in any case.
    /// A search of control characters or longer than [`SEARCH_MAX`] is refused (`q`).
    pub fn new(search: &str, number: usize, size: u32) -> Result<Self> {
        let search = search.trim();
        if search.chars().count() > SEARCH_MAX || search.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "q",
                format!("a search is at most {SEARCH_MAX} printable characters"),
            ));
        }
        Ok(NamedPage {
            search: super::scim::fold(search),
            number: u32::try_from(number).unwrap_or(PAGE_MAX).clamp(1, PAGE_MAX),
            size: size.clamp(1, 1000),
        })
    }

    /// How many rows come before this page.
    pub fn offset(&self) -> i64 {
        i64::from(self.number - 1) * i64::from(self.size)
    }
}

/// A page of rows, and how many rows the whole (searched) list has.
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Listed<T> {
    /// Whether rows follow this page.
    pub fn has_more(&self, page: &NamedPage) -> bool {
        page.offset() + (self.items.len() as i64) < self.total
    }
}

/// A group as its list shows it.
#[derive(Clone, Debug)]
pub struct GroupLine {
    pub id: GroupId,
    pub display_name: String,
    pub description: Option<String>,
    /// Has an external id: provisioned by a directory (SCIM).
    pub directory: bool,
    pub members: i64,
    pub roles: i64,
}

/// An account group as its list shows it.
#[derive(Clone, Debug)]
pub struct AccountGroupLine {
    pub id: AccountGroupId,
    pub name: String,
    pub description: Option<String>,
    pub accounts: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded_and_searches_folded() {
        let p = NamedPage::new("  ÉQUIPE ", 0, 25).unwrap();
        assert_eq!((p.search.as_str(), p.number, p.offset()), ("équipe", 1, 0));
        let p = NamedPage::new("", usize::MAX, 25).unwrap();
        assert_eq!(p.offset(), i64::from(PAGE_MAX - 1) * 25);
        assert!(NamedPage::new("a\0b", 1, 25).is_err());
        assert!(NamedPage::new(&"x".repeat(SEARCH_MAX + 1), 1, 25).is_err());
        let listed = Listed {
            items: vec![1; 25],
            total: 50,
        };
        assert!(listed.has_more(&NamedPage::new("", 1, 25).unwrap()));
        assert!(!listed.has_more(&NamedPage::new("", 2, 25).unwrap()));
    }
}
