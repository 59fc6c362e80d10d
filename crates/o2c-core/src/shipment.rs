//! A shipment: planned when stock is reserved, dispatched by the warehouse.
//!
//! ```text
//!   planned ──► dispatched
//!      └──────► cancelled
//! ```

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentStatus {
    Planned,
    Dispatched,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentAction {
    Dispatch,
    Cancel,
}

impl ShipmentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ShipmentStatus::Planned => "planned",
            ShipmentStatus::Dispatched => "dispatched",
            ShipmentStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<ShipmentStatus> {
        [
            ShipmentStatus::Planned,
            ShipmentStatus::Dispatched,
            ShipmentStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    pub fn next(self, action: ShipmentAction) -> Option<ShipmentStatus> {
        match (self, action) {
            (ShipmentStatus::Planned, ShipmentAction::Dispatch) => Some(ShipmentStatus::Dispatched),
            (ShipmentStatus::Planned, ShipmentAction::Cancel) => Some(ShipmentStatus::Cancelled),
            (
                ShipmentStatus::Dispatched | ShipmentStatus::Cancelled,
                ShipmentAction::Dispatch | ShipmentAction::Cancel,
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
                action: match action {
                    ShipmentAction::Dispatch => "dispatch",
                    ShipmentAction::Cancel => "cancel",
                },
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_planned_shipment_moves() {
        use ShipmentAction::*;
        use ShipmentStatus::*;
        for (s, a, to) in [
            (Planned, Dispatch, Some(Dispatched)),
            (Planned, Cancel, Some(Cancelled)),
            (Dispatched, Dispatch, None),
            (Dispatched, Cancel, None),
            (Cancelled, Dispatch, None),
            (Cancelled, Cancel, None),
        ] {
            assert_eq!(s.next(a), to);
        }
    }
}
