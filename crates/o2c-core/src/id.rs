//! Typed, prefixed identifiers (`ord_…`, `inv_…`). One macro makes them all.
//!
//! The text after the prefix is a time-ordered 26-character base32 value produced by the
//! injected [`IdGen`] so that the core never reads a clock or a random source itself.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Produces the unique part of new ids. The application injects a real one; tests may inject
/// a deterministic one.
pub trait IdGen: Send + Sync {
    fn next_raw(&self) -> String;
}

macro_rules! ids {
    ($($name:ident => $prefix:literal),* $(,)?) => {$(
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub fn generate(ids: &dyn IdGen) -> Self {
                $name(format!("{}_{}", $prefix, ids.next_raw()))
            }
            /// Accepts an id from outside, checking its prefix.
            pub fn parse(s: &str) -> Option<Self> {
                s.strip_prefix($prefix)
                    .and_then(|r| r.strip_prefix('_'))
                    .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .map(|_| $name(s.to_string()))
            }
            /// For values read back from the store, which only ever holds valid ids.
            pub fn from_stored(s: String) -> Self {
                $name(s)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    )*};
}

ids! {
    CustomerId => "cus",
    ProductId => "prd",
    WarehouseId => "whs",
    OrderId => "ord",
    CreditDecisionId => "crd",
    ShipmentId => "shp",
    InvoiceId => "inv",
    PaymentId => "pay",
    ApplicationId => "app",
    JournalEntryId => "jnl",
    EventId => "evt",
    ApiKeyId => "key",
    CreditGroupId => "grp",
    CreditApplicationId => "cap",
    BankAccountId => "bac",
    BankStatementId => "bst",
    BankTransactionId => "btx",
    DeductionId => "ded",
    RemittanceAdviceId => "rem",
    CheckoutSessionId => "cs",
    SepaCollectionId => "sdd",
    SepaDebitId => "ddb",
    RefundId => "rfd",
    PaymentReturnId => "ret",
    IntakeDocumentId => "idoc",
    PspPayoutId => "ppo",
    PickListId => "pck",
    PackageId => "pkg",
    OutboundDocumentId => "odoc",
    CarrierId => "car",
    CarrierServiceId => "csv",
    DisputeId => "dsp",
    PromiseId => "ptp",
    ContactNoteId => "note",
    CollectionTaskId => "task",
    DunningProfileId => "dpr",
    DunningRunId => "drun",
    DunningNoticeId => "dun",
    DunningDeliveryId => "ddl",
    WriteOffId => "wo",
    WriteOffRecoveryId => "wor",
    StatementId => "stm",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_check_their_prefix() {
        assert!(OrderId::parse("ord_01abc").is_some());
        assert!(OrderId::parse("inv_01abc").is_none());
        assert!(OrderId::parse("ord_").is_none());
        assert!(OrderId::parse("ord_a;b").is_none());
    }
}
