//! The purchase order as o2c takes it in, whichever way it came: an X12 850
//! ([`crate::x12::po850`]) or an EDIFACT ORDERS message ([`crate::edifact::orders`]).
//!
//! One model for both, so order intake has one path. It keeps what the partner sent, in the
//! partner's terms: identifiers with their qualifiers, unit prices as written (a price may carry
//! more decimals than its currency), parties under their role codes. Qualifiers o2c has no use
//! for yet are kept (`other_parties`, `item_ids`, `references`, `dates`), not dropped: the person
//! reviewing an order, or the 855 echoing it, needs them.

mod decimal;

use chrono::NaiveDate;
use o2c_core::money::{Currency, Money, MoneyError};
use serde::Serialize;

pub use decimal::Decimal;

/// The syntax an order arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// ANSI ASC X12 (850).
    X12,
    /// UN/EDIFACT (ORDERS).
    Edifact,
}

/// What the sender means the document to do (X12 BEG01, EDIFACT BGM 1225).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new order (X12 `00`, EDIFACT `9`).
    Original,
    /// Cancels an order sent before (X12 `01`, EDIFACT `1`).
    Cancellation,
    /// Changes an order sent before (X12 `04`, EDIFACT `4`).
    Change,
    /// Replaces an order sent before (X12 `05`, EDIFACT `5`).
    Replacement,
    /// Confirms an order placed another way, e.g. by phone (X12 `06`, EDIFACT `6`).
    Confirmation,
    /// The same order again (X12 `07`, EDIFACT `7`): must not be entered twice.
    Duplicate,
    /// Any other code, as written.
    Other(String),
}

impl Purpose {
    /// X12 BEG01 (element 353).
    pub fn from_x12(code: &str) -> Purpose {
        match code {
            "00" => Purpose::Original,
            "01" => Purpose::Cancellation,
            "04" => Purpose::Change,
            "05" => Purpose::Replacement,
            "06" => Purpose::Confirmation,
            "07" => Purpose::Duplicate,
            other => Purpose::Other(other.to_string()),
        }
    }

    /// EDIFACT BGM 1225 (message function code).
    pub fn from_edifact(code: &str) -> Purpose {
        match code {
            "9" => Purpose::Original,
            "1" => Purpose::Cancellation,
            "4" => Purpose::Change,
            "5" => Purpose::Replacement,
            "6" => Purpose::Confirmation,
            "7" => Purpose::Duplicate,
            other => Purpose::Other(other.to_string()),
        }
    }
}

/// A purchase order, as the partner sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseOrder {
    pub channel: Channel,
    /// ISA06 / UNB sender identification (S002 0004).
    pub sender_id: String,
    /// ISA05 / UNB S002 0007 (`ZZ` mutually defined, `01` DUNS, `14` GLN).
    pub sender_qualifier: Option<String>,
    /// ISA08 / UNB recipient identification (S003 0010).
    pub receiver_id: String,
    /// ISA07 / UNB S003 0007.
    pub receiver_qualifier: Option<String>,
    /// ISA13 / UNB 0020: with the sender, what makes a resent interchange recognisable.
    pub interchange_control: String,
    /// ST02 / UNH 0062.
    pub message_control: String,
    /// ISA15 `T` / UNB 0035 `1`: test data, which must never move goods or money.
    pub test: bool,
    /// BEG03 / BGM 1004.
    pub po_number: String,
    /// BEG05 / DTM+137 (or DTM+4, order date).
    pub po_date: Option<NaiveDate>,
    pub purpose: Purpose,
    /// BEG02 (`SA` stand-alone, `NE` new order, `BK` blanket…) / BGM 1001 (`220` order…).
    pub order_type: Option<String>,
    /// CUR02 / CUX 6345 of the header; `None` when the order does not say.
    pub currency: Option<Currency>,
    /// N1*BY / NAD+BY.
    pub buyer: Option<Party>,
    /// N1*ST / NAD+DP or NAD+ST.
    pub ship_to: Option<Party>,
    /// N1*BT / NAD+IV or NAD+BT.
    pub bill_to: Option<Party>,
    /// Every other party of the header (supplier, payer, end user…), under its role code.
    pub other_parties: Vec<Party>,
    /// DTM*002 / DTM+2 of the header.
    pub requested_delivery: Option<NaiveDate>,
    /// Every other dated header DTM, with its qualifier.
    pub dates: Vec<QualifiedDate>,
    /// REF / RFF of the header (contract, department, promotion…).
    pub references: Vec<Reference>,
    /// PER / CTA of the header.
    pub contacts: Vec<Contact>,
    pub lines: Vec<OrderLine>,
    /// AMT*TT / MOA+79, 86 or 128: the total the sender states, if any.
    pub stated_total: Option<Decimal>,
    /// Free text: MSG (with N9 or SPI) / FTX of the header.
    pub notes: Vec<String>,
    /// The envelope's warnings, then the order's: what a strict reader would have refused.
    pub warnings: Vec<String>,
}

