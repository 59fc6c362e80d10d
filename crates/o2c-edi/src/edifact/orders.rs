//! The EDIFACT ORDERS message, read into the canonical [`PurchaseOrder`].
//!
//! Follows the segment groups of ORDERS (D.96A and later): the header (BGM, DTM, FTX, RFF, CUX),
//! NAD parties with their RFF and CTA/COM, LIN lines with PIA, IMD, QTY, PRI, DTM, FTX, RFF
//! and their own NAD, then the summary after UNS (MOA, CNT). Other message types are refused
//! by name: an INVOIC is never taken for an order.

use chrono::NaiveDate;

use super::{Interchange, Message, Segment};
use crate::error::{EdiError, SegmentRef};
use crate::order::{
    Channel, Communication, Contact, Decimal, ItemId, ItemRole, OrderLine, Party, PartyId,
    PurchaseOrder, Purpose, QualifiedDate, Reference, StatedFigures, UnitPrice, assign_parties,
    check_figures,
};
use crate::values::{DateWidth, parse_x12_date};

/// Reads one message of `interchange` as a purchase order; any message type but ORDERS is
/// refused with [`EdiError::NotAnOrdersMessage`].
pub fn read_orders(
    interchange: &Interchange,
    message: &Message,
) -> Result<PurchaseOrder, EdiError> {
    if message.message_type != "ORDERS" {
        return Err(EdiError::NotAnOrdersMessage {
            message_type: message.message_type.clone(),
            description: describe_message(&message.message_type),
        });
    }
    let mut order = PurchaseOrder::blank(Channel::Edifact);
    order.sender_id = interchange.sender_id.clone();
    order.sender_qualifier = interchange.sender_qualifier.clone();
    order.receiver_id = interchange.receiver_id.clone();
    order.receiver_qualifier = interchange.receiver_qualifier.clone();
    order.interchange_control = interchange.control_reference.clone();
    order.message_control = message.reference.clone();
    order.test = interchange.test;
    order.warnings = interchange.warnings.clone();
    let mut reader = OrdersReader {
        order,
        parties: Vec::new(),
        place: Group::Header,
        pending: None,
        stated: StatedFigures::default(),
        has_bgm: false,
    };
    for segment in &message.segments {
        reader.segment(segment)?;
    }
    reader.finish(message)
}

/// Every message of `interchange`, in order, read as ORDERS: another type is refused, never
/// taken for an order.
pub fn read_all_orders(interchange: &Interchange) -> Vec<Result<PurchaseOrder, EdiError>> {
    interchange
        .messages
        .iter()
        .map(|message| read_orders(interchange, message))
        .collect()
}

/// What a message type is, for refusing the wrong one.
fn describe_message(message_type: &str) -> &'static str {
    match message_type {
        "APERAK" => "an application error and acknowledgement",
        "CONTRL" => "a syntax and service report",
        "DESADV" => "a despatch advice",
        "IFTMIN" => "a transport instruction",
        "INVOIC" => "an invoice",
        "INVRPT" => "an inventory report",
        "ORDCHG" => "a purchase order change request",
        "ORDRSP" => "a purchase order response",
        "PAORES" => "an IATA travel availability response",
        "PRICAT" => "a price/sales catalogue",
        "RECADV" => "a receiving advice",
        "REMADV" => "a remittance advice",
        "SLSRPT" => "a sales data report",
        _ => "another kind of message",
    }
}

/// What an EDIFACT item type code (7143) names.
fn item_role(code: &str) -> ItemRole {
    match code {
        "IN" | "BP" => ItemRole::Buyer,
        "SA" => ItemRole::Vendor,
        "EN" | "SRV" | "UP" => ItemRole::Gtin,
        _ => ItemRole::Other,
    }
}

/// Reads a number with either decimal mark (see the module documentation of `edifact`).
fn number(segment: &Segment, n: usize, c: usize) -> Result<Option<Decimal>, EdiError> {
    let Some(raw) = segment.component(n, c) else {
        return Ok(None);
    };
    Decimal::parse(&raw.replace(',', "."))
        .map(Some)
        .ok_or_else(|| EdiError::MalformedComponent {
            at: segment.at(n, c),
            value: raw.to_string(),
            expected: "a number",
        })
}

