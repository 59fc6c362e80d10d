//! The X12 850 purchase order, read into the canonical [`PurchaseOrder`].
//!
//! Walks the segments once, keeping track of the loop it is in (header, a header N1 party, a
//! PO1 line, an N1 party of that line, the CTT summary), so that REF, PER, DTM, N2-N4 and MSG
//! land where they belong. Values an order cannot do without (BEG03, PO102, a price that is
//! not a number, a date that is not one) refuse the transaction set with the segment and
//! element; control figures that disagree (CTT01, CTT02, AMT*TT) are warnings.

use o2c_core::money::Currency;

use super::{Interchange, Segment, Transaction, Usage};
use crate::error::EdiError;
use crate::order::{
    Channel, Communication, Contact, Decimal, ItemId, ItemRole, OrderLine, Party, PartyId,
    PurchaseOrder, Purpose, QualifiedDate, Reference, StatedFigures, UnitPrice, assign_parties,
    check_figures,
};
use crate::values::{DateWidth, parse_currency, parse_x12_date};

/// Reads one 850 of `interchange` (which supplies the sender, receiver and control number).
pub fn read_850(interchange: &Interchange, tx: &Transaction) -> Result<PurchaseOrder, EdiError> {
    if tx.set_id != "850" {
        return Err(EdiError::NotAPurchaseOrder {
            set_id: tx.set_id.clone(),
            description: describe_set(&tx.set_id),
        });
    }
    let mut order = PurchaseOrder::blank(Channel::X12);
    order.sender_id = interchange.sender_id.clone();
    order.sender_qualifier = Some(interchange.sender_qualifier.clone());
    order.receiver_id = interchange.receiver_id.clone();
    order.receiver_qualifier = Some(interchange.receiver_qualifier.clone());
    order.interchange_control = interchange.control_number.clone();
    order.message_control = tx.control_number.clone();
    order.test = interchange.usage == Usage::Test;
    order.warnings = interchange.warnings.clone();

    let mut reader = Reader850 {
        order,
        parties: Vec::new(),
        place: Loop::Header,
        stated: StatedFigures::default(),
        has_beg: false,
    };
    for segment in &tx.segments {
        reader.segment(segment)?;
    }
    reader.finish(tx)
}

/// Every transaction set of `interchange`, in order, read as an 850: a set of another kind is
/// refused with [`EdiError::NotAPurchaseOrder`], never taken for an order.
pub fn read_850s(interchange: &Interchange) -> Vec<Result<PurchaseOrder, EdiError>> {
    interchange
        .transactions()
        .map(|tx| read_850(interchange, tx))
        .collect()
}

/// What a transaction set is, for refusing the wrong one.
pub(crate) fn describe_set(set_id: &str) -> &'static str {
    match set_id {
        "180" => "a return merchandise authorization",
        "810" => "an invoice",
        "812" => "a credit/debit adjustment",
        "820" => "a payment order/remittance advice",
        "824" => "an application advice",
        "830" => "a planning schedule",
        "832" => "a price/sales catalog",
        "846" => "an inventory inquiry/advice",
        "855" => "a purchase order acknowledgment",
        "856" => "a ship notice/manifest",
        "860" => "a purchase order change request",
        "865" => "a purchase order change acknowledgment",
        "997" => "a functional acknowledgment",
        "999" => "an implementation acknowledgment",
        _ => "another kind of document",
    }
}

/// What an X12 product/service ID qualifier (element 235) names.
fn item_role(qualifier: &str) -> ItemRole {
    match qualifier {
        "BP" | "IN" | "PI" => ItemRole::Buyer,
        "VP" | "VN" => ItemRole::Vendor,
        "UP" | "UA" | "EN" | "UK" => ItemRole::Gtin,
        _ => ItemRole::Other,
    }
}

/// Where in the 850 the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loop {
    Header,
    HeaderParty,
    Line,
    LineParty,
    Summary,
}

