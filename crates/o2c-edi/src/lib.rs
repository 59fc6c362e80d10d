//! Readers for the electronic documents trading partners send: X12 interchanges (the envelope,
//! for every transaction set), the X12 820 remittance advice, and CSV remittance files.
//!
//! Pure: text in, typed documents out. No I/O, no clock; the caller reads the file and decides
//! what to do with the warnings.
//!
//! Tolerance is a policy, not an accident. Partners send files a strict validator would refuse
//! (pretty-printed with indentation, a byte-order mark, an ISA that is not quite fixed-width,
//! a wrong SE count). Where the meaning is still unambiguous the readers accept the file and say
//! what was wrong in `warnings`; where it is not (a truncated envelope, delimiters that cannot be
//! told apart, a malformed amount) they refuse it with an [`EdiError`] naming the segment and
//! element, or the line and column.

pub mod csv_remittance;
pub mod edifact;
pub mod error;
pub mod order;
pub mod remittance;
mod values;
pub mod x12;

pub use csv_remittance::read_csv_remittances;
/// RFC 4180 records as spreadsheets save them (quotes, `;` or tab separators, line numbers),
/// for other CSV layouts: order files are read with it in order intake.
pub use csv_remittance::records as csv;
pub use error::{EdiError, Location, Position, SegmentRef};
pub use order::PurchaseOrder;
pub use remittance::{Adjustment, Payment, Remittance, RemittanceItem, read_820, read_820s};
pub use x12::po850::{read_850, read_850s};
pub use x12::{Interchange, read_interchange, read_interchanges};
