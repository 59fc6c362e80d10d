//! Signing in and out. Staff: e-mail and password (argon2id), throttled per account and address.
//! Customers: a one-time link sent by e-mail (invitation, or asked for on the sign-in page).

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::session::{self, ClientIp, same_origin, session_token};
use crate::view::{Layout, render_status, safe_next};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::users::{self, sessions};
use o2c_core::Actor;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    action: &'static str,
    portal: bool,
    next: String,
    email: String,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

fn staff_page(next: String, email: String, message: Option<String>) -> SignInPage {
    SignInPage {
        layout: Layout::public("Sign in to o2c", false),
        action: "/app/sign-in",
        portal: false,
        next,
        email,
        message,
        notice: None,
    }
}

pub async fn staff_form(Query(q): Query<NextQuery>) -> WebResult<Response> {
    render_status(
        StatusCode::OK,
        &staff_page(safe_next(q.next.as_deref(), "/app"), String::new(), None),
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
    /// Portal: `link` asks for a sign-in link instead of checking a password.
    #[serde(default)]
    mode: Option<String>,
}

fn locked_message(until: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "Too many failed attempts for this account from your address: try again after {} UTC.",
        until.format("%H:%M")
    )
}

pub async fn staff_submit(
    State(s): State<WebState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(WebError::Csrf);
    }
    password_sign_in(s, ip, headers, f, false).await
}

