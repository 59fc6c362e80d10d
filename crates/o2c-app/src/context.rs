//! What every use-case receives: who acts, the time, and where new ids come from. The clock and
//! the id generator are injected so that tests and the simulator control them.

use chrono::{DateTime, NaiveDate, Utc};
use o2c_core::Actor;
use o2c_core::id::IdGen;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told (tests, the simulator).
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: DateTime<Utc>) -> ManualClock {
        ManualClock(AtomicI64::new(t.timestamp_micros()))
    }
    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * 86_400_000_000, Ordering::SeqCst);
    }
    pub fn advance(&self, by: chrono::Duration) {
        let micros = by.num_microseconds().expect("a test-sized step");
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0.load(Ordering::SeqCst)).expect("valid time")
    }
}

/// Time-ordered ids (UUID v7) written in 26 lower-case base32 characters.
pub struct UuidV7Ids;

const BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

impl IdGen for UuidV7Ids {
    fn next_raw(&self) -> String {
        let v = uuid::Uuid::now_v7().as_u128();
        (0..26)
            .rev()
            .map(|i| BASE32[((v >> (i * 5)) & 31) as usize] as char)
            .collect()
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub ids: Arc<dyn IdGen>,
}

impl Ctx {
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
    pub fn timestamp(&self) -> String {
        self.now
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
    /// The same moment and ids, acting as an automation rule.
    pub fn as_rule(&self, rule: &'static str) -> Ctx {
        Ctx {
            actor: Actor::Rule(rule),
            now: self.now,
            ids: self.ids.clone(),
        }
    }
}
