//! The SCIM filter grammar (RFC 7644 §3.4.2.2): any text either parses or is refused with an
//! error, never a panic, and a parsed filter's attribute paths parse again on their own.
#![no_main]

use castellan::scim::filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = filter::parse(text);
    let _ = filter::parse_attr_path(text);
});
