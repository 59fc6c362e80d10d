//! A tolerant reader for UN/EDIFACT interchanges, and the ORDERS message ([`orders`]).
//!
//! [`read_interchange`] turns the bytes of a file into an [`Interchange`]: the envelope
//! (UNA, UNB…UNZ, UNG…UNE, UNH…UNT) checked and taken apart, each message a list of
//! [`Segment`]s split into data elements and components, the release character applied.
//!
//! ```
//! use o2c_edi::edifact::{orders::read_orders, read_interchange};
//!
//! let file = "UNA:+.? 'UNB+UNOC:3+BUYER:14+SELLER:14+261123:1200+42'\
//!             UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'LIN+1++4000862141404:SRV'QTY+21:12'\
//!             UNS+S'UNT+6+1'UNZ+1+42'";
//! let interchange = read_interchange(file.as_bytes())?;
//! let order = read_orders(&interchange, &interchange.messages[0])?;
//! assert_eq!(order.po_number, "PO-1");
//! assert_eq!(order.lines[0].quantity.to_string(), "12");
//! assert!(order.warnings.is_empty());
//! # Ok::<(), o2c_edi::EdiError>(())
//! ```
//!
//! # Tolerance policy
//!
//! The same as the X12 reader's ([`crate::x12`]): what leaves the meaning unambiguous is
//! accepted with a warning in [`Interchange::warnings`], the rest refused with an
//! [`EdiError`] naming the segment (number, line, byte) and the element and component.
//!
//! Accepted, with a warning:
//! - a byte-order mark, white space and line breaks between segments (no warning: common);
//! - a wrong segment count in UNT, message count in UNZ or UNE;
//! - a UNZ reference that differs from UNB's (the interchange is complete, only a number is
//!   off, as with IEA02 in X12);
//! - no UNZ at all when the input ends right after a complete message: each message was
//!   checked against its own UNT, so what arrived is whole; the warning says that messages
//!   after it may be missing. (The X12 reader refuses a missing IEA. For orders the trade-off
//!   goes the other way: a whole, checked order is worth taking, and a person can ask the
//!   sender about the rest.)
//! - a value that is not UTF-8 where the syntax identifier (UNOW, UNOY, UNOA…) promises it:
//!   read as ISO 8859-1; UNOC interchanges are read as ISO 8859-1 throughout;
//! - an unreadable UNB date or time; a segment across a line break; no terminator after the
//!   last segment.
//!
//! Refused:
//! - no UNA or UNB; a UNA whose characters clash or are letters, digits or white space;
//! - a UNT reference that differs from its UNH's, a UNE reference that differs from its UNG's
//!   (a message or group spliced from two);
//! - a message without its UNT (truncated: the next UNH, UNZ or the end of input comes first),
//!   a group without its UNE, a package (UNO) without its UNP;
//! - a missing sender, recipient, control reference, message reference or type; a segment
//!   outside the envelope; anything after UNZ.
//!
//! Both `.` and `,` are read as the decimal mark whatever UNA says: EDIFACT numbers have no
//! thousands separator, so either is unambiguous, and senders mix them.

mod envelope;
pub mod orders;
mod syntax;

use std::fmt;

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use crate::error::{EdiError, Position, SegmentRef};

pub use envelope::read_interchange;
pub use orders::{read_all_orders, read_orders};
pub use syntax::ServiceCharacters;

