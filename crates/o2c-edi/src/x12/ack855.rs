//! The X12 855 purchase order acknowledgment: the answer to an 850, line by line.
//!
//! Each line echoes the PO1 as the buyer sent it (line number, quantity, unit, price, product
//! identifiers) and says what becomes of it in an ACK: accepted (`IA`), accepted with another
//! quantity (`IQ`), backordered (`IB`) or rejected (`IR`). BAK02 follows from the lines, so
//! it cannot contradict them: all accepted as ordered is `AD`, all rejected `RD`, anything
//! else `AC`.

use chrono::NaiveDate;

use super::write::{
    Envelope, OutSegment, TransactionSet, WriteError, date8, with_item_ids, write_interchange,
};
use crate::order::{Decimal, ItemId, OrderLine, PurchaseOrder};

/// An acknowledgment of one purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAcknowledgment {
    /// BAK03: the buyer's order number.
    pub po_number: String,
    /// BAK04: the order's date (required in the 855).
    pub po_date: Option<NaiveDate>,
    /// BAK09.
    pub acknowledged_on: NaiveDate,
    /// BAK08: o2c's order number, for the buyer to quote.
    pub seller_order_number: Option<String>,
    pub lines: Vec<LineAcknowledgment>,
}

/// One PO1 echoed, and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAcknowledgment {
    /// PO101.
    pub line_no: String,
    /// PO102, as ordered.
    pub quantity: Decimal,
    /// PO103 (and ACK03).
    pub unit_of_measure: Option<String>,
    /// PO104.
    pub unit_price: Option<Decimal>,
    /// PO105.
    pub price_basis: Option<String>,
    /// PO106… as the buyer sent them (at most ten).
    pub item_ids: Vec<ItemId>,
    pub decision: LineDecision,
}

/// What becomes of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineDecision {
    /// `IA`: shipped as ordered.
    Accepted { ship_on: Option<NaiveDate> },
    /// `IQ`: accepted for another quantity.
    QuantityChanged {
        quantity: Decimal,
        ship_on: Option<NaiveDate>,
    },
    /// `IB`: accepted, to be shipped when stock arrives.
    Backordered { ship_on: Option<NaiveDate> },
    /// `IR`: not supplied.
    Rejected,
}

impl LineDecision {
    /// ACK01, the line item status code.
    pub fn code(&self) -> &'static str {
        match self {
            LineDecision::Accepted { .. } => "IA",
            LineDecision::QuantityChanged { .. } => "IQ",
            LineDecision::Backordered { .. } => "IB",
            LineDecision::Rejected => "IR",
        }
    }

    fn ship_on(&self) -> Option<NaiveDate> {
        match self {
            LineDecision::Accepted { ship_on }
            | LineDecision::QuantityChanged { ship_on, .. }
            | LineDecision::Backordered { ship_on } => *ship_on,
            LineDecision::Rejected => None,
        }
    }
}

impl LineAcknowledgment {
    /// Echoes an order line as it was read. Identifiers without a qualifier cannot be written
    /// in a PO1 and are left out.
    pub fn echo(line: &OrderLine, decision: LineDecision) -> LineAcknowledgment {
        let price = line.unit_price.as_ref();
        LineAcknowledgment {
            line_no: line.line_no.clone(),
            quantity: line.quantity,
            unit_of_measure: line.unit_of_measure.clone(),
            unit_price: price.map(|p| p.amount),
            price_basis: price.and_then(|p| p.basis.clone()),
            item_ids: line
                .item_ids
                .iter()
                .filter(|id| !id.qualifier.is_empty())
                .cloned()
                .collect(),
            decision,
        }
    }
}

impl OrderAcknowledgment {
    /// The acknowledgment of `order`, with `decide` saying what becomes of each line.
    pub fn for_order(
        order: &PurchaseOrder,
        acknowledged_on: NaiveDate,
        seller_order_number: Option<String>,
        mut decide: impl FnMut(&OrderLine) -> LineDecision,
    ) -> OrderAcknowledgment {
        OrderAcknowledgment {
            po_number: order.po_number.clone(),
            po_date: order.po_date,
            acknowledged_on,
            seller_order_number,
            lines: order
                .lines
                .iter()
                .map(|line| LineAcknowledgment::echo(line, decide(line)))
                .collect(),
        }
    }

    /// BAK02: `AD` when every line is accepted as ordered, `RD` when every line is rejected,
    /// `AC` otherwise, `AK` without lines.
    pub fn acknowledgment_type(&self) -> &'static str {
        let all = |f: fn(&LineDecision) -> bool| self.lines.iter().all(|l| f(&l.decision));
        if self.lines.is_empty() {
            "AK"
        } else if all(|d| matches!(d, LineDecision::Accepted { .. })) {
            "AD"
        } else if all(|d| matches!(d, LineDecision::Rejected)) {
            "RD"
        } else {
            "AC"
        }
    }

    /// The 855's segments between ST and SE.
    pub fn to_transaction_set(&self, control_number: u32) -> Result<TransactionSet, WriteError> {
        let po_date = self.po_date.ok_or_else(|| WriteError::EmptyValue {
            element: "BAK04 (purchase order date)".to_string(),
        })?;
        let mut segments = vec![
            OutSegment::new("BAK")
                .el("00")
                .el(self.acknowledgment_type())
                .el(self.po_number.as_str())
                .el(date8(po_date))
                .skip(3)
                .opt(self.seller_order_number.as_deref())
                .el(date8(self.acknowledged_on)),
        ];
        let mut hash = Decimal::ZERO;
        for line in &self.lines {
            segments.extend(line_segments(line)?);
            hash = hash
                .checked_add(line.quantity)
                .ok_or(WriteError::AmountOutOfRange {
                    what: "hash total of quantities (CTT02)",
                })?;
        }
        segments.push(
            OutSegment::new("CTT")
                .el(self.lines.len().to_string())
                .el(hash.to_string()),
        );
        Ok(TransactionSet {
            set_id: "855",
            control_number,
            segments,
        })
    }
}

fn line_segments(line: &LineAcknowledgment) -> Result<[OutSegment; 2], WriteError> {
    let unit = line
        .unit_of_measure
        .as_deref()
        .ok_or_else(|| WriteError::EmptyValue {
            element: format!("PO103 (unit of measure) of line {}", line.line_no),
        })?;
    let po1 = OutSegment::new("PO1")
        .el(line.line_no.as_str())
        .el(line.quantity.to_string())
        .el(unit)
        .opt(line.unit_price.map(|p| p.to_string()))
        .opt(line.price_basis.as_deref());
    let po1 = with_item_ids(po1, &line.item_ids, 10)?;
    let quantity = match &line.decision {
        LineDecision::QuantityChanged { quantity, .. } => *quantity,
        _ => line.quantity,
    };
    let mut ack = OutSegment::new("ACK")
        .el(line.decision.code())
        .el(quantity.to_string())
        .el(unit);
    if let Some(date) = line.decision.ship_on() {
        // 068: current schedule ship.
        ack = ack.el("068").el(date8(date));
    }
    Ok([po1, ack])
}

/// Writes an interchange holding one 855.
pub fn write_855(
    envelope: &Envelope,
    control_number: u32,
    acknowledgment: &OrderAcknowledgment,
) -> Result<String, WriteError> {
    write_interchange(
        envelope,
        &[acknowledgment.to_transaction_set(control_number)?],
    )
}
