//! The X12 856 ship notice: what left the warehouse, for which orders, in which packages.
//!
//! The hierarchy is the pick-and-pack one (BSN05 `0001`): shipment (`S`) → order (`O`) →
//! pack (`P`) → item (`I`), one HL segment each, numbered in file order with their parent's
//! number in HL02. Carrier, tracking number, bill of lading and total weight sit at the
//! shipment; each pack carries its SSCC (`MAN*GM`), its own tracking number
//! (`MAN*CP`, carrier-assigned package id) and weight; each item the PO line it ships.

use chrono::{NaiveDate, NaiveTime};

use super::write::{
    Envelope, OutSegment, TransactionSet, WriteError, date8, party_loop, with_item_ids,
    write_interchange,
};
use crate::order::{Decimal, ItemId, Party};

/// One shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipNotice {
    /// BSN02: o2c's shipment number.
    pub shipment_id: String,
    /// BSN03/BSN04: when the notice was made.
    pub created_on: NaiveDate,
    pub created_at: NaiveTime,
    /// DTM*011.
    pub shipped_on: NaiveDate,
    /// DTM*017.
    pub estimated_delivery: Option<NaiveDate>,
    /// TD101 (`CTN25` corrugated carton, `PLT94` pallet…); TD102 is the number of packs.
    pub packaging_code: Option<String>,
    /// TD106-TD108: the shipment's gross weight.
    pub gross_weight: Option<Weight>,
    /// TD503, the carrier's SCAC (`UPSN`, `FDEG`…).
    pub carrier_scac: Option<String>,
    /// TD504 (`M` motor, `U` private parcel service, `A` air…).
    pub transport_method: Option<String>,
    /// REF*BM.
    pub bill_of_lading: Option<String>,
    /// REF*CN: the carrier's tracking (PRO) number for the whole shipment.
    pub tracking_number: Option<String>,
    /// N1*SF; written under that role whatever `role` says.
    pub ship_from: Option<Party>,
    /// N1*ST; written under that role whatever `role` says.
    pub ship_to: Party,
    pub orders: Vec<ShippedOrder>,
}

/// A weight and its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    pub value: Decimal,
    pub unit: WeightUnit,
}

/// The units X12 weights are given in here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    /// `LB`.
    Pounds,
    /// `KG`.
    Kilograms,
}

impl WeightUnit {
    fn code(self) -> &'static str {
        match self {
            WeightUnit::Pounds => "LB",
            WeightUnit::Kilograms => "KG",
        }
    }
}

/// The part of one purchase order in the shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedOrder {
    /// PRF01.
    pub po_number: String,
    /// PRF04.
    pub po_date: Option<NaiveDate>,
    pub packs: Vec<Pack>,
}

/// One carton or pallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    /// MAN*GM: the GS1 serial shipping container code on its label.
    pub sscc: Option<String>,
    /// MAN*CP: the carrier's package tracking number.
    pub tracking_number: Option<String>,
    /// TD106-TD108 at pack level.
    pub weight: Option<Weight>,
    pub items: Vec<ShippedItem>,
}

/// One order line's goods in a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedItem {
    /// LIN01: the PO line number (PO101).
    pub line_no: String,
    /// LIN02… (at most ten).
    pub item_ids: Vec<ItemId>,
    /// SN102.
    pub quantity: Decimal,
    /// SN103 (and SN106).
    pub unit_of_measure: String,
    /// SN105: what the line ordered.
    pub ordered_quantity: Option<Decimal>,
}

impl ShipNotice {
    /// The 856's segments between ST and SE.
    pub fn to_transaction_set(&self, control_number: u32) -> Result<TransactionSet, WriteError> {
        let mut segments = vec![
            OutSegment::new("BSN")
                .el("00")
                .el(self.shipment_id.as_str())
                .el(date8(self.created_on))
                .el(self.created_at.format("%H%M").to_string())
                .el("0001"),
            OutSegment::new("DTM").el("011").el(date8(self.shipped_on)),
        ];
        if let Some(date) = self.estimated_delivery {
            segments.push(OutSegment::new("DTM").el("017").el(date8(date)));
        }
        let mut hl = Hierarchy {
            count: 0,
            quantities: Decimal::ZERO,
        };
        if self.orders.is_empty() {
            return Err(empty(format!("shipment {}", self.shipment_id), "orders"));
        }
        let shipment = hl.open(&mut segments, None, "S");
        segments.extend(self.shipment_segments());
        for order in &self.orders {
            if order.packs.is_empty() {
                return Err(empty(format!("order {}", order.po_number), "packs"));
            }
            let order_hl = hl.open(&mut segments, Some(shipment), "O");
            segments.push(
                OutSegment::new("PRF")
                    .el(order.po_number.as_str())
                    .skip(2)
                    .opt(order.po_date.map(date8)),
            );
            for (i, pack) in order.packs.iter().enumerate() {
                if pack.items.is_empty() {
                    let parent = format!("pack {} of order {}", i + 1, order.po_number);
                    return Err(empty(parent, "items"));
                }
                let pack_hl = hl.open(&mut segments, Some(order_hl), "P");
                segments.extend(pack_segments(pack));
                for item in &pack.items {
                    hl.open(&mut segments, Some(pack_hl), "I");
                    segments.extend(item_segments(item)?);
                    hl.quantities = hl.quantities.checked_add(item.quantity).ok_or(
                        WriteError::AmountOutOfRange {
                            what: "hash total of quantities (CTT02)",
                        },
                    )?;
                }
            }
        }
        segments.push(
            OutSegment::new("CTT")
                .el(hl.count.to_string())
                .el(hl.quantities.to_string()),
        );
        Ok(TransactionSet {
            set_id: "856",
            control_number,
            segments,
        })
    }