impl PurchaseOrder {
    /// An order with nothing in it yet, for the readers to fill.
    pub(crate) fn blank(channel: Channel) -> PurchaseOrder {
        PurchaseOrder {
            channel,
            sender_id: String::new(),
            sender_qualifier: None,
            receiver_id: String::new(),
            receiver_qualifier: None,
            interchange_control: String::new(),
            message_control: String::new(),
            test: false,
            po_number: String::new(),
            po_date: None,
            purpose: Purpose::Original,
            order_type: None,
            currency: None,
            buyer: None,
            ship_to: None,
            bill_to: None,
            other_parties: Vec::new(),
            requested_delivery: None,
            dates: Vec::new(),
            references: Vec::new(),
            contacts: Vec::new(),
            lines: Vec::new(),
            stated_total: None,
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// A party to the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// N101 / NAD 3035, as written: `BY`, `ST`, `BT`, `SF`, `SU`, `DP`, `IV`…
    pub role: String,
    /// N102 / NAD C080 (or the first line of C058).
    pub name: Option<String>,
    /// N2 / the further name lines of NAD.
    pub additional_names: Vec<String>,
    /// N103/N104 / NAD C082.
    pub id: Option<PartyId>,
    pub address: Address,
    /// REF / RFF within the party's loop.
    pub references: Vec<Reference>,
    /// PER / CTA within the party's loop.
    pub contacts: Vec<Contact>,
}

impl Party {
    /// A party under `role` with nothing else known yet.
    pub fn new(role: &str) -> Party {
        Party {
            role: role.to_string(),
            name: None,
            additional_names: Vec::new(),
            id: None,
            address: Address::default(),
            references: Vec::new(),
            contacts: Vec::new(),
        }
    }
}

/// A party's identifier and the scheme it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyId {
    /// X12 N103 (`92` assigned by buyer, `91` by seller, `1` DUNS, `UL` GLN, `ZZ`) / EDIFACT
    /// 3055 code list agency (`9` GS1, `91`, `92`); empty when the sender gave none.
    pub qualifier: String,
    pub value: String,
}

/// A postal address (N3/N4 / NAD C059…3207).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub lines: Vec<String>,
    pub city: Option<String>,
    /// State or province code.
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// As written; ISO 3166 two letters when the sender follows the standard.
    pub country: Option<String>,
}

/// A reference number under its qualifier (REF01/REF02 / RFF C506).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub qualifier: String,
    pub value: String,
    /// X12 REF03.
    pub description: Option<String>,
}

/// A date under its qualifier (DTM01 / DTM C507 2005).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualifiedDate {
    pub qualifier: String,
    pub date: NaiveDate,
}

/// A person to talk to (PER / CTA with COM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// PER01 / CTA 3139 (`IC` information contact, `BD` buyer…).
    pub function: String,
    pub name: Option<String>,
    pub channels: Vec<Communication>,
}

/// A telephone number, fax number or e-mail address (PER04… / COM C076).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Communication {
    /// `TE` telephone, `FX` fax, `EM` e-mail (X12 and EDIFACT share these).
    pub qualifier: String,
    pub number: String,
}

/// A product identifier under its qualifier: X12 PO106/PO107… / EDIFACT C212 in LIN and PIA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemId {
    /// As the channel writes it (`BP`, `VP`, `UP`, `MG` / `IN`, `SA`, `EN`, `SRV`); empty when
    /// the sender gave none.
    pub qualifier: String,
    pub value: String,
}