/// Where in the message the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Header,
    HeaderParty,
    Line,
    LineParty,
    Summary,
}

/// A LIN group being read: its quantity is only known once its QTY+21 comes.
struct PendingLine {
    line: OrderLine,
    lin: SegmentRef,
    /// QTY+21, the ordered quantity, and its unit.
    ordered: Option<(Decimal, Option<String>)>,
    /// QTY+1, a discrete quantity: taken, with a warning, when there is no QTY+21.
    discrete: Option<(Decimal, Option<String>)>,
}

struct OrdersReader {
    order: PurchaseOrder,
    parties: Vec<Party>,
    place: Group,
    pending: Option<PendingLine>,
    stated: StatedFigures,
    has_bgm: bool,
}

impl OrdersReader {
    fn warn(&mut self, segment: &Segment, what: &str) {
        self.order
            .warnings
            .push(format!("{}: {what}", segment.reference()));
    }

    fn line(&mut self) -> Option<&mut OrderLine> {
        self.pending.as_mut().map(|p| &mut p.line)
    }

    fn party(&mut self) -> Option<&mut Party> {
        match self.place {
            Group::HeaderParty => self.parties.last_mut(),
            Group::LineParty => self.pending.as_mut()?.line.parties.last_mut(),
            _ => None,
        }
    }

    fn segment(&mut self, segment: &Segment) -> Result<(), EdiError> {
        // A segment that is not part of a NAD group ends the one that is open.
        const PARTY_GROUP: [&str; 8] = ["NAD", "LOC", "FII", "RFF", "DOC", "DTM", "CTA", "COM"];
        if !PARTY_GROUP.contains(&segment.tag.as_str()) {
            self.place = match self.place {
                Group::HeaderParty => Group::Header,
                Group::LineParty => Group::Line,
                other => other,
            };
        }
        match segment.tag.as_str() {
            "BGM" if self.has_bgm => self.warn(segment, "a second BGM segment, ignored"),
            "BGM" => self.read_bgm(segment)?,
            "DTM" => self.read_dtm(segment)?,
            "RFF" => self.read_rff(segment),
            "NAD" => self.read_nad(segment),
            "CTA" | "COM" => self.read_contact(segment),
            "CUX" => self.read_cux(segment)?,
            "LIN" => self.read_lin(segment)?,
            "PIA" => {
                for n in 2..=6 {
                    self.add_item(segment, n);
                }
            }
            "IMD" => {
                let parts: Vec<&str> = [4, 5]
                    .iter()
                    .filter_map(|&c| segment.component(3, c))
                    .collect();
                if let (false, Some(line)) = (parts.is_empty(), self.line()) {
                    line.add_description(&parts.join(" "));
                }
            }
            "QTY" => self.read_qty(segment)?,
            "PRI" => self.read_pri(segment)?,
            "FTX" => {
                let text: Vec<&str> = (1..=5).filter_map(|c| segment.component(4, c)).collect();
                if !text.is_empty() {
                    let text = text.join(" ");
                    match self.line() {
                        Some(line) => line.notes.push(text),
                        None => self.order.notes.push(text),
                    }
                }
            }
            "UNS" => {
                self.close_line()?;
                self.place = Group::Summary;
            }
            "CNT" => {
                let figure = number(segment, 1, 2)?.map(|v| (self.figure_name(segment), v));
                match segment.component(1, 1) {
                    Some("2") => self.stated.line_count = figure,
                    Some("1") => self.stated.quantity_total = figure,
                    _ => {}
                }
            }
            "MOA" if self.place == Group::Summary => self.read_total(segment)?,
            _ => {}
        }
        Ok(())
    }

    fn figure_name(&self, segment: &Segment) -> String {
        let qualifier = segment.component(1, 1).unwrap_or_default();
        format!("{}, {}+{qualifier}", segment.reference(), segment.tag)
    }

