//! A dispute: the customer contests an invoice (or one of its lines). While it is open or under
//! review, its invoice is not dunned.
//!
//! ```text
//!   open ──review──► under_review ──resolve──► resolved   (a credit note, full or partial)
//!     │                   │
//!     ├──resolve──────────┼──────────────────► resolved
//!     └──reject───────────┴──reject──────────► rejected   (the item goes back to dunning)
//! ```

use crate::error::DomainError;
use serde::Serialize;

/// Root causes, reported on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DisputeReason {
    Pricing,
    Quantity,
    Damage,
    LateDelivery,
    DuplicateBilling,
    /// A short payment from cash application whose reason the customer has not given yet.
    Deduction,
    Other,
}

impl DisputeReason {
    pub const ALL: [DisputeReason; 7] = [
        DisputeReason::Pricing,
        DisputeReason::Quantity,
        DisputeReason::Damage,
        DisputeReason::LateDelivery,
        DisputeReason::DuplicateBilling,
        DisputeReason::Deduction,
        DisputeReason::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DisputeReason::Pricing => "pricing",
            DisputeReason::Quantity => "quantity",
            DisputeReason::Damage => "damage",
            DisputeReason::LateDelivery => "late_delivery",
            DisputeReason::DuplicateBilling => "duplicate_billing",
            DisputeReason::Deduction => "deduction",
            DisputeReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<DisputeReason, DomainError> {
        DisputeReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "reason",
                    format!("`{s}`: expected pricing, quantity, damage, late_delivery, duplicate_billing, deduction or other"),
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    Open,
    UnderReview,
    Resolved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeAction {
    Review,
    Resolve,
    Reject,
}

impl DisputeAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            DisputeAction::Review => "take under review",
            DisputeAction::Resolve => "resolve",
            DisputeAction::Reject => "reject",
        }
    }
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 4] = [
        DisputeStatus::Open,
        DisputeStatus::UnderReview,
        DisputeStatus::Resolved,
        DisputeStatus::Rejected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DisputeStatus::Open => "open",
            DisputeStatus::UnderReview => "under_review",
            DisputeStatus::Resolved => "resolved",
            DisputeStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<DisputeStatus> {
        DisputeStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still pausing dunning of its invoice.
    pub fn is_active(&self) -> bool {
        matches!(self, DisputeStatus::Open | DisputeStatus::UnderReview)
    }

    pub fn next(self, action: DisputeAction) -> Option<DisputeStatus> {
        use DisputeAction as A;
        use DisputeStatus as S;
        match (self, action) {
            (S::Open, A::Review) => Some(S::UnderReview),
            (S::Open | S::UnderReview, A::Resolve) => Some(S::Resolved),
            (S::Open | S::UnderReview, A::Reject) => Some(S::Rejected),
            (S::UnderReview, A::Review) => None,
            (S::Resolved | S::Rejected, A::Review | A::Resolve | A::Reject) => None,
        }
    }

    pub fn transition(self, id: &str, action: DisputeAction) -> Result<DisputeStatus, DomainError> {
        self.next(action)
            .ok_or_else(|| DomainError::IllegalStateTransition {
                document: "dispute",
                id: id.to_string(),
                state: self.as_str().to_string(),
                action: action.as_str(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_action_pair_is_decided() {
        use DisputeAction as A;
        use DisputeStatus as S;
        let table = [
            (S::Open, A::Review, Some(S::UnderReview)),
            (S::Open, A::Resolve, Some(S::Resolved)),
            (S::Open, A::Reject, Some(S::Rejected)),
            (S::UnderReview, A::Review, None),
            (S::UnderReview, A::Resolve, Some(S::Resolved)),
            (S::UnderReview, A::Reject, Some(S::Rejected)),
            (S::Resolved, A::Review, None),
            (S::Resolved, A::Resolve, None),
            (S::Resolved, A::Reject, None),
            (S::Rejected, A::Review, None),
            (S::Rejected, A::Resolve, None),
            (S::Rejected, A::Reject, None),
        ];
        for (s, a, want) in table {
            assert_eq!(s.next(a), want, "{s:?} + {a:?}");
        }
        assert!(S::Open.is_active() && S::UnderReview.is_active());
        assert!(!S::Resolved.is_active() && !S::Rejected.is_active());
    }

    #[test]
    fn reasons_round_trip_and_unknown_ones_are_named() {
        for r in DisputeReason::ALL {
            assert_eq!(DisputeReason::parse(r.as_str()).unwrap(), r);
        }
        let e = DisputeReason::parse("weather").unwrap_err();
        assert!(e.to_string().contains("weather"), "{e}");
    }
}
