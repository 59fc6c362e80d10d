//! Cash application: which open items a bank line pays, how sure that is, and what happens to
//! the difference.
//!
//! Pure. The caller loads the open items and what it knows about each customer as a payer,
//! builds a [`MatchIndex`] once, and asks [`propose`] about each payment. A [`Proposal`] ranks
//! [`Candidate`]s, each with its score (the sum of its [`Evidence`]'s points) and the exact
//! [`Settlement`] it would book. The best candidate is applied automatically only when it scores
//! at least [`Policy::auto_apply_score`], at least [`Policy::min_item_score`] of that comes from
//! evidence about the items rather than the payer, it leads the next by [`Policy::min_margin`],
//! and something beyond a name points at it (a reference, a known account, or the very name
//! unshared with any other customer, together with the amount). Otherwise the line goes to the
//! exceptions queue with the candidates as suggestions and an [`ExceptionReason`]. After booking
//! an applied settlement the caller tells the index ([`MatchIndex::record`],
//! [`MatchIndex::learn_account`]) so the next payment in the same run sees it.
//!
//! Candidates come from an index, never a scan: references on the line (RF, invoice numbers as
//! people mangle them or mistype them, order ids, purchase-order numbers), the paying account
//! learned from earlier matches, a fuzzy payer name, and the amount against the identified
//! customers' open items, singly or combined (a bounded subset sum).
//!
//! Layout: `extract` reads references, `index` and `postings` hold the keys, `open_items` each
//! customer's items by due date and amount, `payer` names, `amount` combinations, `settle` what
//! an application books, `candidates` and `decide` the scoring and the decision; `sim` generates
//! noisy bank lines with known truth for `o2c bench cashapp`.

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
#[cfg(test)]
mod proptests;
mod settle;
pub mod sim;
#[cfg(test)]
mod tests;
mod tokens;

pub use decide::propose;
pub use index::{MatchError, MatchIndex};
pub use model::{CustomerKey, EarlyDiscount, ItemKey, OpenItem, PayerProfile, Payment, Policy};
pub use proposal::{
    Allocation, Candidate, Decision, Evidence, ExceptionReason, Proposal, RefKind, Settlement,
    SettlementKind, WriteOff,
};