    fn read_bgm(&mut self, bgm: &Segment) -> Result<(), EdiError> {
        self.has_bgm = true;
        self.order.po_number = bgm.required(2, 1)?.to_string();
        self.order.order_type = bgm.component(1, 1).map(str::to_string);
        match bgm.text(3) {
            Some(code) => self.order.purpose = Purpose::from_edifact(code),
            None => self.warn(
                bgm,
                "BGM 1225 (message function) is missing; read as an original order",
            ),
        }
        Ok(())
    }

    fn read_dtm(&mut self, dtm: &Segment) -> Result<(), EdiError> {
        let Some(date) = self.date(dtm)? else {
            return Ok(());
        };
        let qualifier = dtm.component(1, 1).unwrap_or_default().to_string();
        let in_header = self.line().is_none();
        if in_header && (qualifier == "137" || qualifier == "4") && self.order.po_date.is_none() {
            self.order.po_date = Some(date);
            return Ok(());
        }
        let (requested, dates) = match self.pending.as_mut() {
            Some(p) => (&mut p.line.requested_delivery, &mut p.line.dates),
            None => (&mut self.order.requested_delivery, &mut self.order.dates),
        };
        if qualifier == "2" && requested.is_none() {
            *requested = Some(date);
        } else {
            dates.push(QualifiedDate { qualifier, date });
        }
        Ok(())
    }