/// One UNB…UNZ interchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interchange {
    /// UNB S001 0001: `UNOA`, `UNOC` (ISO 8859-1), `UNOW` (UTF-8)…
    pub syntax: String,
    /// UNB S001 0002: `1` to `4`.
    pub syntax_version: Option<String>,
    /// UNB S002 0004.
    pub sender_id: String,
    /// UNB S002 0007 (`14` GLN, `ZZ` mutually defined…).
    pub sender_qualifier: Option<String>,
    /// UNB S003 0010.
    pub receiver_id: String,
    /// UNB S003 0007.
    pub receiver_qualifier: Option<String>,
    /// UNB S004 0017 (YYMMDD or CCYYMMDD); `None`, with a warning, when it is not a date.
    pub date: Option<NaiveDate>,
    /// UNB S004 0019 (HHMM).
    pub time: Option<NaiveTime>,
    /// UNB 0020, the interchange control reference.
    pub control_reference: String,
    /// UNB 0026.
    pub application_reference: Option<String>,
    /// UNB 0035 is `1`: test data, which must never move goods or money.
    pub test: bool,
    pub service_characters: ServiceCharacters,
    /// The UNH…UNT messages, in file order, whether in UNG groups or not.
    pub messages: Vec<Message>,
    /// UNO…UNP packages (binary objects such as a PDF of the document); the objects themselves
    /// are not kept.
    pub packages: Vec<Package>,
    /// What a strict reader would have refused, and this one accepted.
    pub warnings: Vec<String>,
}

/// One UNH…UNT message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// UNH 0062, the message reference.
    pub reference: String,
    /// UNH S009 0065: `ORDERS`, `INVOIC`, `DESADV`…
    pub message_type: String,
    /// S009 0052 (`D`).
    pub version: Option<String>,
    /// S009 0054 (`96A`).
    pub release: Option<String>,
    /// S009 0051 (`UN`).
    pub agency: Option<String>,
    /// S009 0057, the implementation guide (`EAN008`).
    pub association_code: Option<String>,
    /// UNG 0048 of the group the message is in.
    pub group_reference: Option<String>,
    /// Where the UNH is.
    pub position: Position,
    /// The segments between UNH and UNT. The segment at index `i` is number `i + 2` in the
    /// message as UNT counts (UNH is 1).
    pub segments: Vec<Segment>,
}

/// A UNO…UNP package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// UNO 0800.
    pub reference: String,
    /// Size of the object in bytes.
    pub length: usize,
    pub position: Position,
}

/// One segment: its tag and its data elements, each a list of components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// `BGM`, `NAD`, `LIN`…
    pub tag: String,
    /// Element 1 (the first after the tag) is `elements[0]`; a simple element is one
    /// component. Release characters are already applied.
    pub elements: Vec<Vec<String>>,
    pub position: Position,
}

impl Segment {
    /// The components of element `n` (1-based); empty when the element is absent.
    pub fn components(&self, n: usize) -> &[String] {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// Component `c` of element `n`, both 1-based, without surrounding white space; `None`
    /// when absent or blank.
    pub fn component(&self, n: usize, c: usize) -> Option<&str> {
        c.checked_sub(1)
            .and_then(|i| self.components(n).get(i))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of a simple element `n` (its first component).
    pub fn text(&self, n: usize) -> Option<&str> {
        self.component(n, 1)
    }

    /// This segment, for an error or a warning.
    pub fn reference(&self) -> SegmentRef {
        SegmentRef {
            id: self.tag.clone(),
            position: self.position,
        }
    }

    /// Component `c` of element `n`, for an error about its value.
    pub fn at(&self, n: usize, c: usize) -> ComponentRef {
        ComponentRef {
            segment: self.reference(),
            element: n,
            component: c,
        }
    }

    /// Component `c` of element `n`, or an error naming it when it is absent or blank.
    pub fn required(&self, n: usize, c: usize) -> Result<&str, EdiError> {
        self.component(n, c)
            .ok_or_else(|| EdiError::MissingComponent { at: self.at(n, c) })
    }
}

/// Where an EDIFACT value is: `QTY+21:8x` has the quantity in element 1, component 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRef {
    pub segment: SegmentRef,
    /// 1-based; element 1 is the first after the tag.
    pub element: usize,
    /// 1-based; a simple element has only component 1.
    pub component: usize,
}

impl fmt::Display for ComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, element {} component {}",
            self.segment, self.element, self.component
        )
    }
}
