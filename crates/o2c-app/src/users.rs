//! People who sign in to the pages: staff users (a role, a password) and customers' portal users
//! (one customer account, a sign-in link by e-mail, optionally a password). Passwords are kept as
//! argon2id hashes; sessions and links only as SHA-256 of their token (`sessions`).

pub mod sessions;

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use o2c_core::{DomainError, Role};
use o2c_store::{Conn, Row, params};
use serde::Serialize;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask for a little more).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What a user may reach: the back office with a role, or one customer's portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Access {
    Staff { role: Role },
    Portal { customer_id: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    #[serde(flatten)]
    pub access: Access,
    pub active: bool,
    pub has_password: bool,
    pub created_at: String,
}

impl User {
    pub fn role(&self) -> Option<Role> {
        match &self.access {
            Access::Staff { role } => Some(*role),
            Access::Portal { .. } => None,
        }
    }
    pub fn customer_id(&self) -> Option<&str> {
        match &self.access {
            Access::Staff { .. } => None,
            Access::Portal { customer_id } => Some(customer_id),
        }
    }
    /// The role's name, or `portal` for a customer's user.
    pub fn role_name(&self) -> &'static str {
        self.role().map_or("portal", |r| r.as_str())
    }
}

/// An e-mail address as typed: trimmed, lower-cased, one `@` with text on both sides and a dot
/// in the domain. Deliverability is the invitation's job.
pub fn parse_email(raw: &str) -> Result<String> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
               && !domain.ends_with('.') && !domain.contains('@'));
    if ok {
        Ok(e)
    } else {
        Err(DomainError::invalid(
            "email",
            format!("`{}` is not an e-mail address", raw.trim()),
        )
        .into())
    }
}

fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters, got {n}"),
        )
        .into());
    }
    if n > 512 {
        return Err(DomainError::invalid("password", "at most 512 characters").into());
    }
    Ok(())
}

/// The argon2id hash of a password, in PHC string form (salt and parameters included).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| crate::AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::AppError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time a real verification takes, so that an unknown e-mail address answers as
/// slowly as a wrong password (no account discovery by timing).
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, h);
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub access: Access,
    pub password: Option<&'a str>,
}

fn check_identity(email: &str, name: &str) -> Result<String> {
    let email = parse_email(email)?;
    if name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    if name.chars().count() > 200 {
        return Err(DomainError::invalid("name", "at most 200 characters").into());
    }
    Ok(email)
}

/// Checks a new user before any hashing (so that bad input costs nothing).
pub fn check_new(u: &NewUser<'_>) -> Result<String> {
    let email = check_identity(u.email, u.name)?;
    if let Some(p) = u.password {
        check_password(p)?;
    }
    if matches!(u.access, Access::Staff { .. }) && u.password.is_none() {
        return Err(DomainError::invalid("password", "a staff user needs one").into());
    }
    Ok(email)
}

/// Creates a user. `password_hash` is computed by the caller outside the write transaction
/// (argon2 takes tens of milliseconds: never inside the single writer).
pub fn create_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    u: &NewUser<'_>,
    password_hash: Option<&str>,
) -> Result<User> {
    // The password itself was checked (and hashed) by the caller.
    let email = check_identity(u.email, u.name)?;
    if matches!(u.access, Access::Staff { .. }) && password_hash.is_none() {
        return Err(DomainError::invalid("password", "a staff user needs one").into());
    }
    let (role, customer_id) = match &u.access {
        Access::Staff { role } => (role.as_str(), None),
        Access::Portal { customer_id } => {
            crate::customer::get(conn, customer_id)?;
            ("portal", Some(customer_id.as_str()))
        }
    };
    if conn
        .query_opt(
            "SELECT id FROM users WHERE email = $1",
            params![email.as_str()],
        )?
        .is_some()
    {
        return Err(DomainError::invalid(
            "email",
            format!("a user with the e-mail {email} already exists"),
        )
        .into());
    }
    let id = format!("usr_{}", ctx.ids.next_raw());
    conn.execute(
        "INSERT INTO users (id, email, name, role, customer_id, password_hash, active, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
        params![id.as_str(), email.as_str(), u.name.trim(), role, customer_id, password_hash,
                ctx.timestamp(), ctx.actor.name()],
    )?;
    let user = get(conn, &id)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::UserCreated,
            aggregate_type: "user",
            aggregate_id: &id,
            order_id: None,
            customer_id,
            data: &user,
        },
    )?;
    Ok(user)
}

