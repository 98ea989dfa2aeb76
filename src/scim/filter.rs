//! The SCIM filter language (RFC 7644 §3.4.2.2), parsed into an AST that the store compiles to
//! SQL. Keywords, operators and attribute names are case-insensitive; precedence is
//! `not` > `and` > `or`; parentheses group. Hostile input is bounded: length and nesting depth
//! are limited, so a filter can never exhaust the stack.

use std::fmt;

/// The longest filter accepted, in bytes.
pub const MAX_LEN: usize = 8 * 1024;
/// The deepest nesting of parentheses, `not` and value filters accepted.
pub const MAX_DEPTH: usize = 32;

/// `[URI ":"] ATTRNAME ["." subAttr]`, e.g. `name.familyName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when given (as written; compare case-insensitively).
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// `compValue = false / null / true / number / string` (JSON literals).
#[derive(Clone, Debug, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work" and value co "@x.com"]`: the inner filter's paths name
    /// sub-attributes of one value of the multi-valued `path`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// Why a filter was refused (SCIM answers `400` with `scimType: invalidFilter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    /// Byte offset in the filter where the problem was found.
    pub at: usize,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

impl std::error::Error for FilterError {}

/// Parses a whole filter.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_LEN {
        return Err(FilterError {
            message: format!("the filter is longer than {MAX_LEN} bytes"),
            at: 0,
        });
    }
    let mut p = Parser {
        src: input,
        pos: 0,
        depth: 0,
    };
    let f = p.or_expr(false)?;
    p.skip_ws();
    if p.pos < input.len() {
        return Err(p.error(format!("unexpected `{}`", p.rest_preview())));
    }
    Ok(f)
}

