//! The order and its life.
//!
//! ```text
//!   received ─┬─► approved ─► backordered ◄─► reserved ─► partially_shipped ─► shipped ─► closed
//!             │       ▲            │              │                                 ▲
//!             ├─► credit_hold ─────┼──────────────┴──► cancelled (nothing shipped)  │
//!             │       │            └──────────────────────────────────────────────────┘
//!             └─► rejected ◄──────┘
//! ```
//! Credit decides first; afterwards the fulfilment status follows the line quantities
//! ([`fulfilment_of`]); an order closes when everything shipped is invoiced and paid.
//! Two ways lead back to `received` and so through credit again: `amend` (quantities or prices
//! changed before anything shipped) and `reopen` (a cancelled or rejected order taken up again).

use crate::error::DomainError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    CreditHold,
    Rejected,
    Approved,
    Backordered,
    Reserved,
    PartiallyShipped,
    Shipped,
    Closed,
    Cancelled,
}

/// Where the goods of an approved order are, derived from its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfilment {
    Backordered,
    Reserved,
    PartiallyShipped,
    Shipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    ApproveCredit,
    HoldCredit,
    RejectCredit,
    Cancel,
    Fulfil(Fulfilment),
    Close,
    /// Quantities or prices changed before anything shipped: back to credit.
    Amend,
    /// A cancelled or rejected order is taken up again: back to credit.
    Reopen,
}

impl OrderAction {
    pub fn describe(&self) -> &'static str {
        match self {
            OrderAction::ApproveCredit => "approve credit",
            OrderAction::HoldCredit => "hold for credit review",
            OrderAction::RejectCredit => "reject credit",
            OrderAction::Cancel => "cancel",
            OrderAction::Fulfil(_) => "change fulfilment",
            OrderAction::Close => "close",
            OrderAction::Amend => "amend",
            OrderAction::Reopen => "reopen",
        }
    }
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::Received,
        OrderStatus::CreditHold,
        OrderStatus::Rejected,
        OrderStatus::Approved,
        OrderStatus::Backordered,
        OrderStatus::Reserved,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Closed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::CreditHold => "credit_hold",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Approved => "approved",
            OrderStatus::Backordered => "backordered",
            OrderStatus::Reserved => "reserved",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Closed => "closed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Approved and not yet finished: counts towards the customer's open-order exposure.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            OrderStatus::Approved
                | OrderStatus::Backordered
                | OrderStatus::Reserved
                | OrderStatus::PartiallyShipped
                | OrderStatus::Shipped
        )
    }

    /// The one transition function of the order. `None` means the action is illegal here.
    pub fn next(self, action: OrderAction) -> Option<OrderStatus> {
        use Fulfilment as F;
        use OrderAction as A;
        use OrderStatus as S;
        let fulfilled = |f: Fulfilment| match f {
            F::Backordered => S::Backordered,
            F::Reserved => S::Reserved,
            F::PartiallyShipped => S::PartiallyShipped,
            F::Shipped => S::Shipped,
        };
        match (self, action) {
            (S::Received, A::ApproveCredit) | (S::CreditHold, A::ApproveCredit) => {
                Some(S::Approved)
            }
            (S::Received, A::HoldCredit) => Some(S::CreditHold),
            (S::Received, A::RejectCredit) | (S::CreditHold, A::RejectCredit) => Some(S::Rejected),
            (S::Received, A::Cancel)
            | (S::CreditHold, A::Cancel)
            | (S::Approved, A::Cancel)
            | (S::Backordered, A::Cancel)
            | (S::Reserved, A::Cancel) => Some(S::Cancelled),
            (S::Approved, A::Fulfil(f))
            | (S::Backordered, A::Fulfil(f))
            | (S::Reserved, A::Fulfil(f)) => Some(fulfilled(f)),
            (S::PartiallyShipped, A::Fulfil(f @ (F::PartiallyShipped | F::Shipped))) => {
                Some(fulfilled(f))
            }
            (S::Shipped, A::Fulfil(F::Shipped)) => Some(S::Shipped),
            (S::Shipped, A::Close) => Some(S::Closed),
            (
                S::Received | S::CreditHold | S::Approved | S::Backordered | S::Reserved,
                A::Amend,
            ) => Some(S::Received),
            (S::Cancelled | S::Rejected, A::Reopen) => Some(S::Received),
            (S::Received, A::Fulfil(_) | A::Close | A::Reopen)
            | (S::CreditHold, A::HoldCredit | A::Fulfil(_) | A::Close | A::Reopen)
            | (
                S::Approved | S::Backordered | S::Reserved,
                A::ApproveCredit | A::HoldCredit | A::RejectCredit | A::Close | A::Reopen,
            )
            | (S::PartiallyShipped, A::Fulfil(F::Backordered | F::Reserved))
            | (
                S::PartiallyShipped,
                A::ApproveCredit
                | A::HoldCredit
                | A::RejectCredit
                | A::Cancel
                | A::Close
                | A::Amend
                | A::Reopen,
            )
            | (S::Shipped, A::Fulfil(F::Backordered | F::Reserved | F::PartiallyShipped))
            | (
                S::Shipped,
                A::ApproveCredit
                | A::HoldCredit
                | A::RejectCredit
                | A::Cancel
                | A::Amend
                | A::Reopen,
            )
            | (S::Closed, _)
            | (
                S::Rejected | S::Cancelled,
                A::ApproveCredit
                | A::HoldCredit
                | A::RejectCredit
                | A::Cancel
                | A::Fulfil(_)
                | A::Close
                | A::Amend,
            ) => None,
        }
    }

    /// Like [`next`](Self::next), as a domain error naming the order and the action.
    pub fn transition(
        self,
        order_id: &str,
        action: OrderAction,
    ) -> Result<OrderStatus, DomainError> {
        self.next(action)
            .ok_or_else(|| DomainError::IllegalStateTransition {
                document: "order",
                id: order_id.to_string(),
                state: self.as_str().to_string(),
                action: action.describe(),
            })
    }
}