struct Reader850 {
    order: PurchaseOrder,
    /// The header's N1 loops, handed to buyer/ship-to/bill-to at the end.
    parties: Vec<Party>,
    place: Loop,
    stated: StatedFigures,
    has_beg: bool,
}

impl Reader850 {
    fn warn(&mut self, segment: &Segment, what: &str) {
        self.order
            .warnings
            .push(format!("{}: {what}", segment.reference()));
    }

    fn line(&mut self) -> Option<&mut OrderLine> {
        match self.place {
            Loop::Line | Loop::LineParty => self.order.lines.last_mut(),
            _ => None,
        }
    }

    fn party(&mut self) -> Option<&mut Party> {
        match self.place {
            Loop::HeaderParty => self.parties.last_mut(),
            Loop::LineParty => self.order.lines.last_mut()?.parties.last_mut(),
            _ => None,
        }
    }

    fn segment(&mut self, segment: &Segment) -> Result<(), EdiError> {
        // A segment that is not part of an N1 loop ends the one that is open.
        const N1_LOOP: [&str; 8] = ["N1", "N2", "N3", "N4", "REF", "PER", "SI", "FOB"];
        if !N1_LOOP.contains(&segment.id.as_str()) {
            self.place = match self.place {
                Loop::HeaderParty => Loop::Header,
                Loop::LineParty => Loop::Line,
                other => other,
            };
        }
        match segment.id.as_str() {
            "BEG" if self.has_beg => self.warn(segment, "a second BEG segment, ignored"),
            "BEG" => self.read_beg(segment)?,
            "CUR" => self.read_cur(segment)?,
            "REF" | "N9" => self.read_ref(segment),
            "PER" => self.read_per(segment),
            "DTM" => self.read_dtm(segment)?,
            "N1" => self.read_n1(segment),
            "N2" | "N3" | "N4" => self.read_address(segment),
            "PO1" => self.read_po1(segment)?,
            "PID" => {
                if let (Some(text), Some(line)) = (segment.text(5), self.line()) {
                    let text = text.to_string();
                    line.add_description(&text);
                }
            }
            "MSG" => {
                let Some(text) = segment.text(1).map(str::to_string) else {
                    return Ok(());
                };
                match self.line() {
                    Some(line) => line.notes.push(text),
                    None => self.order.notes.push(text),
                }
            }
            "CTT" => {
                self.place = Loop::Summary;
                self.stated.line_count = self.control_figure(segment, 1);
                self.stated.quantity_total = self.control_figure(segment, 2);
            }
            "AMT" if segment.text(1) == Some("TT") => {
                self.stated.amount_total = self.control_figure(segment, 2);
                self.order.stated_total = self.stated.amount_total.as_ref().map(|(_, v)| *v);
            }
            _ => {}
        }
        Ok(())
    }

    fn read_beg(&mut self, beg: &Segment) -> Result<(), EdiError> {
        self.has_beg = true;
        self.order.po_number = beg.required(3)?.to_string();
        self.order.order_type = beg.text(2).map(str::to_string);
        match beg.text(1) {
            Some(code) => self.order.purpose = Purpose::from_x12(code),
            None => self.warn(beg, "BEG01 (purpose) is missing; read as an original order"),
        }
        match beg.text(5) {
            Some(_) => self.order.po_date = Some(self.date(beg, 5)?),
            None => self.warn(beg, "BEG05 (purchase order date) is missing"),
        }
        Ok(())
    }

    fn read_cur(&mut self, cur: &Segment) -> Result<(), EdiError> {
        let currency = parse_currency(cur.required(2)?, || cur.element_location(2))?;
        let header = self.order.currency;
        match self.line() {
            Some(line) => {
                if let Some(price) = line.unit_price.as_mut() {
                    price.currency = Some(currency);
                }
            }
            None if header.is_none() => self.order.currency = Some(currency),
            None if header != Some(currency) => {
                self.warn(cur, "a second header currency, ignored");
            }
            None => {}
        }
        Ok(())
    }

