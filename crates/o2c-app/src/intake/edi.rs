//! EDI in: an X12 interchange of 850s or an EDIFACT interchange of ORDERS messages, read by
//! `o2c_edi` into canonical purchase orders and from those into drafts that name the segment
//! and element of every value; and the X12 855 that answers an 850. (There is no EDIFACT
//! ORDRSP writer yet: an EDIFACT document says so instead of carrying an acknowledgment.)

use super::documents::DocumentOrder;
use super::resolve::{
    CustomerKey, Draft, DraftLine, DraftPrice, ItemRef, Parsed, PartialAddress, PartnerRef, ShipTo,
};
use super::xref::ItemKind;
use super::{Channel, IntakeError};
use crate::context::Ctx;
use crate::error::Result;
use o2c_edi::EdiError;
use o2c_edi::edifact;
use o2c_edi::order::{Party, PurchaseOrder};
use o2c_edi::x12::ack855::{LineDecision, OrderAcknowledgment};
use o2c_edi::x12::write::{Envelope, Version, write_interchange};
use o2c_edi::x12::{self, Delimiters, Usage};
use o2c_store::Conn;
use std::collections::HashMap;

/// What the answer to a document can be.
pub(crate) enum Reply {
    /// An 855 per 850, from us to the sender.
    X12 {
        to: X12Parties,
        orders: Vec<PurchaseOrder>,
    },
    Edifact,
    None,
}

/// The incoming interchange's parties, to be swapped for the answer.
pub(crate) struct X12Parties {
    sender_qualifier: String,
    sender_id: String,
    receiver_qualifier: String,
    receiver_id: String,
    application_sender: String,
    application_receiver: String,
    version: Version,
}

fn rejected(code: &str, e: &EdiError) -> IntakeError {
    IntakeError::new(code, "", e.to_string())
}

fn test_data(at: &str) -> IntakeError {
    IntakeError::new(
        "test-interchange",
        at,
        "the interchange is marked as test data, which must never move goods or money",
    )
}

pub(crate) fn read(
    channel: Channel,
    bytes: &[u8],
) -> std::result::Result<Parsed, Vec<IntakeError>> {
    match channel {
        Channel::Edifact => read_edifact(bytes),
        _ => read_x12(bytes),
    }
}