    /// The date of a DTM in the format its 2379 names; `None`, with a warning, for a format
    /// o2c does not read.
    fn date(&mut self, dtm: &Segment) -> Result<Option<NaiveDate>, EdiError> {
        let Some(raw) = dtm.component(1, 2) else {
            self.warn(dtm, "DTM without a date value, ignored");
            return Ok(None);
        };
        let format = match dtm.component(1, 3) {
            Some(format) => format,
            None => {
                let guessed = match raw.len() {
                    8 => "102",
                    12 => "203",
                    _ => "",
                };
                let what =
                    format!("DTM 2379 (date format) is missing; `{raw}` read as format {guessed}");
                self.warn(dtm, &what);
                guessed
            }
        };
        let (len, expected) = match format {
            "102" => (8, "a date CCYYMMDD (format 102)"),
            "203" => (12, "a date and time CCYYMMDDHHMM (format 203)"),
            "204" => (14, "a date and time CCYYMMDDHHMMSS (format 204)"),
            "101" => (6, "a date YYMMDD (format 101)"),
            "718" => (17, "a date range CCYYMMDD-CCYYMMDD (format 718)"),
            other => {
                let what = format!("DTM date format `{other}` is not read; the date is ignored");
                self.warn(dtm, &what);
                return Ok(None);
            }
        };
        let date_len = if len == 6 { 6 } else { 8 };
        let well_formed = raw.len() == len
            && raw
                .bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || (len == 17 && i == 8 && b == b'-'));
        match raw.get(..date_len).and_then(parse_x12_date) {
            Some((date, DateWidth::Full | DateWidth::TwoDigitYear)) if well_formed => {
                Ok(Some(date))
            }
            _ => Err(EdiError::MalformedComponent {
                at: dtm.at(1, 2),
                value: raw.to_string(),
                expected,
            }),
        }
    }

    fn read_rff(&mut self, rff: &Segment) {
        let (Some(qualifier), Some(value)) = (rff.component(1, 1), rff.component(1, 2)) else {
            return;
        };
        let reference = Reference {
            qualifier: qualifier.to_string(),
            value: value.to_string(),
            description: None,
        };
        if let Some(party) = self.party() {
            party.references.push(reference);
        } else if let Some(line) = self.line() {
            line.references.push(reference);
        } else {
            self.order.references.push(reference);
        }
    }

    fn read_nad(&mut self, nad: &Segment) {
        let mut party = Party::new(nad.text(1).unwrap_or_default());
        party.id = nad.component(2, 1).map(|value| PartyId {
            qualifier: nad
                .component(2, 3)
                .or(nad.component(2, 2))
                .unwrap_or_default()
                .to_string(),
            value: value.to_string(),
        });
        let list = |n: usize, count: usize| -> Vec<String> {
            (1..=count)
                .filter_map(|c| nad.component(n, c))
                .map(str::to_string)
                .collect()
        };
        let (mut names, unstructured) = (list(4, 5), list(3, 5));
        let mut lines = unstructured;
        if names.is_empty() && !lines.is_empty() {
            names.push(lines.remove(0));
        }
        let mut names = names.into_iter();
        party.name = names.next();
        party.additional_names = names.collect();
        lines.extend(list(5, 4));
        party.address.lines = lines;
        party.address.city = nad.text(6).map(str::to_string);
        party.address.region = nad.text(7).map(str::to_string);
        party.address.postal_code = nad.text(8).map(str::to_string);
        party.address.country = nad.text(9).map(str::to_string);
        match self.pending.as_mut() {
            Some(pending) if self.place != Group::Summary => {
                pending.line.parties.push(party);
                self.place = Group::LineParty;
            }
            _ if self.place == Group::Summary => self.warn(nad, "a NAD party after UNS, ignored"),
            _ => {
                self.parties.push(party);
                self.place = Group::HeaderParty;
            }
        }
    }

    fn read_contact(&mut self, segment: &Segment) {
        let contacts = match self.party() {
            Some(party) => &mut party.contacts,
            None => &mut self.order.contacts,
        };
        if segment.tag == "CTA" {
            contacts.push(Contact {
                function: segment.text(1).unwrap_or_default().to_string(),
                name: segment
                    .component(2, 2)
                    .or(segment.component(2, 1))
                    .map(str::to_string),
                channels: Vec::new(),
            });
        } else if let (Some(contact), Some(number)) = (contacts.last_mut(), segment.component(1, 1))
        {
            contact.channels.push(Communication {
                qualifier: segment.component(1, 2).unwrap_or_default().to_string(),
                number: number.to_string(),
            });
        }
    }

    fn read_cux(&mut self, cux: &Segment) -> Result<(), EdiError> {
        let raw = cux.required(1, 2)?;
        let currency =
            o2c_core::money::Currency::parse(raw).map_err(|_| EdiError::MalformedComponent {
                at: cux.at(1, 2),
                value: raw.to_string(),
                expected: "an ISO 4217 currency code o2c knows",
            })?;
        let header_is_open = self.order.currency.is_none();
        match self.line() {
            Some(line) => {
                if let Some(price) = line.unit_price.as_mut() {
                    price.currency = Some(currency);
                }
            }
            None if header_is_open => self.order.currency = Some(currency),
            None => {}
        }
        Ok(())
    }

    fn read_lin(&mut self, lin: &Segment) -> Result<(), EdiError> {
        self.close_line()?;
        if self.place == Group::Summary {
            self.warn(lin, "a LIN line after UNS");
        }
        let position = self.order.lines.len() + 1;
        let line_no = match lin.text(1) {
            Some(n) => n.to_string(),
            None => {
                let what = format!("LIN 1082 (line number) is missing; line {position}");
                self.warn(lin, &what);
                position.to_string()
            }
        };
        if self.order.lines.iter().any(|l| l.line_no == line_no) {
            self.warn(lin, &format!("line number {line_no} is used twice"));
        }
        self.pending = Some(PendingLine {
            line: OrderLine::new(line_no, Decimal::ZERO),
            lin: lin.reference(),
            ordered: None,
            discrete: None,
        });
        self.place = Group::Line;
        self.add_item(lin, 3);
        Ok(())
    }

    /// The C212 item number in element `n` of LIN or PIA.
    fn add_item(&mut self, segment: &Segment, n: usize) {
        let Some(value) = segment.component(n, 1) else {
            return;
        };
        let code = segment.component(n, 2).unwrap_or_default();
        let id = ItemId {
            qualifier: code.to_string(),
            value: value.to_string(),
        };
        let warning = self
            .line()
            .and_then(|line| line.add_item_id(item_role(code), id));
        if let Some(warning) = warning {
            self.warn(segment, &warning);
        }
    }

    fn read_qty(&mut self, qty: &Segment) -> Result<(), EdiError> {
        let qualifier = qty.component(1, 1);
        if !matches!(qualifier, Some("21" | "1")) || self.pending.is_none() {
            return Ok(());
        }
        let raw = qty.required(1, 2)?;
        let quantity = number(qty, 1, 2)?.unwrap_or(Decimal::ZERO);
        if quantity.is_zero() || quantity.is_negative() {
            self.warn(qty, &format!("quantity `{raw}` is not positive"));
        }
        let value = (quantity, qty.component(1, 3).map(str::to_string));
        let Some(pending) = self.pending.as_mut() else {
            return Ok(());
        };
        let slot = match qualifier {
            Some("21") => &mut pending.ordered,
            _ => &mut pending.discrete,
        };
        if slot.is_some() {
            self.warn(qty, "a second quantity of this kind in the line, ignored");
        } else {
            *slot = Some(value);
        }
        Ok(())
    }

    fn read_pri(&mut self, pri: &Segment) -> Result<(), EdiError> {
        let qualifier = pri.component(1, 1).unwrap_or_default().to_string();
        pri.required(1, 2)?;
        let amount = number(pri, 1, 2)?.unwrap_or(Decimal::ZERO);
        let per_quantity = number(pri, 1, 5)?;
        let currency = self.order.currency;
        let Some(line) = self.line() else {
            return Ok(());
        };
        // The net price (AAA) is what the buyer pays a unit; any other is kept only when no
        // net price is given.
        let keep = match &line.unit_price {
            None => true,
            Some(price) => qualifier == "AAA" && price.basis.as_deref() != Some("AAA"),
        };
        if keep {
            line.unit_price = Some(UnitPrice {
                amount,
                currency,
                basis: Some(qualifier).filter(|q| !q.is_empty()),
                per_quantity,
            });
        }
        Ok(())
    }

    fn read_total(&mut self, moa: &Segment) -> Result<(), EdiError> {
        let qualifier = moa.component(1, 1).unwrap_or_default();
        if !["79", "86", "128"].contains(&qualifier) {
            return Ok(());
        }
        let Some(amount) = number(moa, 1, 2)? else {
            return Ok(());
        };
        if qualifier == "79" {
            self.stated.amount_total = Some((self.figure_name(moa), amount));
            self.order.stated_total = Some(amount);
        } else if self.order.stated_total.is_none() {
            self.order.stated_total = Some(amount);
        }
        Ok(())
    }

    fn close_line(&mut self) -> Result<(), EdiError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let PendingLine {
            mut line,
            lin,
            ordered,
            discrete,
        } = pending;
        let (quantity, unit) = match (ordered, discrete) {
            (Some(ordered), _) => ordered,
            // Some senders (the Wikipedia sample among them) order with the discrete quantity.
            (None, Some(discrete)) => {
                self.order.warnings.push(format!(
                    "{lin}: no QTY+21 (ordered quantity); the discrete quantity QTY+1 ({}) is \
                     taken as the quantity ordered",
                    discrete.0
                ));
                discrete
            }
            (None, None) => {
                return Err(EdiError::MissingLineQuantity {
                    at: lin,
                    expected: "QTY+21 in its LIN group",
                });
            }
        };
        line.quantity = quantity;
        line.unit_of_measure = unit;
        self.order.lines.push(line);
        Ok(())
    }

    fn finish(mut self, message: &Message) -> Result<PurchaseOrder, EdiError> {
        self.close_line()?;
        let missing = |segment| EdiError::MissingOrderSegment {
            document: "ORDERS message",
            control_number: message.reference.clone(),
            segment,
        };
        if !self.has_bgm {
            return Err(missing("BGM"));
        }
        // A cancellation names the order it cancels; it need not repeat the lines.
        if self.order.lines.is_empty() && self.order.purpose != Purpose::Cancellation {
            return Err(missing("LIN"));
        }
        let parties = std::mem::take(&mut self.parties);
        assign_parties(
            &mut self.order,
            parties,
            [&["BY"], &["DP", "ST"], &["IV", "BT"]],
        );
        check_figures(&mut self.order, self.stated);
        Ok(self.order)
    }
}
