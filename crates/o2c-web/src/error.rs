//! What a page answers when it cannot show what was asked: a page of its own with the right
//! status, never a stack trace. 5xx causes are logged once, here.

use askama::Template;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use o2c_app::AppError;
use o2c_core::DomainError;

#[derive(Debug)]
pub enum WebError {
    /// Not there, or not yours (a portal user asking for another customer's document).
    NotFound,
    /// Signed in, but the role does not reach this page.
    Forbidden(String),
    /// Not signed in (or the session ended): go to this sign-in page, then come back.
    SignIn {
        portal: bool,
        next: String,
        /// Asked by htmx: answer so that it loads the sign-in page whole.
        htmx: bool,
    },
    /// A form that did not carry the session's CSRF token.
    Csrf,
    /// A broken rule or bad input: the message says which field and why.
    Invalid(String),
    Internal(String),
}

pub type WebResult<T> = Result<T, WebError>;

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(DomainError::NotFound { .. }) => WebError::NotFound,
            AppError::Domain(d) => WebError::Invalid(d.to_string()),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
    home: &'a str,
}

fn error_page(status: StatusCode, title: &str, detail: &str, home: &str) -> Response {
    let body = ErrorPage {
        status: status.as_u16(),
        title,
        detail,
        home,
    }
    .render()
    .unwrap_or_else(|_| title.to_string());
    (status, Html(body)).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.",
                "/",
            ),
            WebError::Forbidden(why) => {
                error_page(StatusCode::FORBIDDEN, "Not for your role", &why, "/app")
            }
            WebError::SignIn { portal, next, htmx } => {
                let page = if portal {
                    "/portal/sign-in"
                } else {
                    "/app/sign-in"
                };
                let to = format!("{page}?next={}", crate::view::url_encode(&next));
                if htmx {
                    // htmx would follow a redirect inside the page: tell it to load the sign-in
                    // page whole instead.
                    let mut r = StatusCode::UNAUTHORIZED.into_response();
                    if let Ok(v) = to.parse() {
                        r.headers_mut().insert("HX-Redirect", v);
                    }
                    return r;
                }
                Redirect::to(&to).into_response()
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from a current page of yours. Reload the page and try again.",
                "/",
            ),
            WebError::Invalid(msg) => {
                let mut r = error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "That did not work",
                    &msg,
                    "/",
                );
                // htmx shows 422 answers in place (see the htmx-config meta in the layout).
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
                r
            }
            WebError::Internal(cause) => {
                tracing::error!(error = %cause, "page failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged. Try again in a moment.",
                    "/",
                )
            }
        }
    }
}

pub async fn not_found_page(_: Uri) -> Response {
    WebError::NotFound.into_response()
}