const COLUMNS: &str =
    "id, email, name, role, customer_id, active, password_hash IS NOT NULL, created_at";

fn from_row(r: &Row) -> Option<User> {
    let access = match (r.text(3).as_str(), r.opt_text(4)) {
        ("portal", Some(customer_id)) => Access::Portal { customer_id },
        (role, _) => Access::Staff {
            role: Role::parse(role)?,
        },
    };
    Some(User {
        id: r.text(0),
        email: r.text(1),
        name: r.text(2),
        access,
        active: r.int(5) == 1,
        has_password: r.int(6) == 1,
        created_at: r.text(7),
    })
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<User> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
        params![id],
    )?
    .as_ref()
    .and_then(from_row)
    .ok_or_else(|| not_found("user", id))
}

/// A user by e-mail with its password hash (for signing in).
pub fn find_for_sign_in(
    conn: &mut dyn Conn,
    email: &str,
) -> Result<Option<(User, Option<String>)>> {
    let email = email.trim().to_lowercase();
    let row = conn.query_opt(
        &format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1"),
        params![email],
    )?;
    Ok(row.and_then(|r| from_row(&r).map(|u| (u, r.opt_text(8)))))
}

/// Staff users first, then portal users; by e-mail.
pub fn list(conn: &mut dyn Conn) -> Result<Vec<User>> {
    Ok(conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM users ORDER BY CASE WHEN role = 'portal' THEN 1 ELSE 0 END, email"
            ),
            params![],
        )?
        .iter()
        .filter_map(from_row)
        .collect())
}

pub fn for_customer(conn: &mut dyn Conn, customer_id: &str) -> Result<Vec<User>> {
    Ok(conn
        .query(
            &format!("SELECT {COLUMNS} FROM users WHERE customer_id = $1 ORDER BY email"),
            params![customer_id],
        )?
        .iter()
        .filter_map(from_row)
        .collect())
}

pub fn count_staff(conn: &mut dyn Conn) -> Result<i64> {
    Ok(conn
        .query_one(
            "SELECT COUNT(*) FROM users WHERE role <> 'portal'",
            params![],
        )?
        .int(0))
}

/// What an admin may change on a user. `None` leaves a field as it is.
#[derive(Debug, Default, Clone, Serialize)]
pub struct UserChange {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Only whether the password changed is recorded, never the hash.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub password_changed: bool,
}