    fn shipment_segments(&self) -> Vec<OutSegment> {
        let mut segments = Vec::new();
        let packs: usize = self.orders.iter().map(|o| o.packs.len()).sum();
        if self.packaging_code.is_some() || self.gross_weight.is_some() {
            let td1 = match &self.packaging_code {
                Some(code) => OutSegment::new("TD1")
                    .el(code.as_str())
                    .el(packs.to_string()),
                None => OutSegment::new("TD1").skip(2),
            };
            segments.push(with_weight(td1, self.gross_weight));
        }
        if self.carrier_scac.is_some() || self.transport_method.is_some() {
            let td5 = match &self.carrier_scac {
                Some(scac) => OutSegment::new("TD5").skip(1).el("2").el(scac.as_str()),
                None => OutSegment::new("TD5").skip(3),
            };
            segments.push(td5.opt(self.transport_method.as_deref()));
        }
        for (qualifier, value) in [("BM", &self.bill_of_lading), ("CN", &self.tracking_number)] {
            if let Some(value) = value {
                segments.push(OutSegment::new("REF").el(qualifier).el(value.as_str()));
            }
        }
        if let Some(from) = &self.ship_from {
            segments.extend(party_loop(&Party {
                role: "SF".to_string(),
                ..from.clone()
            }));
        }
        let to = Party {
            role: "ST".to_string(),
            ..self.ship_to.clone()
        };
        segments.extend(party_loop(&to));
        segments
    }
}

/// TD1 with its weight elements (TD106-TD108) after the first two.
fn with_weight(td1: OutSegment, weight: Option<Weight>) -> OutSegment {
    match weight {
        Some(w) => td1
            .skip(3)
            .el("G")
            .el(w.value.to_string())
            .el(w.unit.code()),
        None => td1,
    }
}

fn pack_segments(pack: &Pack) -> Vec<OutSegment> {
    let mut segments = Vec::new();
    if pack.weight.is_some() {
        segments.push(with_weight(OutSegment::new("TD1").skip(2), pack.weight));
    }
    for (qualifier, value) in [("GM", &pack.sscc), ("CP", &pack.tracking_number)] {
        if let Some(value) = value {
            segments.push(OutSegment::new("MAN").el(qualifier).el(value.as_str()));
        }
    }
    segments
}

fn item_segments(item: &ShippedItem) -> Result<[OutSegment; 2], WriteError> {
    let lin = with_item_ids(
        OutSegment::new("LIN").el(item.line_no.as_str()),
        &item.item_ids,
        10,
    )?;
    let unit = item.unit_of_measure.as_str();
    let mut sn1 = OutSegment::new("SN1")
        .skip(1)
        .el(item.quantity.to_string())
        .el(unit);
    if let Some(ordered) = item.ordered_quantity {
        sn1 = sn1.skip(1).el(ordered.to_string()).el(unit);
    }
    Ok([lin, sn1])
}

fn empty(parent: String, level: &'static str) -> WriteError {
    WriteError::EmptyHierarchyLevel { parent, level }
}

/// Numbers the HL segments and counts what CTT reports.
struct Hierarchy {
    count: usize,
    quantities: Decimal,
}

impl Hierarchy {
    /// Writes the next HL under `parent`; items (`I`) have no children, the others do.
    fn open(
        &mut self,
        segments: &mut Vec<OutSegment>,
        parent: Option<usize>,
        level: &'static str,
    ) -> usize {
        self.count += 1;
        let children = if level == "I" { "0" } else { "1" };
        segments.push(
            OutSegment::new("HL")
                .el(self.count.to_string())
                .opt(parent.map(|p| p.to_string()))
                .el(level)
                .el(children),
        );
        self.count
    }
}

/// Writes an interchange holding one 856.
pub fn write_856(
    envelope: &Envelope,
    control_number: u32,
    notice: &ShipNotice,
) -> Result<String, WriteError> {
    write_interchange(envelope, &[notice.to_transaction_set(control_number)?])
}