/// A unit price as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitPrice {
    /// PO104 / PRI 5118. May have more decimals than the currency.
    pub amount: Decimal,
    /// The line's currency (a CUR in the PO1 loop), else the header's; `None` when neither
    /// says.
    pub currency: Option<Currency>,
    /// PO105 basis of unit price (`PE` per each, `CA` catalog, `UM`…) / PRI 5125 (`AAA` net,
    /// `AAB` gross).
    pub basis: Option<String>,
    /// PRI 5284: the quantity the price is for (`100`: the price is per hundred units).
    pub per_quantity: Option<Decimal>,
}

impl UnitPrice {
    /// The price as money, exactly, in its own currency or else `fallback` (the customer's).
    /// Refused when the price has more decimals than the currency: such prices have to be
    /// multiplied out before they are rounded.
    pub fn to_money(&self, fallback: Currency) -> Result<Money, MoneyError> {
        self.amount.to_money(self.currency.unwrap_or(fallback))
    }
}

/// One line of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    /// PO101 / LIN 1082, as written; the line's position (1, 2…) when the sender left it out.
    pub line_no: String,
    /// PO102 / QTY+21.
    pub quantity: Decimal,
    /// PO103 / QTY 6411 (`EA`, `PCE`, `C62`…), as written.
    pub unit_of_measure: Option<String>,
    /// PO104 / PRI (AAA preferred).
    pub unit_price: Option<UnitPrice>,
    /// The buyer's item number: X12 `BP`, `IN`, `PI` / EDIFACT `IN`, `BP`.
    pub buyer_item: Option<String>,
    /// The supplier's item number: X12 `VP`, `VN` / EDIFACT `SA`.
    pub vendor_item: Option<String>,
    /// GTIN: X12 `UP`, `UA`, `EN`, `UK` / EDIFACT `EN`, `SRV`, `UP`.
    pub gtin: Option<String>,
    /// Every product identifier as sent, in order, with its qualifier (the three above too).
    pub item_ids: Vec<ItemId>,
    /// PID05 / IMD C273 7008; several are joined with a space.
    pub description: Option<String>,
    /// DTM*002 / DTM+2 of the line.
    pub requested_delivery: Option<NaiveDate>,
    /// Every other dated DTM of the line.
    pub dates: Vec<QualifiedDate>,
    pub references: Vec<Reference>,
    /// Parties of the line (a ship-to per line).
    pub parties: Vec<Party>,
    /// MSG / FTX of the line.
    pub notes: Vec<String>,
}

impl OrderLine {
    pub(crate) fn new(line_no: String, quantity: Decimal) -> OrderLine {
        OrderLine {
            line_no,
            quantity,
            unit_of_measure: None,
            unit_price: None,
            buyer_item: None,
            vendor_item: None,
            gtin: None,
            item_ids: Vec::new(),
            description: None,
            requested_delivery: None,
            dates: Vec::new(),
            references: Vec::new(),
            parties: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Records an identifier, and fills the first of `buyer_item`, `vendor_item`, `gtin` its
    /// role names. Returns a warning for a GTIN whose check digit is wrong.
    pub(crate) fn add_item_id(&mut self, role: ItemRole, id: ItemId) -> Option<String> {
        let slot = match role {
            ItemRole::Buyer => Some(&mut self.buyer_item),
            ItemRole::Vendor => Some(&mut self.vendor_item),
            ItemRole::Gtin => Some(&mut self.gtin),
            ItemRole::Other => None,
        };
        let warning = (role == ItemRole::Gtin && !gtin_check_digit_ok(&id.value)).then(|| {
            format!(
                "line {}: GTIN `{}` ({}) has a wrong check digit or length",
                self.line_no, id.value, id.qualifier
            )
        });
        if let Some(slot) = slot.filter(|s| s.is_none()) {
            *slot = Some(id.value.clone());
        }
        self.item_ids.push(id);
        warning
    }

    pub(crate) fn add_description(&mut self, text: &str) {
        self.description = Some(match self.description.take() {
            Some(before) => format!("{before} {text}"),
            None => text.to_string(),
        });
    }

    /// Quantity × unit price, when the price is per one unit.
    fn amount(&self) -> Option<Decimal> {
        let price = self.unit_price.as_ref()?;
        if price
            .per_quantity
            .is_some_and(|q| q != Decimal::from_integer(1))
        {
            return None;
        }
        self.quantity.checked_mul(price.amount)
    }
}

/// What an item identifier's qualifier says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemRole {
    Buyer,
    Vendor,
    Gtin,
    Other,
}

/// True when `digits` is a GTIN-8, -12, -13 or -14 with a correct check digit.
fn gtin_check_digit_ok(digits: &str) -> bool {
    if ![8, 12, 13, 14].contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut values = digits.bytes().rev().map(|b| u32::from(b - b'0'));
    let check = values.next().unwrap_or_default();
    let sum: u32 = values
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { v * 3 } else { v })
        .sum();
    (10 - sum % 10) % 10 == check
}