    fn read_ref(&mut self, segment: &Segment) {
        let (Some(qualifier), Some(value)) = (segment.text(1), segment.text(2)) else {
            return;
        };
        let reference = Reference {
            qualifier: qualifier.to_string(),
            value: value.to_string(),
            description: segment.text(3).map(str::to_string),
        };
        if let Some(party) = self.party() {
            party.references.push(reference);
        } else if let Some(line) = self.line() {
            line.references.push(reference);
        } else {
            self.order.references.push(reference);
        }
    }

    fn read_per(&mut self, per: &Segment) {
        let contact = Contact {
            function: per.text(1).unwrap_or_default().to_string(),
            name: per.text(2).map(str::to_string),
            channels: [3, 5, 7]
                .iter()
                .filter_map(|&n| {
                    Some(Communication {
                        qualifier: per.text(n)?.to_string(),
                        number: per.text(n + 1)?.to_string(),
                    })
                })
                .collect(),
        };
        match self.party() {
            Some(party) => party.contacts.push(contact),
            None => self.order.contacts.push(contact),
        }
    }

    fn read_dtm(&mut self, dtm: &Segment) -> Result<(), EdiError> {
        let Some(qualifier) = dtm.text(1).map(str::to_string) else {
            return Ok(());
        };
        if dtm.text(2).is_none() {
            self.warn(dtm, "DTM02 (date) is missing; the date is ignored");
            return Ok(());
        }
        let date = self.date(dtm, 2)?;
        let (requested, dates) = match self.line() {
            Some(line) => (&mut line.requested_delivery, &mut line.dates),
            None => (&mut self.order.requested_delivery, &mut self.order.dates),
        };
        if qualifier == "002" && requested.is_none() {
            *requested = Some(date);
        } else {
            dates.push(QualifiedDate { qualifier, date });
        }
        Ok(())
    }

    fn read_n1(&mut self, n1: &Segment) {
        let mut party = Party::new(n1.text(1).unwrap_or_default());
        party.name = n1.text(2).map(str::to_string);
        party.id = n1.text(4).map(|value| PartyId {
            qualifier: n1.text(3).unwrap_or_default().to_string(),
            value: value.to_string(),
        });
        match self.place {
            Loop::Header | Loop::HeaderParty => {
                self.parties.push(party);
                self.place = Loop::HeaderParty;
            }
            Loop::Line | Loop::LineParty => {
                if let Some(line) = self.order.lines.last_mut() {
                    line.parties.push(party);
                }
                self.place = Loop::LineParty;
            }
            Loop::Summary => self.warn(n1, "an N1 party after CTT, ignored"),
        }
    }

    fn read_address(&mut self, segment: &Segment) {
        let text = |n: usize| segment.text(n).map(str::to_string);
        let id = segment.id.clone();
        let Some(party) = self.party() else {
            self.warn(segment, &format!("{id} outside an N1 party, ignored"));
            return;
        };
        match id.as_str() {
            "N2" => party
                .additional_names
                .extend(text(1).into_iter().chain(text(2))),
            "N3" => party
                .address
                .lines
                .extend(text(1).into_iter().chain(text(2))),
            _ => {
                party.address.city = text(1);
                party.address.region = text(2);
                party.address.postal_code = text(3);
                party.address.country = text(4);
            }
        }
    }