fn read_x12(bytes: &[u8]) -> std::result::Result<Parsed, Vec<IntakeError>> {
    let ic =
        x12::read_interchange(bytes).map_err(|e| vec![rejected("malformed-order-document", &e)])?;
    if ic.usage == Usage::Test {
        return Err(vec![test_data("ISA15")]);
    }
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    for tx in ic.transactions() {
        match o2c_edi::read_850(&ic, tx) {
            Ok(order) => orders.push((tx, order)),
            Err(e @ EdiError::NotAPurchaseOrder { .. }) => errors.push(IntakeError::new(
                "not-an-order",
                format!(
                    "transaction set {} `{}` (segment {})",
                    tx.set_id, tx.control_number, tx.position.segment
                ),
                e.to_string(),
            )),
            Err(e) => errors.push(rejected("malformed-order-document", &e)),
        }
    }
    if orders.is_empty() && errors.is_empty() {
        errors.push(IntakeError::new(
            "malformed-order-document",
            "",
            "the interchange holds no transaction set",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let sender = format!("{}:{}", ic.sender_qualifier, ic.sender_id);
    let mut warnings = Vec::new();
    let drafts = orders
        .iter()
        .map(|(tx, order)| {
            merge(&mut warnings, &order.warnings);
            x12_draft(tx, order, &ic)
        })
        .collect();
    let group = ic.groups.first();
    let to = X12Parties {
        sender_qualifier: ic.sender_qualifier.clone(),
        sender_id: ic.sender_id.clone(),
        receiver_qualifier: ic.receiver_qualifier.clone(),
        receiver_id: ic.receiver_id.clone(),
        application_sender: group.map_or(ic.sender_id.clone(), |g| g.sender.clone()),
        application_receiver: group.map_or(ic.receiver_id.clone(), |g| g.receiver.clone()),
        version: match ic.version.as_str() {
            "00501" | "00502" | "00503" => Version::V005010,
            _ => Version::V004010,
        },
    };
    Ok(Parsed {
        channel: Channel::X12,
        dedupe_key: format!("x12|{sender}|{}", ic.control_number),
        sender: Some(sender),
        drafts,
        warnings,
        reply: Reply::X12 {
            to,
            orders: orders.into_iter().map(|(_, o)| o).collect(),
        },
    })
}

fn read_edifact(bytes: &[u8]) -> std::result::Result<Parsed, Vec<IntakeError>> {
    let ic = edifact::read_interchange(bytes)
        .map_err(|e| vec![rejected("malformed-order-document", &e)])?;
    if ic.test {
        return Err(vec![test_data("UNB 0035")]);
    }
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    for message in &ic.messages {
        match edifact::read_orders(&ic, message) {
            Ok(order) => orders.push((message, order)),
            Err(e @ EdiError::NotAnOrdersMessage { .. }) => errors.push(IntakeError::new(
                "not-an-order",
                format!("message `{}` ({})", message.reference, message.position),
                e.to_string(),
            )),
            Err(e) => errors.push(rejected("malformed-order-document", &e)),
        }
    }
    if orders.is_empty() && errors.is_empty() {
        errors.push(IntakeError::new(
            "malformed-order-document",
            "",
            "the interchange holds no message",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let qualifier = ic.sender_qualifier.clone().unwrap_or_default();
    let sender = format!("{qualifier}:{}", ic.sender_id);
    let mut warnings = Vec::new();
    let drafts = orders
        .iter()
        .map(|(message, order)| {
            merge(&mut warnings, &order.warnings);
            edifact_draft(message, order, &ic)
        })
        .collect();
    Ok(Parsed {
        channel: Channel::Edifact,
        dedupe_key: format!("edifact|{sender}|{}", ic.control_reference),
        sender: Some(sender),
        drafts,
        warnings,
        reply: Reply::Edifact,
    })
}

fn merge(into: &mut Vec<String>, warnings: &[String]) {
    for w in warnings {
        if !into.contains(w) {
            into.push(w.clone());
        }
    }
}

fn partner(party: &Option<Party>, at: String) -> Option<PartnerRef> {
    let id = party.as_ref()?.id.as_ref()?;
    Some(PartnerRef {
        qualifier: id.qualifier.clone(),
        id: id.value.clone(),
        at,
    })
}

fn partial(party: &Party) -> PartialAddress {
    PartialAddress {
        lines: party.address.lines.clone(),
        city: party.address.city.clone(),
        postal_code: party.address.postal_code.clone(),
        country: party.address.country.clone(),
        id: party.id.as_ref().map(|i| i.value.clone()),
    }
}

/// The drafts' lines, located by the n-th line segment (PO1 or LIN) of the transaction.
fn draft_lines(
    order: &PurchaseOrder,
    mut line_at: impl FnMut(usize) -> String,
    item_at: impl Fn(usize, &str) -> String,
    (line_no_at, quantity_at, price_at): (&str, &str, &str),
    ship_to_roles: &[&str],
) -> Vec<DraftLine> {
    order
        .lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let at = format!("{}, {line_no_at} `{}`", line_at(n), line.line_no);
            let position = |v: &str| line.item_ids.iter().position(|i| i.value == v).unwrap_or(0);
            let qualifier = |v: &str| {
                line.item_ids
                    .get(position(v))
                    .map_or("", |i| i.qualifier.as_str())
                    .to_string()
            };
            let ids = [
                (ItemKind::Sku, &line.vendor_item),
                (ItemKind::CustomerItem, &line.buyer_item),
                (ItemKind::Gtin, &line.gtin),
            ]
            .into_iter()
            .filter_map(|(kind, value)| {
                let value = value.as_ref()?;
                Some(ItemRef {
                    kind,
                    value: value.clone(),
                    at: item_at(position(value), &qualifier(value)),
                })
            })
            .collect();
            DraftLine {
                quantity: line.quantity,
                quantity_at: format!("{at}, {quantity_at}"),
                price: line.unit_price.as_ref().map(|p| DraftPrice {
                    amount: p.amount,
                    currency: p.currency,
                    per_quantity: p.per_quantity,
                    at: format!("{at}, {price_at}"),
                }),
                ship_to: line
                    .parties
                    .iter()
                    .find(|p| ship_to_roles.contains(&p.role.as_str()))
                    .map(|p| (partial(p), format!("{at}, its own ship-to party"))),
                ids,
                at,
            }
        })
        .collect()
}

fn requested_delivery(order: &PurchaseOrder) -> Option<chrono::NaiveDate> {
    order.requested_delivery.or_else(|| {
        order
            .lines
            .iter()
            .filter_map(|l| l.requested_delivery)
            .min()
    })
}

fn x12_draft(tx: &x12::Transaction, order: &PurchaseOrder, ic: &x12::Interchange) -> Draft {
    let set = format!(
        "transaction set 850 `{}` ({})",
        tx.control_number, tx.position
    );
    let segment = |id: &str, nth: usize| {
        tx.segments
            .iter()
            .filter(|s| s.id == id)
            .nth(nth)
            .map_or(set.clone(), |s| s.reference().to_string())
    };
    let n1 = |role: &str| {
        tx.segments
            .iter()
            .find(|s| s.id == "N1" && s.text(1) == Some(role))
            .map_or(format!("N1*{role}"), |s| s.reference().to_string())
    };
    let mut candidates: Vec<PartnerRef> = [
        partner(&order.buyer, format!("{}, N103/N104", n1("BY"))),
        partner(&order.bill_to, format!("{}, N103/N104", n1("BT"))),
    ]
    .into_iter()
    .flatten()
    .collect();
    candidates.push(PartnerRef {
        qualifier: ic.sender_qualifier.clone(),
        id: ic.sender_id.clone(),
        at: "ISA05/ISA06, the interchange sender".into(),
    });
    Draft {
        po_number: order.po_number.clone(),
        at: format!("{set}, BEG03 PO `{}`", order.po_number),
        purpose: order.purpose.clone(),
        customer: CustomerKey::Partners(candidates),
        currency: order
            .currency
            .map(|c| (c, format!("{}, CUR02", segment("CUR", 0)))),
        requested_delivery: requested_delivery(order),
        ship_to: match &order.ship_to {
            Some(p) => ShipTo::Named {
                address: partial(p),
                at: n1("ST"),
            },
            None => ShipTo::CustomerDefault,
        },
        lines: draft_lines(
            order,
            |n| segment("PO1", n),
            |i, q| format!("PO1{:02} ({q})", 7 + 2 * i),
            ("PO101", "PO102", "PO104"),
            &["ST"],
        ),
    }
}

fn edifact_draft(
    message: &edifact::Message,
    order: &PurchaseOrder,
    ic: &edifact::Interchange,
) -> Draft {
    let name = format!(
        "ORDERS message `{}` ({})",
        message.reference, message.position
    );
    let segment = |tag: &str, nth: usize| {
        message
            .segments
            .iter()
            .filter(|s| s.tag == tag)
            .nth(nth)
            .map_or(name.clone(), |s| s.reference().to_string())
    };
    let nad = |roles: &[&str]| {
        message
            .segments
            .iter()
            .find(|s| s.tag == "NAD" && s.text(1).is_some_and(|r| roles.contains(&r)))
            .map_or(format!("NAD+{}", roles[0]), |s| s.reference().to_string())
    };
    let mut candidates: Vec<PartnerRef> = [
        partner(&order.buyer, format!("{}, C082", nad(&["BY"]))),
        partner(&order.bill_to, format!("{}, C082", nad(&["IV", "BT"]))),
    ]
    .into_iter()
    .flatten()
    .collect();
    candidates.push(PartnerRef {
        qualifier: ic.sender_qualifier.clone().unwrap_or_default(),
        id: ic.sender_id.clone(),
        at: "UNB S002, the interchange sender".into(),
    });
    Draft {
        po_number: order.po_number.clone(),
        at: format!("{name}, BGM 1004 PO `{}`", order.po_number),
        purpose: order.purpose.clone(),
        customer: CustomerKey::Partners(candidates),
        currency: order
            .currency
            .map(|c| (c, format!("{}, C504", segment("CUX", 0)))),
        requested_delivery: requested_delivery(order),
        ship_to: match &order.ship_to {
            Some(p) => ShipTo::Named {
                address: partial(p),
                at: nad(&["DP", "ST"]),
            },
            None => ShipTo::CustomerDefault,
        },
        lines: draft_lines(
            order,
            |n| segment("LIN", n),
            |_, q| format!("LIN/PIA C212 ({q})"),
            ("LIN 1082", "QTY", "PRI"),
            &["DP", "ST"],
        ),
    }
}

/// The answer to an ordered (or re-sent) document: `(855 text, note)`. An X12 document gets
/// one 855 per 850 in one interchange, every line accepted (`IA`) or, for a dismissed one,
/// rejected (`IR`); what cannot be written is said in the note, never fails the orders.
pub(crate) fn acknowledge(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    parsed: &Parsed,
    orders: &[DocumentOrder],
    accept: bool,
) -> Result<(Option<String>, Option<String>)> {
    let (to, pos) = match &parsed.reply {
        Reply::X12 { to, orders } => (to, orders),
        Reply::Edifact => {
            return Ok((
                None,
                Some("EDIFACT: o2c has no ORDRSP writer yet; confirm the order to the partner another way".into()),
            ));
        }
        Reply::None => return Ok((None, None)),
    };
    let placed: HashMap<&str, &str> = orders
        .iter()
        .map(|o| (o.po_number.as_str(), o.order_id.as_str()))
        .collect();
    let control = next_control_number(conn)?;
    let mut sets = Vec::with_capacity(pos.len());
    for (i, po) in pos.iter().enumerate() {
        let ack = OrderAcknowledgment::for_order(po, ctx.today(), None, |line| {
            match (accept, placed.contains_key(po.po_number.as_str())) {
                (true, true) => LineDecision::Accepted {
                    ship_on: line.requested_delivery.or(po.requested_delivery),
                },
                _ => LineDecision::Rejected,
            }
        });
        match ack.to_transaction_set(u32::try_from(i + 1).unwrap_or(u32::MAX)) {
            Ok(set) => sets.push(set),
            Err(e) => return Ok((None, Some(format!("no 855: PO `{}`: {e}", po.po_number)))),
        }
    }
    let envelope = reply_envelope(ctx, to, control);
    Ok(match write_interchange(&envelope, &sets) {
        // o2c's order ids are longer than BAK08 allows (22 characters): the 855 echoes the
        // buyer's PO number, which is what the buyer files it under.
        Ok(text) => (Some(text), None),
        Err(e) => (None, Some(format!("no 855: {e}"))),
    })
}

/// The envelope of a message back to the sender of an interchange (855, 856, 810): the
/// parties swapped, its version, o2c's delimiters.
pub(crate) fn reply_envelope(ctx: &Ctx, to: &X12Parties, control: u32) -> Envelope {
    Envelope {
        sender_qualifier: to.receiver_qualifier.clone(),
        sender_id: to.receiver_id.clone(),
        receiver_qualifier: to.sender_qualifier.clone(),
        receiver_id: to.sender_id.clone(),
        application_sender: to.application_receiver.clone(),
        application_receiver: to.application_sender.clone(),
        date: ctx.today(),
        time: ctx.now.time(),
        interchange_control: control,
        group_control: control,
        acknowledgment_requested: false,
        usage: Usage::Production,
        version: to.version,
        delimiters: Delimiters {
            element: '*',
            component: '>',
            repetition: (to.version == Version::V005010).then_some('^'),
            segment: '~',
        },
        line_break_after_segment: true,
    }
}

/// The next interchange control number of o2c's outgoing X12 (ISA13 and GS06), 1 to
/// 999,999,999 and round again.
pub(crate) fn next_control_number(conn: &mut dyn Conn) -> Result<u32> {
    let r = conn.query_one(
        "INSERT INTO edi_control_numbers (name, last_value) VALUES ('x12', 1)
         ON CONFLICT (name) DO UPDATE SET last_value = edi_control_numbers.last_value % 999999999 + 1
         RETURNING last_value",
        &[],
    )?;
    Ok(u32::try_from(r.int(0)).unwrap_or(1))
}
