//! An intake document: a file of orders (CSV, X12 850, EDIFACT ORDERS) kept as received, and
//! what became of it.
//!
//! ```text
//!   received ──order──────► ordered
//!      │  ├───park───────► exception ──order──► ordered
//!      │  │                   │ ├──park (replayed, still failing)──► exception
//!      │  │                   │ ├──duplicate──► duplicate
//!      │  │                   │ └──reject (dismissed by a person)──► rejected
//!      │  ├───duplicate──► duplicate
//!      │  └───reject─────► rejected (unreadable, not an order, test data)
//! ```
//!
//! `ordered`, `duplicate` and `rejected` are final: a document is ordered at most once, and one
//! that was not can only be replayed while it waits in the exceptions queue (or was stored and
//! never processed, after a crash).

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentStatus {
    /// Stored, not yet processed.
    Received,
    /// Every order of the document was placed.
    Ordered,
    /// Waiting for a person: master data to fix (then replay), or a document to dismiss.
    Exception,
    /// A re-sent document: nothing ordered, the original's orders stand.
    Duplicate,
    /// Not an order, unreadable, test data, or dismissed: nothing ordered.
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeAction {
    /// Place the document's orders.
    Order,
    /// Put it in the exceptions queue with its reasons.
    Park,
    /// Recognise it as a re-sent document.
    MarkDuplicate,
    /// Refuse it for good.
    Reject,
}

impl DocumentStatus {
    pub const ALL: [DocumentStatus; 5] = [
        DocumentStatus::Received,
        DocumentStatus::Ordered,
        DocumentStatus::Exception,
        DocumentStatus::Duplicate,
        DocumentStatus::Rejected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentStatus::Received => "received",
            DocumentStatus::Ordered => "ordered",
            DocumentStatus::Exception => "exception",
            DocumentStatus::Duplicate => "duplicate",
            DocumentStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentStatus> {
        DocumentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The state after `action`, or `None` where the graph has no such edge.
    pub fn next(self, action: IntakeAction) -> Option<DocumentStatus> {
        use DocumentStatus::*;
        match (self, action) {
            (Received | Exception, IntakeAction::Order) => Some(Ordered),
            (Received | Exception, IntakeAction::Park) => Some(Exception),
            (Received | Exception, IntakeAction::MarkDuplicate) => Some(Duplicate),
            (Received | Exception, IntakeAction::Reject) => Some(Rejected),
            (
                Ordered | Duplicate | Rejected,
                IntakeAction::Order
                | IntakeAction::Park
                | IntakeAction::MarkDuplicate
                | IntakeAction::Reject,
            ) => None,
        }
    }

    /// Whether the document may be (re)processed: stored and never processed, or parked.
    pub fn is_open(self) -> bool {
        self.next(IntakeAction::Order).is_some()
    }

    pub fn transition(self, id: &str, action: IntakeAction) -> Result<DocumentStatus, DomainError> {
        self.next(action)
            .ok_or_else(|| DomainError::IllegalStateTransition {
                document: "intake document",
                id: id.to_string(),
                state: self.as_str().to_string(),
                action: match action {
                    IntakeAction::Order => "order it",
                    IntakeAction::Park => "park it",
                    IntakeAction::MarkDuplicate => "mark it a duplicate",
                    IntakeAction::Reject => "reject it",
                },
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_received_and_parked_documents_move_and_every_other_pair_is_refused() {
        let actions = [
            IntakeAction::Order,
            IntakeAction::Park,
            IntakeAction::MarkDuplicate,
            IntakeAction::Reject,
        ];
        for status in DocumentStatus::ALL {
            for action in actions {
                let expected = match (status, action) {
                    (DocumentStatus::Received | DocumentStatus::Exception, IntakeAction::Order) => {
                        Some(DocumentStatus::Ordered)
                    }
                    (DocumentStatus::Received | DocumentStatus::Exception, IntakeAction::Park) => {
                        Some(DocumentStatus::Exception)
                    }
                    (
                        DocumentStatus::Received | DocumentStatus::Exception,
                        IntakeAction::MarkDuplicate,
                    ) => Some(DocumentStatus::Duplicate),
                    (
                        DocumentStatus::Received | DocumentStatus::Exception,
                        IntakeAction::Reject,
                    ) => Some(DocumentStatus::Rejected),
                    _ => None,
                };
                assert_eq!(status.next(action), expected, "{status:?} {action:?}");
                assert_eq!(status.transition("idoc_1", action).ok(), expected);
            }
            assert_eq!(DocumentStatus::parse(status.as_str()), Some(status));
        }
        let err = DocumentStatus::Ordered
            .transition("idoc_1", IntakeAction::Order)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "intake document `idoc_1` is ordered: cannot order it"
        );
    }
}
