//! A tolerant reader for X12 interchanges, for every transaction set.
//!
//! [`read_interchanges`] turns the bytes of a file into [`Interchange`]s: the envelope
//! (ISA/IEA, GS/GE, ST/SE) checked and taken apart, each transaction set a list of
//! [`Segment`]s split into elements, repetitions and components. It knows nothing about what a
//! transaction set means: the 820 reader ([`crate::remittance::read_820`]) and the order intake
//! readers (850, 855, 856, 810) walk `Transaction::segments` with [`Segment::text`] and
//! [`Segment::element`], and report bad values through [`Segment::element_location`] so that
//! every error names the segment and element.
//!
//! ```
//! use o2c_edi::x12::read_interchange;
//!
//! let file = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         \
//!             *261123*1200*U*00401*000000001*0*P*>~\
//!             GS*PO*BUYER*SELLER*20261123*1200*1*X*004010~ST*850*0001~\
//!             BEG*00*SA*PO-1**20261123~SE*3*0001~GE*1*1~IEA*1*000000001~";
//! let interchange = read_interchange(file.as_bytes())?;
//! let order = interchange.transactions().next().expect("one transaction set");
//! assert_eq!(order.set_id, "850");
//! let beg = &order.segments[0];
//! assert_eq!((beg.id.as_str(), beg.text(3)), ("BEG", Some("PO-1")));
//! assert!(interchange.warnings.is_empty());
//! # Ok::<(), o2c_edi::EdiError>(())
//! ```
//!
//! # Delimiters
//!
//! They come from the ISA, whose 16 elements have fixed widths (106 characters with the
//! terminator): the element separator is the character after `ISA`, the component separator is
//! ISA16, the segment terminator the character after ISA16, and from version 00402 on ISA11 is
//! the repetition separator. Several files carry the segment terminator as a multi-byte
//! character (`…`): delimiters are characters, not bytes.
//!
//! # Tolerance policy
//!
//! What a tolerant partner accepts, with a warning in [`Interchange::warnings`]:
//! - a byte-order mark and whitespace before the ISA; line breaks and indentation between
//!   segments (pretty-printed files); whitespace around a segment is dropped;
//! - an ISA that is not 106 characters (an element too narrow or too wide) as long as its 16
//!   element separators and the character after ISA16 are still unambiguous;
//! - a line break as the segment terminator, when nothing follows ISA16 on its line;
//! - a wrong segment count in SE01, a wrong transaction-set count in GE01, a wrong group count
//!   in IEA01; an IEA02 that differs from ISA13 (the envelope is complete, only a number is off);
//! - a segment that spans a line break where the terminator is not a line break (probably a
//!   missing terminator: the segment count in SE01 usually shows it too);
//! - an unreadable ISA09/ISA10 date or time; a missing terminator after the last segment.
//!
//! Refused with an [`EdiError`]:
//! - no ISA, an ISA with fewer than 16 element separators, delimiters that cannot be told apart
//!   from data or from each other (a space, a letter or digit, two delimiters the same);
//! - a missing trailer (SE, GE, IEA): the file is truncated or two envelopes are interleaved;
//! - SE02 ≠ ST02 or GE02 ≠ GS06: a transaction set or group spliced from two others cannot be
//!   trusted (compared as text, so `0001203` and `000001203` differ, as X12 says they do);
//! - a missing control number, an unknown usage indicator (ISA15), a segment outside the
//!   envelope where it belongs.

pub mod ack855;
pub mod asn856;
mod delimiters;
mod envelope;
pub mod inv810;
pub mod po850;
mod segment;
pub mod write;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use crate::error::Position;

pub use delimiters::Delimiters;
pub use envelope::{read_interchange, read_interchanges};
pub use segment::{Element, Segment};

/// One ISA…IEA envelope: who sent it to whom, and its functional groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interchange {
    /// ISA05, e.g. `ZZ` (mutually defined), `01` (DUNS), `12` (phone).
    pub sender_qualifier: String,
    /// ISA06 without its padding.
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08 without its padding.
    pub receiver_id: String,
    /// ISA13, as written (nine digits).
    pub control_number: String,
    /// ISA09 (YYMMDD); `None`, with a warning, when it is not a date.
    pub date: Option<NaiveDate>,
    /// ISA10 (HHMM); `None`, with a warning, when it is not a time.
    pub time: Option<NaiveTime>,
    /// ISA12, the envelope version (`00401`, `00501`).
    pub version: String,
    /// ISA15.
    pub usage: Usage,
    /// The delimiters read from the ISA.
    pub delimiters: Delimiters,
    /// The GS…GE groups, in file order.
    pub groups: Vec<Group>,
    /// What a strict reader would have refused, and this one accepted.
    pub warnings: Vec<String>,
}

impl Interchange {
    /// Every transaction set of every group, in file order.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.groups.iter().flat_map(|g| g.transactions.iter())
    }
}

/// ISA15: whether the partner means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Usage {
    /// Real business.
    Production,
    /// Test data: must never move money or goods.
    Test,
}

/// One GS…GE functional group: transaction sets of one kind (`PO` 850s, `RA` 820s, `IN` 810s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// GS01, e.g. `RA` (remittance advice), `PO` (purchase order), `IN` (invoice).
    pub functional_id: String,
    /// GS02, the application sender's code.
    pub sender: String,
    /// GS03, the application receiver's code.
    pub receiver: String,
    /// GS06.
    pub control_number: String,
    /// GS08, the version and implementation guide (`004010`, `005010X218`).
    pub version: String,
    /// Where the GS segment is.
    pub position: Position,
    /// The ST…SE transaction sets, in file order.
    pub transactions: Vec<Transaction>,
}

/// One ST…SE transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// ST01: `850`, `820`, `810`…
    pub set_id: String,
    /// ST02.
    pub control_number: String,
    /// ST03 (version 00403 and later: the implementation guide, e.g. `005010X218`).
    pub implementation_reference: Option<String>,
    /// Where the ST segment is.
    pub position: Position,
    /// The segments between ST and SE, in order. The segment at index `i` is at position
    /// `i + 2` in the transaction set as X12 acknowledgments (997/999) count it (ST is 1).
    pub segments: Vec<Segment>,
}