/// Changes a user; deactivating or a new password ends its sessions. The last active admin can
/// be neither demoted nor deactivated (nobody could manage users afterwards).
pub fn change_in_tx(conn: &mut dyn Conn, ctx: &Ctx, id: &str, c: &UserChange) -> Result<User> {
    let before = get(conn, id)?;
    // Only what differs is a change (a form sends every field).
    let c = &UserChange {
        role: c.role.filter(|r| Some(*r) != before.role()),
        active: c.active.filter(|a| *a != before.active),
        password_hash: c.password_hash.clone(),
        password_changed: c.password_changed,
    };
    if c.role.is_none() && c.active.is_none() && c.password_hash.is_none() {
        return Ok(before);
    }
    if let Some(role) = c.role
        && before.role().is_none()
    {
        return Err(DomainError::invalid(
            "role",
            format!(
                "{} is a portal user; it cannot take the role {}",
                before.email,
                role.as_str()
            ),
        )
        .into());
    }
    let loses_admin = before.role() == Some(Role::Admin)
        && before.active
        && (c.active == Some(false) || c.role.is_some_and(|r| r != Role::Admin));
    if loses_admin {
        let admins = conn
            .query_one(
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1",
                params![],
            )?
            .int(0);
        if admins <= 1 {
            return Err(DomainError::invalid(
                "role",
                "the last active admin must stay an active admin",
            )
            .into());
        }
    }
    if let Some(role) = c.role {
        conn.execute(
            "UPDATE users SET role = $1 WHERE id = $2",
            params![role.as_str(), id],
        )?;
    }
    if let Some(active) = c.active {
        conn.execute(
            "UPDATE users SET active = $1 WHERE id = $2",
            params![active, id],
        )?;
    }
    if let Some(h) = &c.password_hash {
        conn.execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            params![h.as_str(), id],
        )?;
    }
    if c.active == Some(false) || c.password_hash.is_some() {
        sessions::end_all_for_user_in_tx(conn, id)?;
    }
    let after = get(conn, id)?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::UserChanged,
            aggregate_type: "user",
            aggregate_id: id,
            order_id: None,
            customer_id: after.customer_id(),
            data: serde_json::json!({
                "role": c.role.map(|r| r.as_str()),
                "active": c.active,
                "password_changed": c.password_hash.is_some(),
            }),
        },
    )?;
    Ok(after)
}

/// Invites a customer's user to the portal: creates the user (no password) and queues an e-mail
/// with a one-time sign-in link, sent by the delivery worker like every customer message.
/// Returns the user; the link exists only in that e-mail.
pub fn invite_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    customer_id: &str,
    email: &str,
    name: &str,
    public_url: &str,
) -> Result<User> {
    let user = create_in_tx(
        conn,
        ctx,
        &NewUser {
            email,
            name,
            access: Access::Portal {
                customer_id: customer_id.to_string(),
            },
            password: None,
        },
        None,
    )?;
    send_link_in_tx(conn, ctx, &user, public_url, "portal_invite")?;
    Ok(user)
}

/// Queues an e-mail to a portal user with a fresh one-time sign-in link.
pub fn send_link_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    user: &User,
    public_url: &str,
    kind: &str,
) -> Result<()> {
    let customer_id = user
        .customer_id()
        .ok_or_else(|| DomainError::invalid("user", "sign-in links are for portal users"))?;
    let token = sessions::new_token();
    sessions::create_link_in_tx(conn, ctx, &user.id, &token)?;
    let company = crate::billing::company(conn)?.name;
    let link = format!("{}/portal/link/{token}", public_url.trim_end_matches('/'));
    let body = format!(
        "Hello {},\n\n{company} invites you to its customer portal: your orders and their \
         shipments, your invoices (PDF and e-invoice), your statement, and paying online.\n\n\
         Sign in with this link (it works once, within {} hours):\n{link}\n\n\
         If you did not expect this message, ignore it.\n",
        user.name,
        sessions::LINK_HOURS
    );
    let id = format!("ntf_{}", ctx.ids.next_raw());
    conn.execute(
        "INSERT INTO notifications (id, customer_id, kind, dedupe_key, recipient, subject, body, status, attempts, next_attempt_at, message_id, created_at)
         VALUES ($1, $2, $3, $1, $4, $5, $6, 'pending', 0, $7, $8, $7)",
        params![id.as_str(), customer_id, kind, user.email.as_str(),
                format!("Your sign-in link for {company}"), body, ctx.timestamp(), format!("<{id}@o2c>")],
    )?;
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::PortalLinkSent,
            aggregate_type: "user",
            aggregate_id: &user.id,
            order_id: None,
            customer_id: Some(customer_id),
            data: serde_json::json!({"email": user.email, "kind": kind}),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_trimmed_lower_cased_and_checked() {
        assert_eq!(
            parse_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.de",
            "a@.de",
        ] {
            assert!(parse_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn short_passwords_are_refused_naming_the_length() {
        let e = check_password("short").unwrap_err().to_string();
        assert!(e.contains("password") && e.contains("got 5"), "{e}");
    }
}
