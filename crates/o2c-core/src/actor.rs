//! Who did it: every change is attributable to a user, an API key or an automation rule.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A person signed in (the web pages; the CLI acting for its operator).
    User(String),
    /// An integration or person calling the API with a key (the key's id, never its secret).
    ApiKey(String),
    /// An automation rule of the engine, by its stable name (`credit.auto_decide`).
    Rule(&'static str),
    /// The command line, run by whoever runs it on the server.
    Cli(String),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::ApiKey(_) => "api_key",
            Actor::Rule(_) => "rule",
            Actor::Cli(_) => "cli",
        }
    }
    pub fn name(&self) -> &str {
        match self {
            Actor::User(s) | Actor::ApiKey(s) | Actor::Cli(s) => s,
            Actor::Rule(s) => s,
        }
    }
    /// Rules are the system; everything else is a person or an integration acting.
    pub fn is_automation(&self) -> bool {
        matches!(self, Actor::Rule(_))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.name())
    }
}

/// Roles of staff and API keys. Each role sees only its functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Sales,
    Credit,
    Warehouse,
    Receivables,
    /// Works the collections worklist (dunning, promises to pay); reads what every role reads.
    Collector,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Sales,
        Role::Credit,
        Role::Warehouse,
        Role::Receivables,
        Role::Collector,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Credit => "credit",
            Role::Warehouse => "warehouse",
            Role::Receivables => "receivables",
            Role::Collector => "collector",
        }
    }
}
