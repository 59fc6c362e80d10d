//! A shipment: planned when stock is reserved, picked and packed by the warehouse (or not: a
//! planned shipment may be dispatched directly), dispatched, delivered.
//!
//! ```text
//!   planned ──pick──► picking ──pack──► packed ──dispatch──► dispatched ──deliver──► delivered
//!      │                 │   └──dispatch──┐ ▲ pack (more)
//!      ├───────dispatch──┼────────────────┴─┘
//!      └──cancel──► cancelled ◄──cancel──┴── (picking, packed)
//! ```
//!
//! Packing more packages into a packed shipment keeps it packed; a planned shipment can be
//! packed without a pick list.

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentStatus {
    Planned,
    Picking,
    Packed,
    Dispatched,
    Delivered,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentAction {
    Pick,
    Pack,
    Dispatch,
    Deliver,
    Cancel,
}

impl ShipmentAction {
    fn as_str(self) -> &'static str {
        match self {
            ShipmentAction::Pick => "pick",
            ShipmentAction::Pack => "pack",
            ShipmentAction::Dispatch => "dispatch",
            ShipmentAction::Deliver => "confirm delivery of",
            ShipmentAction::Cancel => "cancel",
        }
    }
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 6] = [
        ShipmentStatus::Planned,
        ShipmentStatus::Picking,
        ShipmentStatus::Packed,
        ShipmentStatus::Dispatched,
        ShipmentStatus::Delivered,
        ShipmentStatus::Cancelled,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            ShipmentStatus::Planned => "planned",
            ShipmentStatus::Picking => "picking",
            ShipmentStatus::Packed => "packed",
            ShipmentStatus::Dispatched => "dispatched",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<ShipmentStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Still in the warehouse: its stock is reserved, not gone.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Planned | ShipmentStatus::Picking | ShipmentStatus::Packed
        )
    }
    pub fn next(self, action: ShipmentAction) -> Option<ShipmentStatus> {
        use ShipmentAction as A;
        use ShipmentStatus as S;
        match (self, action) {
            (S::Planned, A::Pick) => Some(S::Picking),
            (S::Planned | S::Picking | S::Packed, A::Pack) => Some(S::Packed),
            (S::Planned | S::Picking | S::Packed, A::Dispatch) => Some(S::Dispatched),
            (S::Planned | S::Picking | S::Packed, A::Cancel) => Some(S::Cancelled),
            (S::Dispatched, A::Deliver) => Some(S::Delivered),
            (S::Picking | S::Packed, A::Pick)
            | (S::Planned | S::Picking | S::Packed, A::Deliver)
            | (S::Dispatched, A::Pick | A::Pack | A::Dispatch | A::Cancel)
            | (
                S::Delivered | S::Cancelled,
                A::Pick | A::Pack | A::Dispatch | A::Deliver | A::Cancel,
            ) => None,
        }
    }
    pub fn transition(
        self,
        id: &str,
        action: ShipmentAction,
    ) -> Result<ShipmentStatus, DomainError> {
        self.next(action)
            .ok_or_else(|| DomainError::IllegalStateTransition {
                document: "shipment",
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
    fn every_state_and_action_has_its_one_answer() {
        use ShipmentAction::*;
        use ShipmentStatus::*;
        let table = [
            (
                Planned,
                [
                    Some(Picking),
                    Some(Packed),
                    Some(Dispatched),
                    None,
                    Some(Cancelled),
                ],
            ),
            (
                Picking,
                [None, Some(Packed), Some(Dispatched), None, Some(Cancelled)],
            ),
            (
                Packed,
                [None, Some(Packed), Some(Dispatched), None, Some(Cancelled)],
            ),
            (Dispatched, [None, None, None, Some(Delivered), None]),
            (Delivered, [None, None, None, None, None]),
            (Cancelled, [None, None, None, None, None]),
        ];
        for (s, answers) in table {
            for (a, to) in [Pick, Pack, Dispatch, Deliver, Cancel]
                .into_iter()
                .zip(answers)
            {
                assert_eq!(s.next(a), to, "{s:?} {a:?}");
            }
        }
        assert!(Dispatched.transition("shp_1", Cancel).is_err());
    }
}