/// Hands the header's parties to `buyer`, `ship_to` and `bill_to` by role (the first of each;
/// the role lists are the channel's codes, preferred first), and the rest to `other_parties`.
pub(crate) fn assign_parties(order: &mut PurchaseOrder, parties: Vec<Party>, roles: [&[&str]; 3]) {
    for party in parties {
        let slot = match roles
            .iter()
            .position(|codes| codes.contains(&party.role.as_str()))
        {
            Some(0) => &mut order.buyer,
            Some(1) => &mut order.ship_to,
            Some(2) => &mut order.bill_to,
            _ => {
                order.other_parties.push(party);
                continue;
            }
        };
        match slot {
            None => *slot = Some(party),
            Some(first) => {
                order.warnings.push(format!(
                    "a second {} party (`{}`) after `{}`: the first is used, the second kept \
                     with the other parties",
                    party.role,
                    party.name.as_deref().unwrap_or("no name"),
                    first.name.as_deref().unwrap_or("no name"),
                ));
                order.other_parties.push(party);
            }
        }
    }
}

/// Control figures a sender states at the end of an order, each with where it is written
/// (`segment 38 (CTT, line 38, byte 1000): CTT01`).
#[derive(Default)]
pub(crate) struct StatedFigures {
    pub line_count: Option<(String, Decimal)>,
    pub quantity_total: Option<(String, Decimal)>,
    pub amount_total: Option<(String, Decimal)>,
}

/// Warns where the stated figures disagree with the lines. Only warnings: the lines are what
/// the buyer ordered, and a person has to look at the difference.
pub(crate) fn check_figures(order: &mut PurchaseOrder, stated: StatedFigures) {
    let lines = &order.lines;
    let mut warnings = Vec::new();
    if let Some((at, count)) = stated.line_count {
        let counted = Decimal::from_integer(i64::try_from(lines.len()).unwrap_or(i64::MAX));
        if count != counted {
            warnings.push(format!(
                "{at} says {count} line items, but there are {counted}"
            ));
        }
    }
    if let Some((at, total)) = stated.quantity_total {
        let summed = lines
            .iter()
            .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.quantity));
        if summed.is_some_and(|s| s != total) {
            let summed = summed.unwrap_or(Decimal::ZERO);
            warnings.push(format!(
                "{at} says the quantities add up to {total}, but they add up to {summed}"
            ));
        }
    }
    if let Some((at, total)) = stated.amount_total {
        let summed = lines.iter().try_fold(Decimal::ZERO, |sum, l| {
            l.amount().and_then(|a| sum.checked_add(a))
        });
        match summed {
            Some(summed) if summed != total => warnings.push(format!(
                "{at} says the order totals {total}, but quantity × unit price of the lines \
                 adds up to {summed}"
            )),
            _ => {}
        }
    }
    order.warnings.extend(warnings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digits_are_checked_for_every_length() {
        assert!(gtin_check_digit_ok("5020436373085"));
        assert!(gtin_check_digit_ok("022108955228"));
        assert!(gtin_check_digit_ok("00221089552284"));
        assert!(!gtin_check_digit_ok("5020436373086"));
        assert!(!gtin_check_digit_ok("ABC123"));
    }

    #[test]
    fn the_first_party_of_a_role_is_used_and_the_rest_kept() {
        let mut order = PurchaseOrder::blank(Channel::X12);
        let named = |role: &str, name: &str| Party {
            name: Some(name.to_string()),
            ..Party::new(role)
        };
        let parties = vec![
            named("BY", "A"),
            named("SF", "B"),
            named("BY", "C"),
            named("DP", "D"),
        ];
        assign_parties(&mut order, parties, [&["BY"], &["DP", "ST"], &["IV", "BT"]]);
        assert_eq!(order.buyer.and_then(|p| p.name).as_deref(), Some("A"));
        assert_eq!(order.ship_to.and_then(|p| p.name).as_deref(), Some("D"));
        assert_eq!(order.other_parties.len(), 2);
        assert_eq!(order.warnings.len(), 1);
    }
}