/// Checks e-mail and password for a staff user (`portal` false) or a portal user, counting
/// failures per account and address; on success starts a session and goes to `next`.
async fn password_sign_in(
    s: WebState,
    ip: String,
    headers: HeaderMap,
    f: SignInForm,
    portal: bool,
) -> WebResult<Response> {
    let page = |next: String, email: String, message: String| {
        let mut p = if portal {
            portal_page(next, email, None)
        } else {
            staff_page(next, email, None)
        };
        p.message = Some(message);
        p
    };
    let next = safe_next(f.next.as_deref(), if portal { "/portal" } else { "/app" });
    let account = f.email.trim().to_lowercase();
    let now = s.app.ctx(Actor::Rule("web")).now;
    let (acc, addr) = (account.clone(), ip.clone());
    let (locked, found) = s
        .app
        .read(move |c| {
            Ok((
                sessions::locked_until(c, &acc, &addr, now)?,
                users::find_for_sign_in(c, &acc)?,
            ))
        })
        .await?;
    if let Some(until) = locked {
        return render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &page(next, f.email, locked_message(until)),
        );
    }
    let password = f.password.clone();
    // argon2 is deliberately slow: off the async threads.
    let user = tokio::task::spawn_blocking(move || match found {
        Some((u, Some(hash))) if u.active && (u.customer_id().is_some() == portal) => {
            users::verify_password(&password, &hash).then_some(u)
        }
        _ => {
            users::verify_nothing(&password);
            None
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    let Some(user) = user else {
        let (acc, addr) = (account.clone(), ip.clone());
        s.app
            .write(Actor::Rule("web.sign_in"), move |c, ctx| {
                sessions::record_failure_in_tx(c, ctx, &acc, &addr)
            })
            .await?;
        return render_status(
            StatusCode::UNAUTHORIZED,
            &page(
                next,
                f.email,
                "The e-mail address or the password is not right.".into(),
            ),
        );
    };
    let token = sessions::new_token();
    let t = token.clone();
    s.app
        .write(Actor::User(user.id.clone()), move |c, ctx| {
            sessions::clear_failures_in_tx(c, &account, &ip)?;
            sessions::start_in_tx(c, ctx, &user.id, &t, "password")
        })
        .await?;
    Ok(signed_in(&s, &headers, &token, &next))
}

fn signed_in(s: &WebState, headers: &HeaderMap, token: &str, next: &str) -> Response {
    let cookie = session::cookie(Some(token), session::is_https(s, headers));
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Ends the session the cookie names (staff and portal alike); the form must carry its token.
pub async fn sign_out(
    State(s): State<WebState>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> WebResult<Response> {
    if let Some(token) = session_token(&headers) {
        let now = s.app.ctx(Actor::Rule("web")).now;
        let t = token.clone();
        let found = s.app.read(move |c| sessions::find(c, &t, now)).await?;
        if let Some(found) = found {
            if !session::same_token(&f.csrf, &found.csrf) {
                return Err(WebError::Csrf);
            }
            s.app
                .write(Actor::User(found.user.id.clone()), move |c, ctx| {
                    sessions::end_in_tx(c, ctx, &token)
                })
                .await?;
            let to = if found.user.customer_id().is_some() {
                "/portal/sign-in"
            } else {
                "/app/sign-in"
            };
            let cookie = session::cookie(None, session::is_https(&s, &headers));
            return Ok(([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response());
        }
    }
    Ok(Redirect::to("/app/sign-in").into_response())
}

fn portal_page(next: String, email: String, notice: Option<String>) -> SignInPage {
    SignInPage {
        layout: Layout::public("Customer portal: sign in", true),
        action: "/portal/sign-in",
        portal: true,
        next,
        email,
        message: None,
        notice,
    }
}

pub async fn portal_form(Query(q): Query<NextQuery>) -> WebResult<Response> {
    render_status(
        StatusCode::OK,
        &portal_page(safe_next(q.next.as_deref(), "/portal"), String::new(), None),
    )
}

/// Sends a fresh link to a portal user. The answer is the same whether or not the address is
/// known (no account discovery); requests count against the throttle like failed sign-ins.
pub async fn portal_request_link(
    State(s): State<WebState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(WebError::Csrf);
    }
    if f.mode.as_deref() != Some("link") {
        return password_sign_in(s, ip, headers, f, true).await;
    }
    let account = f.email.trim().to_lowercase();
    let now = s.app.ctx(Actor::Rule("web")).now;
    let (acc, addr) = (account.clone(), ip.clone());
    let locked = s
        .app
        .read(move |c| sessions::locked_until(c, &acc, &addr, now))
        .await?;
    let next = safe_next(f.next.as_deref(), "/portal");
    if let Some(until) = locked {
        let mut p = portal_page(next, f.email, None);
        p.message = Some(locked_message(until));
        return render_status(StatusCode::TOO_MANY_REQUESTS, &p);
    }
    let base = public_base(&s, &headers);
    s.app
        .write(Actor::Rule("web.portal_link"), move |c, ctx| {
            sessions::record_failure_in_tx(c, ctx, &account, &ip)?;
            match users::find_for_sign_in(c, &account)? {
                Some((u, _)) if u.active && u.customer_id().is_some() => {
                    users::send_link_in_tx(c, ctx, &u, &base, "portal_sign_in_link")
                }
                _ => Ok(()),
            }
        })
        .await?;
    render_status(
        StatusCode::OK,
        &portal_page(
            next,
            String::new(),
            Some("If this address belongs to a portal user, a sign-in link is on its way. It works once, within 72 hours.".into()),
        ),
    )
}

/// Where browsers reach us: `O2C_PUBLIC_URL`, else the Host the request came to.
pub fn public_base(s: &WebState, headers: &HeaderMap) -> String {
    if let Some(u) = &s.public_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

#[derive(Template)]
#[template(path = "portal_link.html")]
struct LinkPage {
    layout: Layout,
    token: String,
}

/// The link from the e-mail shows a button: mail scanners that open links do not use it up.
pub async fn portal_link(Path(token): Path<String>) -> WebResult<Response> {
    render_status(
        StatusCode::OK,
        &LinkPage {
            layout: Layout::public("Customer portal: sign in", true),
            token,
        },
    )
}

pub async fn portal_link_use(
    State(s): State<WebState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> WebResult<Response> {
    if !same_origin(&headers) {
        return Err(WebError::Csrf);
    }
    let session_token = sessions::new_token();
    let st = session_token.clone();
    let redeemed = s
        .app
        .write(
            Actor::Rule("web.portal_link"),
            move |c, ctx| match sessions::redeem_link_in_tx(c, ctx, &token)? {
                Some(u) => {
                    let ctx = o2c_app::Ctx {
                        actor: Actor::User(u.id.clone()),
                        ..ctx.clone()
                    };
                    sessions::start_in_tx(c, &ctx, &u.id, &st, "link")?;
                    Ok(true)
                }
                None => Ok(false),
            },
        )
        .await?;
    if !redeemed {
        let mut p = portal_page("/portal".into(), String::new(), None);
        p.message =
            Some("This sign-in link has been used or has expired. Ask for a new one below.".into());
        return render_status(StatusCode::GONE, &p);
    }
    Ok(signed_in(&s, &headers, &session_token, "/portal"))
}
