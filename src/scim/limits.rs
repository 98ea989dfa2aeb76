//! How long SCIM strings may be, in characters. RFC 7643 sets no maxima; these accept what
//! Microsoft Entra ID and Okta document for the attributes they provision (Entra: displayName
//! up to 256, jobTitle 128, department and companyName 64, streetAddress 1024,
//! userPrincipalName 113; Okta: login 100, profile strings up to 1024) and still bound what
//! one resource can store.

/// `userName`: Entra's userPrincipalName (113) and Okta's login (100) fit; it is indexed.
pub const USER_NAME: usize = 256;
/// `externalId` (Entra sends an objectId, Okta a 20-character id).
pub const EXTERNAL_ID: usize = 256;
/// An email address (RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its brackets).
pub const EMAIL: usize = 254;
/// Free text: displayName, nickName, title, name parts, enterprise fields, a plural value's
/// display, locality and region.
pub const TEXT: usize = 1024;
/// Codes and labels: `type`s, locale, timezone, preferredLanguage, userType, postalCode,
/// country.
pub const SHORT: usize = 256;
/// A group's displayName (Entra's maximum; it is indexed).
pub const GROUP_NAME: usize = 256;
