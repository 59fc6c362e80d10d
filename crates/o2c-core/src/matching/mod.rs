//! Cash application: which open items a bank line pays, how sure that is, and what happens to
//! the difference.
//!
//! Pure. The caller loads the open items and what it knows about each customer as a payer,
//! builds a [`MatchIndex`] once, and asks [`propose`] about each payment. A [`Proposal`] ranks
//! [`Candidate`]s, each with its score (0 to 1000), the [`Evidence`] behind it and the exact
//! [`Settlement`] it would book. The best candidate is applied automatically only when it scores
//! at least [`Policy::auto_apply_score`] and leads the next by [`Policy::min_margin`], and never
//! on a payer's name alone; otherwise the line goes to the exceptions queue with the candidates
//! as suggestions and an [`ExceptionReason`]. After booking an applied settlement, the caller
//! tells the index ([`MatchIndex::record`], [`MatchIndex::learn_account`]) so the next payment
//! in the same run sees it.
//!
//! Candidates come from an index, never a scan: references on the line (RF, invoice numbers
//! as people mangle them, order ids, purchase-order numbers), the paying account learned from
//! earlier matches, a fuzzy payer name, and the amount against the identified customers' open
//! items, singly or combined (a bounded subset sum).

mod amount;
mod candidates;
mod decide;
mod extract;
mod index;
mod model;
mod normalize;
mod open_items;
mod payer;
mod postings;
mod proposal;
mod settle;
pub mod sim;
#[cfg(test)]
mod tests;

pub use decide::propose;
pub use index::{MatchError, MatchIndex};
pub use model::{CustomerKey, EarlyDiscount, ItemKey, OpenItem, PayerProfile, Payment, Policy};
pub use proposal::{
    Allocation, Candidate, Decision, Evidence, ExceptionReason, Proposal, RefKind, Settlement,
    SettlementKind, WriteOff,
};
