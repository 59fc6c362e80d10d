//! Admin pages: staff users (create, change role, deactivate, new password) and API keys.

use crate::WebState;
use crate::error::{WebError, WebResult};
use crate::session::{AdminArea, Post, Staff};
use crate::view::{Layout, render, render_status, when};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use o2c_app::{auth, users};
use o2c_core::Role;
use serde::Deserialize;

pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub staff: bool,
    pub active: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    message: Option<String>,
    notice: Option<String>,
}

async fn users_page(
    s: &WebState,
    staff: &Staff<AdminArea>,
    status: StatusCode,
    message: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let list = s.app.read(users::list).await?;
    render_status(
        status,
        &UsersPage {
            layout: Layout::staff(staff, "Users", "/app/users"),
            users: list
                .into_iter()
                .map(|u| UserRow {
                    role: u.role_name().to_string(),
                    staff: u.role().is_some(),
                    active: u.active,
                    created: when(&u.created_at),
                    id: u.id,
                    email: u.email,
                    name: u.name,
                })
                .collect(),
            roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
            message,
            notice,
        },
    )
}

pub async fn users(State(s): State<WebState>, staff: Staff<AdminArea>) -> WebResult<Response> {
    users_page(&s, &staff, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

pub async fn create_user(
    State(s): State<WebState>,
    post: Post<Staff<AdminArea>, NewUserForm>,
) -> WebResult<Response> {
    let f = post.form;
    let staff = post.who;
    let result = async {
        let role = parse_role(&f.role)?;
        let new = users::NewUser {
            email: &f.email,
            name: &f.name,
            access: users::Access::Staff { role },
            password: Some(&f.password),
        };
        users::check_new(&new).map_err(WebError::from)?;
        let hash = hash_off_thread(f.password.clone()).await?;
        let (email, name) = (f.email.clone(), f.name.clone());
        s.app
            .write(staff.actor(), move |c, ctx| {
                let new = users::NewUser {
                    email: &email,
                    name: &name,
                    access: users::Access::Staff { role },
                    password: None,
                };
                users::create_in_tx(c, ctx, &new, Some(&hash))
            })
            .await
            .map_err(WebError::from)
    }
    .await;
    match result {
        Ok(u) => {
            let notice = format!("{} can now sign in as {}.", u.email, u.role_name());
            users_page(&s, &staff, StatusCode::CREATED, None, Some(notice)).await
        }
        Err(WebError::Invalid(m)) => {
            users_page(&s, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(m), None).await
        }
        Err(e) => Err(e),
    }
}

fn parse_role(raw: &str) -> WebResult<Role> {
    Role::parse(raw).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        WebError::Invalid(format!("role: expected one of {}", roles.join(", ")))
    })
}

pub async fn hash_off_thread(password: String) -> WebResult<String> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::from)
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

pub async fn change_user(
    State(s): State<WebState>,
    Path(id): Path<String>,
    post: Post<Staff<AdminArea>, ChangeForm>,
) -> WebResult<Response> {
    let f = post.form;
    let staff = post.who;
    let result = async {
        let mut change = users::UserChange {
            role: f
                .role
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(parse_role)
                .transpose()?,
            active: match f.active.as_deref() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                None | Some("") => None,
                Some(other) => {
                    return Err(WebError::Invalid(format!(
                        "active: expected true or false, got `{other}`"
                    )));
                }
            },
            ..Default::default()
        };
        if let Some(p) = f.password.filter(|p| !p.is_empty()) {
            if p.chars().count() < users::MIN_PASSWORD_CHARS {
                return Err(WebError::Invalid(format!(
                    "password: at least {} characters",
                    users::MIN_PASSWORD_CHARS
                )));
            }
            change.password_hash = Some(hash_off_thread(p).await?);
            change.password_changed = true;
        }
        s.app
            .write(staff.actor(), move |c, ctx| {
                users::change_in_tx(c, ctx, &id, &change)
            })
            .await
            .map_err(WebError::from)
    }
    .await;
    match result {
        Ok(u) => {
            let notice = format!("{} changed.", u.email);
            users_page(&s, &staff, StatusCode::OK, None, Some(notice)).await
        }
        Err(WebError::Invalid(m)) => {
            users_page(&s, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(m), None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    layout: Layout,
    keys: Vec<auth::ApiKey>,
    roles: Vec<&'static str>,
    secret: Option<String>,
    message: Option<String>,
}

async fn keys_page(
    s: &WebState,
    staff: &Staff<AdminArea>,
    secret: Option<String>,
    message: Option<String>,
) -> WebResult<Response> {
    let keys = s.app.read(auth::list).await?;
    render(&KeysPage {
        layout: Layout::staff(staff, "API keys", "/app/api-keys"),
        keys,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        secret,
        message,
    })
}

pub async fn keys(State(s): State<WebState>, staff: Staff<AdminArea>) -> WebResult<Response> {
    keys_page(&s, &staff, None, None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    role: String,
    #[serde(default)]
    label: String,
}

pub async fn create_key(
    State(s): State<WebState>,
    post: Post<Staff<AdminArea>, KeyForm>,
) -> WebResult<Response> {
    let staff = post.who;
    let role = match parse_role(&post.form.role) {
        Ok(r) => r,
        Err(WebError::Invalid(m)) => return keys_page(&s, &staff, None, Some(m)).await,
        Err(e) => return Err(e),
    };
    let label = match post.form.label.trim() {
        "" => format!("{} key", role.as_str()),
        l => l.to_string(),
    };
    let (_, secret) = s
        .app
        .write(staff.actor(), move |c, ctx| {
            auth::create_in_tx(c, ctx, role, &label)
        })
        .await?;
    keys_page(&s, &staff, Some(secret), None).await
}

/// After a plain form post without anything to show, back to a page.
pub fn back(to: &str) -> Response {
    Redirect::to(to).into_response()
}
