//! What every page shares: the layout (menu by role, the signed-in user, the CSRF token), and
//! small formatting helpers. Amounts are formatted from minor units by the currency's exponent.

use crate::error::WebResult;
use crate::session::{
    AdminArea, AnyStaff, Area, CashArea, CollectionsArea, CreditArea, CustomerAdmin, IntakeArea,
    Staff, reaches,
};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use o2c_core::{Currency, Money, Role};

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The frame of a page: title, menu, who is signed in.
pub struct Layout {
    pub title: String,
    pub user_name: String,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub portal: bool,
    pub sign_out: &'static str,
}

const STAFF_MENU: &[(&str, &str, &[Role])] = &[
    ("/app", "Dashboard", AnyStaff::ROLES),
    ("/app/credit-holds", "Credit holds", CreditArea::ROLES),
    (
        "/app/intake-exceptions",
        "Intake exceptions",
        IntakeArea::ROLES,
    ),
    ("/app/cash-exceptions", "Cash application", CashArea::ROLES),
    ("/app/cases", "Customer service", CustomerAdmin::ROLES),
    ("/app/disputes", "Disputes", CollectionsArea::ROLES),
    ("/app/collections", "Collections", CollectionsArea::ROLES),
    ("/app/search", "Search", AnyStaff::ROLES),
    ("/app/users", "Users", AdminArea::ROLES),
    ("/app/api-keys", "API keys", AdminArea::ROLES),
];

impl Layout {
    pub fn staff<A: Area>(s: &Staff<A>, title: impl Into<String>, current: &str) -> Layout {
        Layout {
            title: title.into(),
            user_name: s.user.name.clone(),
            role: s.role.as_str().to_string(),
            csrf: s.csrf.clone(),
            nav: STAFF_MENU
                .iter()
                .filter(|(_, _, roles)| reaches(s.role, roles))
                .map(|(href, label, _)| NavItem {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            portal: false,
            sign_out: "/app/sign-out",
        }
    }

    pub fn portal(c: &crate::session::Customer, title: impl Into<String>, current: &str) -> Layout {
        let items: [(&'static str, &'static str); 4] = [
            ("/portal", "My account"),
            ("/portal/statement", "Statement"),
            ("/portal/help", "Ask us"),
            ("/portal/contact", "Contact details"),
        ];
        Layout {
            title: title.into(),
            user_name: c.user.name.clone(),
            role: "customer".into(),
            csrf: c.csrf.clone(),
            nav: items
                .iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            portal: true,
            sign_out: "/portal/sign-out",
        }
    }

    /// A page before sign-in: no menu, no user.
    pub fn public(title: impl Into<String>, portal: bool) -> Layout {
        Layout {
            title: title.into(),
            user_name: String::new(),
            role: String::new(),
            csrf: String::new(),
            nav: Vec::new(),
            portal,
            sign_out: "",
        }
    }
}

/// Renders a template as an HTML response.
pub fn render(t: &impl Template) -> WebResult<Response> {
    Ok(Html(t.render()?).into_response())
}

pub fn render_status(status: StatusCode, t: &impl Template) -> WebResult<Response> {
    Ok((status, Html(t.render()?)).into_response())
}

/// `1234.50 EUR` from minor units and a currency code; the code alone if it is unknown.
pub fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// `2026-11-23 14:05` from an RFC 3339 timestamp (UTC), or the text as it is.
pub fn when(ts: &str) -> String {
    if ts.len() >= 16 && ts.as_bytes()[10] == b'T' {
        format!("{} {}", &ts[..10], &ts[11..16])
    } else {
        ts.to_string()
    }
}

/// `order.credit_held` → `Credit held`: event types as people read them.
pub fn event_label(kind: &str) -> String {
    let last = kind.rsplit('.').next().unwrap_or(kind).replace('_', " ");
    let mut c = last.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Who did it, as people read it.
pub fn actor_label(kind: &str, id: &str) -> String {
    match kind {
        "rule" => format!("automation {id}"),
        "user" => format!("user {id}"),
        "api_key" => format!("API key {id}"),
        "cli" => format!("command line ({id})"),
        _ => format!("{kind} {id}"),
    }
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only local paths are followed after sign-in (no open redirect to another site).
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => default.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_currency_exponent() {
        assert_eq!(money(123450, "EUR"), "1234.50 EUR");
        assert_eq!(money(1234, "JPY"), "1234 JPY");
        assert_eq!(money(1234, "KWD"), "1.234 KWD");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/app/orders/x"), "/app"), "/app/orders/x");
        assert_eq!(safe_next(Some("//evil.example"), "/app"), "/app");
        assert_eq!(safe_next(Some("https://evil.example"), "/app"), "/app");
        assert_eq!(safe_next(Some("/\\evil.example"), "/app"), "/app");
        assert_eq!(safe_next(None, "/portal"), "/portal");
    }

    #[test]
    fn event_types_read_as_words() {
        assert_eq!(event_label("order.credit_held"), "Credit held");
        assert_eq!(when("2026-11-23T14:05:09.123Z"), "2026-11-23 14:05");
    }
}