/// Parses an attribute path alone (PATCH `path` and `sortBy` use it).
pub fn parse_attr_path(input: &str) -> Result<AttrPath, FilterError> {
    let mut p = Parser {
        src: input,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let path = p.attr_path()?;
    p.skip_ws();
    if p.pos < input.len() {
        return Err(p.error(format!(
            "unexpected `{}` after the attribute path",
            p.rest_preview()
        )));
    }
    Ok(path)
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath`, or `valuePath` optionally followed
/// by `.subAttr`, e.g. `members[value eq "2819c223"]` or `emails[type eq "work"].value`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    /// Selects values of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`.
    pub value_sub: Option<String>,
}

/// Parses a PATCH `path`.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, FilterError> {
    if input.len() > MAX_LEN {
        return Err(FilterError {
            message: format!("the path is longer than {MAX_LEN} bytes"),
            at: 0,
        });
    }
    let mut p = Parser {
        src: input,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let attr = p.attr_path()?;
    let mut out = PatchPath {
        attr,
        filter: None,
        value_sub: None,
    };
    if p.peek() == Some('[') {
        if out.attr.sub.is_some() {
            return Err(p.error("a value filter applies to an attribute, not to a sub-attribute"));
        }
        p.pos += 1;
        p.enter()?;
        out.filter = Some(p.or_expr(true)?);
        p.skip_ws();
        if p.peek() != Some(']') {
            return Err(p.error("expected `]` to close the value filter"));
        }
        p.pos += 1;
        if p.peek() == Some('.') {
            p.pos += 1;
            let name = p.peek_word().to_owned();
            if !is_attr_name(&name) {
                return Err(p.error(format!("`{name}` is not a valid sub-attribute name")));
            }
            p.pos += name.len();
            out.value_sub = Some(name);
        }
    }
    p.skip_ws();
    if p.pos < input.len() {
        return Err(p.error(format!("unexpected `{}` in the path", p.rest_preview())));
    }
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> FilterError {
        FilterError {
            message: message.into(),
            at: self.pos,
        }
    }

    fn rest_preview(&self) -> String {
        self.src[self.pos..].chars().take(20).collect()
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// The next word (letters, digits and `:._-$`), without consuming it.
    fn peek_word(&self) -> &str {
        let rest = &self.src[self.pos..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || ":._-$".contains(c)))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Consumes the keyword `kw` (case-insensitive) when it stands next, as a whole word.
    fn keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        if self.peek_word().eq_ignore_ascii_case(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// `or_expr = and_expr *("or" and_expr)`; `in_brackets` stops at `]`.
    fn or_expr(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(in_brackets)?;
        while self.keyword("or") {
            let right = self.and_expr(in_brackets)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(in_brackets)?;
        while self.keyword("and") {
            let right = self.unary(in_brackets)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `not (filter)`, `(filter)`, `attrPath[valFilter]` or an attribute expression.
    fn unary(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        let save = self.pos;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                return Ok(Filter::Not(Box::new(self.group(in_brackets)?)));
            }
            // `not` followed by something else is an attribute named "not..."; re-read it.
            self.pos = save;
        }
        if self.peek() == Some('(') {
            return self.group(in_brackets);
        }
        let path = self.attr_path()?;
        self.skip_ws();
        if self.peek() == Some('[') {
            if in_brackets {
                return Err(self.error("value filters cannot nest"));
            }
            self.pos += 1;
            self.enter()?;
            let inner = self.or_expr(true)?;
            self.depth -= 1;
            self.skip_ws();
            if self.peek() != Some(']') {
                return Err(self.error("expected `]` to close the value filter"));
            }
            self.pos += 1;
            // `emails[type eq "work"].value eq "x"` (Entra): the value filter and a comparison
            // of a sub-attribute, both on one value, i.e. `emails[type eq "work" and value eq "x"]`.
            let inner = if self.peek() == Some('.') {
                self.pos += 1;
                let name = self.peek_word().to_owned();
                if !is_attr_name(&name) {
                    return Err(self.error(format!("`{name}` is not a valid sub-attribute name")));
                }
                self.pos += name.len();
                let sub = AttrPath {
                    uri: None,
                    name,
                    sub: None,
                };
                Filter::And(Box::new(inner), Box::new(self.attr_expr(sub)?))
            } else {
                inner
            };
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        self.attr_expr(path)
    }

    fn group(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        self.pos += 1; // '('
        self.enter()?;
        let inner = self.or_expr(in_brackets)?;
        self.depth -= 1;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.error("expected `)`"));
        }
        self.pos += 1;
        Ok(inner)
    }

    /// `attrPath SP "pr"` or `attrPath SP compareOp SP compValue`.
    fn attr_expr(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        self.skip_ws();
        let word = self.peek_word().to_owned();
        if word.eq_ignore_ascii_case("pr") {
            self.pos += 2;
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::parse(&word).ok_or_else(|| {
            self.error(format!(
                "expected an operator (eq ne co sw ew gt ge lt le pr), found `{word}`"
            ))
        })?;
        self.pos += word.len();
        self.skip_ws();
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn comp_value(&mut self) -> Result<CompValue, FilterError> {
        match self.peek() {
            Some('"') => self.string().map(CompValue::String),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let rest = &self.src[self.pos..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
                    .unwrap_or(rest.len());
                let n: serde_json::Number = serde_json::from_str(&rest[..end])
                    .map_err(|_| self.error(format!("`{}` is not a number", &rest[..end])))?;
                self.pos += end;
                Ok(CompValue::Number(n))
            }
            _ => {
                let word = self.peek_word().to_owned();
                let v = match word.to_ascii_lowercase().as_str() {
                    "true" => CompValue::Bool(true),
                    "false" => CompValue::Bool(false),
                    "null" => CompValue::Null,
                    _ => return Err(self.error(format!("expected a value (a \"string\", number, true, false or null), found `{word}`"))),
                };
                self.pos += word.len();
                Ok(v)
            }
        }
    }

    /// A JSON string literal, escapes included.
    fn string(&mut self) -> Result<String, FilterError> {
        let rest = &self.src[self.pos..];
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    let s = serde_json::from_str(&rest[..=i])
                        .map_err(|e| self.error(format!("bad string: {e}")))?;
                    self.pos += i + 1;
                    return Ok(s);
                }
                _ => {}
            }
        }
        Err(self.error("a string is not closed"))
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let word = self.peek_word().to_owned();
        if word.is_empty() {
            return Err(self.error(format!(
                "expected an attribute name, found `{}`",
                self.rest_preview()
            )));
        }
        let (uri, local) = if word.len() > 4 && word[..4].eq_ignore_ascii_case("urn:") {
            match word.rfind(':') {
                Some(i) if i + 1 < word.len() => (Some(word[..i].to_owned()), &word[i + 1..]),
                _ => return Err(self.error(format!("`{word}` names a schema but no attribute"))),
            }
        } else {
            (None, word.as_str())
        };
        let (name, sub) = match local.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (local, None),
        };
        for part in std::iter::once(name).chain(sub) {
            if !is_attr_name(part) {
                return Err(self.error(format!("`{part}` is not a valid attribute name")));
            }
        }
        self.pos += word.len();
        Ok(AttrPath {
            uri,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA` (`$ref` allowed too).
fn is_attr_name(s: &str) -> bool {
    if s == "$ref" {
        return true;
    }
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> AttrPath {
        AttrPath {
            uri: None,
            name: name.into(),
            sub: None,
        }
    }

    fn s(v: &str) -> CompValue {
        CompValue::String(v.into())
    }

    #[test]
    fn every_operator() {
        for op in [
            "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Sw",
        ] {
            let f = parse(&format!("userName {op} \"bjensen\"")).unwrap();
            assert!(matches!(f, Filter::Compare { .. }), "{op}");
        }
        assert_eq!(parse("title pr").unwrap(), Filter::Present(path("title")));
        assert_eq!(parse("title PR").unwrap(), Filter::Present(path("title")));
    }

    #[test]
    fn values_are_json_literals() {
        let v = |f: &str| match parse(f).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(v(r#"a eq "x \"q\" \u00e9""#), s("x \"q\" é"));
        assert_eq!(v("a eq true"), CompValue::Bool(true));
        assert_eq!(v("a eq False"), CompValue::Bool(false));
        assert_eq!(v("a eq null"), CompValue::Null);
        assert_eq!(
            v("a gt -1.5e3"),
            CompValue::Number(serde_json::Number::from_f64(-1500.0).unwrap())
        );
        assert_eq!(v("a gt 42"), CompValue::Number(42.into()));
    }

    #[test]
    fn precedence_and_grouping() {
        let f = parse("a pr or b pr and c pr").unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(Filter::Present(path("a"))),
                Box::new(Filter::And(
                    Box::new(Filter::Present(path("b"))),
                    Box::new(Filter::Present(path("c")))
                ))
            )
        );
        let g = parse("(a pr or b pr) and not (c pr)").unwrap();
        assert!(
            matches!(g, Filter::And(ref l, ref r) if matches!(**l, Filter::Or(..)) && matches!(**r, Filter::Not(..)))
        );
    }

    #[test]
    fn rfc_examples_parse() {
        for f in [
            r#"userName eq "bjensen""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            "title pr",
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
        ] {
            parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }

    #[test]
    fn uris_and_sub_attributes() {
        let f = parse(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7""#,
        )
        .unwrap();
        let Filter::Compare { path, .. } = f else {
            panic!()
        };
        assert_eq!(
            path.uri.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path.name, "employeeNumber");
        let p = parse_attr_path("name.givenName").unwrap();
        assert_eq!(
            (p.name.as_str(), p.sub.as_deref()),
            ("name", Some("givenName"))
        );
    }

    #[test]
    fn value_filters() {
        let f = parse(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap();
        let Filter::ValuePath { path: p, filter } = f else {
            panic!()
        };
        assert_eq!(p, path("emails"));
        assert!(matches!(*filter, Filter::And(..)));
        assert!(
            parse(r#"emails[type eq "work" and x[y pr]]"#).is_err(),
            "no nested value filters"
        );
    }

    #[test]
    fn value_filter_then_sub_attribute() {
        // Entra: the value filter and the sub-attribute's comparison hold for one value.
        let f = parse(r#"emails[type eq "work"].value eq "x@corp.example""#).unwrap();
        let g = parse(r#"emails[type eq "work" and value eq "x@corp.example"]"#).unwrap();
        assert_eq!(f, g);
        for bad in [
            r#"emails[type eq "work"].value"#,
            r#"emails[type eq "work"]."#,
            r#"emails[type eq "work"].value.x eq "a""#,
            r#"emails[type eq "work"].1x eq "a""#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_named_like_keywords() {
        assert_eq!(parse("notes pr").unwrap(), Filter::Present(path("notes")));
        assert_eq!(parse("order pr").unwrap(), Filter::Present(path("order")));
        assert_eq!(
            parse("android pr").unwrap(),
            Filter::Present(path("android"))
        );
    }

    #[test]
    fn errors_say_where() {
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName xx \"a\"",
            "userName eq bjensen",
            "userName eq \"open",
            "(userName pr",
            "userName pr)",
            "emails[type eq \"work\"",
            "userName pr and",
            "1abc pr",
            "urn:ietf:params:scim:schemas:core:2.0:User: pr",
            "a eq 1.2.3",
            "a eq \"\\x\"",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.message.is_empty(), "{bad}");
        }
        assert_eq!(parse("userName eq bjensen").unwrap_err().at, 12);
    }

    #[test]
    fn patch_paths() {
        let p = parse_patch_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#)
            .unwrap();
        assert_eq!(p.attr, path("members"));
        assert!(matches!(
            p.filter,
            Some(Filter::Compare {
                op: CompareOp::Eq,
                ..
            })
        ));
        assert_eq!(p.value_sub, None);
        let p = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(
            (p.attr.name.as_str(), p.value_sub.as_deref()),
            ("emails", Some("value"))
        );
        let p =
            parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
                .unwrap();
        assert_eq!(p.attr.name, "manager");
        assert!(p.attr.uri.is_some());
        let p = parse_patch_path("name.familyName").unwrap();
        assert_eq!(p.attr.sub.as_deref(), Some("familyName"));
        for bad in [
            "",
            "emails[",
            "emails[type eq \"work\"",
            "emails[type eq \"work\"].",
            "name.givenName[x pr]",
            "a b",
            "emails[type eq \"work\"]x",
        ] {
            assert!(parse_patch_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostile_input_is_bounded() {
        let deep = format!("{}a pr{}", "(".repeat(1_000), ")".repeat(1_000));
        assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
        let huge = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&huge).unwrap_err().message.contains("longer than"));
        let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let nots = format!("{}a pr{}", "not (".repeat(1_000), ")".repeat(1_000));
        assert!(parse(&nots).is_err());
        let long = format!("a eq \"{}\"", "x".repeat(MAX_LEN));
        assert!(parse(&long).unwrap_err().message.contains("longer than"));
        assert!(
            parse("a eq \"é\" and b pr").is_ok(),
            "multi-byte characters"
        );
    }
}