    fn read_po1(&mut self, po1: &Segment) -> Result<(), EdiError> {
        if self.place == Loop::Summary {
            self.warn(po1, "a PO1 line after CTT");
        }
        let position = self.order.lines.len() + 1;
        let line_no = match po1.text(1) {
            Some(n) => n.to_string(),
            None => {
                self.warn(
                    po1,
                    &format!("PO101 (line number) is missing; line {position}"),
                );
                position.to_string()
            }
        };
        if self.order.lines.iter().any(|l| l.line_no == line_no) {
            self.warn(po1, &format!("line number {line_no} is used twice"));
        }
        let raw = po1.required(2)?;
        let quantity = Decimal::parse(raw).ok_or_else(|| EdiError::MalformedQuantity {
            at: po1.element_location(2),
            value: raw.to_string(),
        })?;
        if quantity.is_zero() || quantity.is_negative() {
            self.warn(po1, &format!("PO102 quantity {quantity} is not positive"));
        }
        let mut line = OrderLine::new(line_no, quantity);
        line.unit_of_measure = po1.text(3).map(str::to_string);
        line.unit_price = unit_price(po1, self.order.currency)?;
        for n in (6..=24).step_by(2) {
            let Some(value) = po1.text(n + 1) else {
                continue;
            };
            let qualifier = po1.text(n).unwrap_or_default();
            let id = ItemId {
                qualifier: qualifier.to_string(),
                value: value.to_string(),
            };
            if let Some(warning) = line.add_item_id(item_role(qualifier), id) {
                self.warn(po1, &warning);
            }
        }
        self.order.lines.push(line);
        self.place = Loop::Line;
        Ok(())
    }

    /// CTT01, CTT02 or AMT02: a control figure, or a warning when it is not a number.
    fn control_figure(&mut self, segment: &Segment, n: usize) -> Option<(String, Decimal)> {
        let raw = segment.text(n)?;
        let name = format!("{}, {}", segment.reference(), segment.element_name(n));
        match Decimal::parse(raw) {
            Some(value) => Some((name, value)),
            None => {
                let what = format!(
                    "{} `{raw}` is not a number; not checked",
                    segment.element_name(n)
                );
                self.warn(segment, &what);
                None
            }
        }
    }

    fn date(&mut self, segment: &Segment, n: usize) -> Result<chrono::NaiveDate, EdiError> {
        let raw = segment.required(n)?;
        match parse_x12_date(raw) {
            Some((date, DateWidth::Full)) => Ok(date),
            Some((date, DateWidth::TwoDigitYear)) => {
                let name = segment.element_name(n);
                self.warn(
                    segment,
                    &format!("{name} `{raw}` has a two-digit year; read as {date}"),
                );
                Ok(date)
            }
            None => Err(EdiError::MalformedDate {
                at: segment.element_location(n),
                value: raw.to_string(),
                expected: "a date CCYYMMDD",
            }),
        }
    }

    fn finish(mut self, tx: &Transaction) -> Result<PurchaseOrder, EdiError> {
        let missing = |segment| EdiError::MissingOrderSegment {
            document: "transaction set 850",
            control_number: tx.control_number.clone(),
            segment,
        };
        if !self.has_beg {
            return Err(missing("BEG"));
        }
        // A cancellation names the order it cancels; it need not repeat the lines.
        if self.order.lines.is_empty() && self.order.purpose != Purpose::Cancellation {
            return Err(missing("PO1"));
        }
        let parties = std::mem::take(&mut self.parties);
        assign_parties(&mut self.order, parties, [&["BY"], &["ST"], &["BT"]]);
        check_figures(&mut self.order, self.stated);
        Ok(self.order)
    }
}

/// PO104 with its basis (PO105), in the header's currency until a CUR of the line says
/// otherwise.
fn unit_price(po1: &Segment, currency: Option<Currency>) -> Result<Option<UnitPrice>, EdiError> {
    let Some(raw) = po1.text(4) else {
        return Ok(None);
    };
    let amount = Decimal::parse(raw).ok_or_else(|| EdiError::MalformedAmount {
        at: po1.element_location(4),
        value: raw.to_string(),
    })?;
    Ok(Some(UnitPrice {
        amount,
        currency,
        basis: po1.text(5).map(str::to_string),
        per_quantity: None,
    }))
}
