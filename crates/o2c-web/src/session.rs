//! Who is asking: the session cookie, checked against `web_sessions`, and the guard types a
//! handler cannot forget. `Staff<A>` admits staff whose role reaches area `A` (admins reach
//! every area); `Customer` admits a portal user and carries its one customer id. `Post<G, T>` is
//! the only way a handler reads a form: it runs guard `G` and refuses a form whose CSRF token is
//! not the session's (field `csrf`, or header `X-CSRF-Token` for htmx).

use crate::WebState;
use crate::error::{WebError, WebResult};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use o2c_app::users::User;
use o2c_app::users::sessions::{self, Session};
use o2c_core::{Actor, Role};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::net::SocketAddr;

pub const COOKIE: &str = "o2c_session";

/// Which roles reach a group of pages (admins reach all).
pub trait Area: Send + Sync + 'static {
    const ROLES: &'static [Role];
    const NAME: &'static str;
}

macro_rules! areas {
    ($($name:ident ($label:literal) => [$($role:ident),*];)*) => {$(
        pub struct $name;
        impl Area for $name {
            const ROLES: &'static [Role] = &[Role::Admin $(, Role::$role)*];
            const NAME: &'static str = $label;
        }
    )*};
}

areas! {
    AnyStaff ("the back office") => [Sales, Credit, Warehouse, Receivables, Collector];
    CreditArea ("the credit-hold queue") => [Credit];
    IntakeArea ("the intake exceptions") => [Sales];
    CashArea ("the cash-application queue") => [Receivables];
    CollectionsArea ("disputes and collections") => [Receivables, Collector];
    CustomerAdmin ("customer service and portal invitations") => [Sales, Receivables];
    AdminArea ("users and API keys") => [];
}

pub fn reaches(role: Role, roles: &[Role]) -> bool {
    role == Role::Admin || roles.contains(&role)
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The peer address (sign-in throttling counts per account and address).
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn current(parts: &Parts, state: &WebState) -> WebResult<Option<Session>> {
    let Some(token) = session_token(&parts.headers) else {
        return Ok(None);
    };
    let now = state.app.ctx(Actor::Rule("web")).now;
    Ok(state
        .app
        .read(move |c| sessions::find(c, &token, now))
        .await?)
}

fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

/// A signed-in staff user whose role reaches area `A`.
pub struct Staff<A: Area> {
    pub user: User,
    pub role: Role,
    pub csrf: String,
    _a: PhantomData<A>,
}

impl<A: Area> Staff<A> {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.id.clone())
    }
}

impl<A: Area> FromRequestParts<WebState> for Staff<A> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> WebResult<Self> {
        let session = current(parts, state).await?;
        let Some(s) = session else {
            return Err(WebError::SignIn {
                portal: false,
                next: here(parts),
                htmx: parts.headers.contains_key("hx-request"),
            });
        };
        let Some(role) = s.user.role() else {
            return Err(WebError::Forbidden(
                "This is the back office; your account is a customer's: use /portal.".into(),
            ));
        };
        if !reaches(role, A::ROLES) {
            return Err(WebError::Forbidden(format!(
                "Your role ({}) does not reach {}.",
                role.as_str(),
                A::NAME
            )));
        }
        Ok(Staff {
            user: s.user,
            role,
            csrf: s.csrf,
            _a: PhantomData,
        })
    }
}

/// A signed-in portal user; everything it reads is filtered by `customer_id`.
pub struct Customer {
    pub user: User,
    pub customer_id: String,
    pub csrf: String,
}

impl Customer {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.id.clone())
    }
}

impl FromRequestParts<WebState> for Customer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> WebResult<Self> {
        let session = current(parts, state).await?;
        let Some(s) = session else {
            return Err(WebError::SignIn {
                portal: true,
                next: here(parts),
                htmx: parts.headers.contains_key("hx-request"),
            });
        };
        let Some(customer_id) = s.user.customer_id().map(str::to_string) else {
            return Err(WebError::Forbidden(
                "The portal is for customers' users; staff work in /app.".into(),
            ));
        };
        Ok(Customer {
            user: s.user,
            customer_id,
            csrf: s.csrf,
        })
    }
}

/// A guard that carries the session's CSRF token.
pub trait Guard: FromRequestParts<WebState, Rejection = WebError> + Send {
    fn csrf(&self) -> &str;
}
impl<A: Area> Guard for Staff<A> {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}
impl Guard for Customer {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A form sent by a signed-in user: guard `G` passed and the CSRF token matched.
pub struct Post<G: Guard, T> {
    pub who: G,
    pub form: T,
    /// Sent by htmx (answer with a fragment rather than a redirect).
    pub htmx: bool,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Compares without stopping at the first difference (no timing oracle on the token).
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl<G: Guard, T: DeserializeOwned + Send> FromRequest<WebState> for Post<G, T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> WebResult<Self> {
        let (mut parts, body) = req.into_parts();
        let who = G::from_request_parts(&mut parts, state).await?;
        let htmx = parts.headers.contains_key("hx-request");
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let raw = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| WebError::Invalid(format!("could not read the form: {e}")))?;
        let field = serde_urlencoded::from_bytes::<CsrfField>(&raw)
            .map(|f| f.csrf)
            .unwrap_or_default();
        let sent = if field.is_empty() {
            header_token.unwrap_or_default()
        } else {
            field
        };
        if !same_token(&sent, who.csrf()) {
            return Err(WebError::Csrf);
        }
        let form = serde_urlencoded::from_bytes::<T>(&raw)
            .map_err(|e| WebError::Invalid(format!("the form: {e}")))?;
        Ok(Post { who, form, htmx })
    }
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that ends it).
pub fn cookie(token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            sessions::SESSION_HOURS * 3600
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// Whether the browser reached us over https (directly or through a proxy that says so), or the
/// configured public address is https.
pub fn is_https(state: &WebState, headers: &HeaderMap) -> bool {
    state
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The caller's address as text (`unknown` when the server was not started with connect info).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Refuses a sign-in form posted from another site (login CSRF): the browser's `Sec-Fetch-Site`
/// or `Origin` must say it came from this one.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, h)| h.eq_ignore_ascii_case(host)),
        // Old browsers and tools send neither; the session cookie is SameSite=Lax anyway.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

impl<A: Area> Staff<A> {
    /// The same signed-in user under another area's guard, once the caller has checked that
    /// area's roles (used to show a page after an action the user was allowed to take).
    pub(crate) fn from_user(user: User, role: Role, csrf: String) -> Staff<A> {
        Staff {
            user,
            role,
            csrf,
            _a: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_over_https() {
        let c = cookie(Some("ab"), true);
        assert_eq!(
            c,
            "o2c_session=ab; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200; Secure"
        );
        assert!(!cookie(Some("ab"), false).contains("Secure"));
        assert!(cookie(None, false).contains("Max-Age=0"));
    }

    #[test]
    fn a_session_token_is_read_only_when_it_has_the_right_shape() {
        let mut h = HeaderMap::new();
        let t = "a".repeat(64);
        h.insert(
            header::COOKIE,
            format!("x=1; {COOKIE}={t}").parse().unwrap(),
        );
        assert_eq!(session_token(&h), Some(t));
        h.insert(
            header::COOKIE,
            format!("{COOKIE}=../../etc").parse().unwrap(),
        );
        assert_eq!(session_token(&h), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd") && !same_token("abc", "ab") && !same_token("", "a"));
    }
}
