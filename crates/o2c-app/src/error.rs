//! The application's error: a broken business rule, or a failure of the store.

use o2c_core::{DomainError, MoneyError};
use o2c_store::{DbError, FromDbError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<MoneyError> for AppError {
    fn from(e: MoneyError) -> Self {
        AppError::Domain(DomainError::Money {
            field: "amount".into(),
            source: e,
        })
    }
}

impl From<o2c_core::ledger::LedgerError> for AppError {
    fn from(e: o2c_core::ledger::LedgerError) -> Self {
        // A template that does not balance is a programming error, never user input.
        AppError::Internal(format!("ledger: {e}"))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("json: {e}"))
    }
}

impl FromDbError for AppError {
    fn from_db(e: DbError) -> Self {
        AppError::Db(e)
    }
    fn as_db(&self) -> Option<&DbError> {
        match self {
            AppError::Db(e) => Some(e),
            _ => None,
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Shorthand for "no such document".
pub fn not_found(document: &'static str, id: &str) -> AppError {
    AppError::Domain(DomainError::NotFound {
        document,
        id: id.to_string(),
    })
}