/// Quantities of one order line as fulfilment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineQuantities {
    pub ordered: i64,
    /// Reserved so far, including what has since shipped.
    pub allocated: i64,
    pub shipped: i64,
}

/// Derives the fulfilment status of an approved order from its lines.
pub fn fulfilment_of(lines: &[LineQuantities]) -> Fulfilment {
    if lines.iter().all(|l| l.shipped >= l.ordered) {
        Fulfilment::Shipped
    } else if lines.iter().any(|l| l.shipped > 0) {
        Fulfilment::PartiallyShipped
    } else if lines.iter().all(|l| l.allocated >= l.ordered) {
        Fulfilment::Reserved
    } else {
        Fulfilment::Backordered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;

    fn all_actions() -> Vec<OrderAction> {
        let mut v = vec![
            OrderAction::ApproveCredit,
            OrderAction::HoldCredit,
            OrderAction::RejectCredit,
            OrderAction::Cancel,
            OrderAction::Close,
            OrderAction::Amend,
            OrderAction::Reopen,
        ];
        v.extend(
            [
                Fulfilment::Backordered,
                Fulfilment::Reserved,
                Fulfilment::PartiallyShipped,
                Fulfilment::Shipped,
            ]
            .map(OrderAction::Fulfil),
        );
        v
    }

    /// Every (state, action) pair, with the legal ones spelled out.
    #[test]
    fn the_transition_table_is_exactly_the_documented_graph() {
        let legal: &[(S, OrderAction, S)] = &[
            (S::Received, OrderAction::ApproveCredit, S::Approved),
            (S::Received, OrderAction::HoldCredit, S::CreditHold),
            (S::Received, OrderAction::RejectCredit, S::Rejected),
            (S::Received, OrderAction::Cancel, S::Cancelled),
            (S::CreditHold, OrderAction::ApproveCredit, S::Approved),
            (S::CreditHold, OrderAction::RejectCredit, S::Rejected),
            (S::CreditHold, OrderAction::Cancel, S::Cancelled),
            (S::Approved, OrderAction::Cancel, S::Cancelled),
            (S::Backordered, OrderAction::Cancel, S::Cancelled),
            (S::Reserved, OrderAction::Cancel, S::Cancelled),
            (S::Shipped, OrderAction::Close, S::Closed),
            (S::Received, OrderAction::Amend, S::Received),
            (S::CreditHold, OrderAction::Amend, S::Received),
            (S::Approved, OrderAction::Amend, S::Received),
            (S::Backordered, OrderAction::Amend, S::Received),
            (S::Reserved, OrderAction::Amend, S::Received),
            (S::Cancelled, OrderAction::Reopen, S::Received),
            (S::Rejected, OrderAction::Reopen, S::Received),
            (
                S::PartiallyShipped,
                OrderAction::Fulfil(Fulfilment::PartiallyShipped),
                S::PartiallyShipped,
            ),
            (
                S::PartiallyShipped,
                OrderAction::Fulfil(Fulfilment::Shipped),
                S::Shipped,
            ),
            (
                S::Shipped,
                OrderAction::Fulfil(Fulfilment::Shipped),
                S::Shipped,
            ),
        ];
        for state in S::ALL {
            for action in all_actions() {
                let expected = legal
                    .iter()
                    .find(|(s, a, _)| *s == state && *a == action)
                    .map(|(_, _, to)| *to)
                    .or(match (state, action) {
                        (S::Approved | S::Backordered | S::Reserved, OrderAction::Fulfil(f)) => {
                            Some(match f {
                                Fulfilment::Backordered => S::Backordered,
                                Fulfilment::Reserved => S::Reserved,
                                Fulfilment::PartiallyShipped => S::PartiallyShipped,
                                Fulfilment::Shipped => S::Shipped,
                            })
                        }
                        _ => None,
                    });
                assert_eq!(state.next(action), expected, "{state:?} + {action:?}");
            }
        }
    }

    #[test]
    fn nothing_can_be_cancelled_once_goods_have_left() {
        for s in [S::PartiallyShipped, S::Shipped, S::Closed] {
            assert!(s.transition("ord_1", OrderAction::Cancel).is_err());
        }
    }

    #[test]
    fn fulfilment_follows_the_lines() {
        let l = |ordered, allocated, shipped| LineQuantities {
            ordered,
            allocated,
            shipped,
        };
        assert_eq!(fulfilment_of(&[l(10, 10, 0)]), Fulfilment::Reserved);
        assert_eq!(fulfilment_of(&[l(10, 6, 0)]), Fulfilment::Backordered);
        assert_eq!(fulfilment_of(&[l(10, 6, 6)]), Fulfilment::PartiallyShipped);
        assert_eq!(
            fulfilment_of(&[l(10, 10, 10), l(2, 2, 2)]),
            Fulfilment::Shipped
        );
    }
}
