//! The pure order-to-cash domain of o2c: money, ids, one state machine per document and the
//! rules that decide without a person. No I/O: the compiler keeps the database, the network and
//! the clock out of this crate.

pub mod actor;
pub mod credit;
pub mod customer;
pub mod dispute;
pub mod document;
pub mod dunning;
pub mod error;
pub mod fx;
pub mod id;
pub mod intake;
pub mod inventory;
pub mod invoice;
pub mod ledger;
pub mod matching;
pub mod money;
pub mod order;
pub mod payment;
pub mod receivable;
pub mod reference;
pub mod shipment;
pub mod shipping;
pub mod tax;

pub use actor::{Actor, Role};
pub use error::DomainError;
pub use money::{Currency, Money, MoneyError, Percent};
