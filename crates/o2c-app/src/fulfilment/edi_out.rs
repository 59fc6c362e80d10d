//! EDI out for customers who order by X12 850: the 856 ship notice when a shipment leaves and
//! the 810 invoice when it is billed, each written by `o2c_edi`'s writers back to the partner
//! who sent the 850 (the parties of its interchange swapped, like the 855), stored in
//! `outbound_documents` once per shipment or invoice, and fetched by API or `o2c edi export`.
//! A document that cannot be written is stored with the writer's reason instead of blocking
//! the dispatch or the invoice.

use crate::context::Ctx;
use crate::error::{Result, not_found};
use crate::event::{self, EventType, NewEvent};
use crate::intake::Channel;
use crate::intake::edi::{self as intake_edi, Reply};
use crate::shipment;
use base64::Engine as _;
use o2c_core::id::OutboundDocumentId;
use o2c_core::money::Percent;
use o2c_core::{Currency, Money};
use o2c_edi::order::{Decimal, ItemId, Party, PurchaseOrder};
use o2c_edi::x12::asn856::{Pack, ShipNotice, ShippedItem, ShippedOrder, Weight, WeightUnit};
use o2c_edi::x12::inv810::{Invoice, InvoiceLine, InvoiceTax, PaymentTerms};
use o2c_store::{Conn, params};
use serde::Serialize;
use serde_json::json;

/// The 850 an order came from, read again from the stored interchange.
struct Source {
    po: PurchaseOrder,
    parties: intake_edi::X12Parties,
}

fn source_of(conn: &mut dyn Conn, order_id: &str) -> Result<Option<Source>> {
    let Some(r) = conn.query_opt(
        "SELECT io.po_number, d.content, d.content_encoding FROM intake_orders io
         JOIN intake_documents d ON d.id = io.document_id WHERE io.order_id = $1 AND d.channel = 'x12'",
        params![order_id],
    )?
    else {
        return Ok(None);
    };
    let bytes = if r.text(2) == "base64" {
        base64::engine::general_purpose::STANDARD
            .decode(r.text(1))
            .map_err(|e| crate::error::AppError::Internal(e.to_string()))?
    } else {
        r.text(1).into_bytes()
    };
    let Ok(parsed) = intake_edi::read(Channel::X12, &bytes) else {
        return Ok(None);
    };
    let Reply::X12 { to, orders } = parsed.reply else {
        return Ok(None);
    };
    let po_number = r.text(0);
    Ok(orders
        .into_iter()
        .find(|p| p.po_number == po_number)
        .map(|po| Source { po, parties: to }))
}

fn kg(grams: i64) -> Weight {
    Weight {
        value: Decimal::new(grams, 3),
        unit: WeightUnit::Kilograms,
    }
}

/// The PO line an order line came from: same position (intake keeps the 850's line order).
fn po_line(po: &PurchaseOrder, line_no: i64) -> (String, Vec<ItemId>, Option<Decimal>, String) {
    match usize::try_from(line_no - 1)
        .ok()
        .and_then(|i| po.lines.get(i))
    {
        Some(l) => (
            l.line_no.clone(),
            l.item_ids.iter().take(10).cloned().collect(),
            Some(l.quantity),
            l.unit_of_measure.clone().unwrap_or_else(|| "EA".into()),
        ),
        None => (line_no.to_string(), Vec::new(), None, "EA".into()),
    }
}

/// Stores the 856 for a dispatched shipment of an X12 order; nothing for other orders.
pub(crate) fn ship_notice_in_tx(conn: &mut dyn Conn, ctx: &Ctx, shipment_id: &str) -> Result<()> {
    // Most orders did not come by X12: one look at the order's intake before reading more.
    let order_id = conn
        .query_one(
            "SELECT order_id FROM shipments WHERE id = $1",
            params![shipment_id],
        )?
        .text(0);
    let Some(src) = source_of(conn, &order_id)? else {
        return Ok(());
    };
    let s = shipment::get(conn, shipment_id)?;
    let scac = conn
        .query_opt(
            "SELECT c.scac FROM shipments s JOIN carrier_services v ON v.id = s.service_id JOIN carriers c ON c.id = v.carrier_id WHERE s.id = $1",
            params![shipment_id],
        )?
        .and_then(|r| r.opt_text(0));
    let item = |line_no: i64, quantity: i64| {
        let (po_line_no, item_ids, ordered, uom) = po_line(&src.po, line_no);
        ShippedItem {
            line_no: po_line_no,
            item_ids,
            quantity: Decimal::from_integer(quantity),
            unit_of_measure: uom,
            ordered_quantity: ordered,
        }
    };
    let packs: Vec<Pack> = if s.packages.is_empty() {
        vec![Pack {
            sscc: None,
            tracking_number: None,
            weight: s.weight_g.map(kg),
            items: s
                .lines
                .iter()
                .map(|l| item(l.line_no, l.quantity))
                .collect(),
        }]
    } else {
        s.packages
            .iter()
            .map(|p| Pack {
                sscc: None,
                tracking_number: p.tracking_number.clone(),
                weight: Some(kg(p.weight_g)),
                items: p
                    .lines
                    .iter()
                    .map(|l| item(l.line_no, l.quantity))
                    .collect(),
            })
            .collect()
    };
    let ship_to = src
        .po
        .ship_to
        .clone()
        .or_else(|| src.po.buyer.clone())
        .unwrap_or_else(|| Party {
            role: "ST".into(),
            name: Some(src.po.sender_id.clone()),
            additional_names: Vec::new(),
            id: None,
            address: Default::default(),
            references: Vec::new(),
            contacts: Vec::new(),
        });
    let notice = ShipNotice {
        shipment_id: shipment_id.to_string(),
        created_on: ctx.today(),
        created_at: ctx.now.time(),
        shipped_on: ctx.today(),
        estimated_delivery: s
            .estimated_delivery_on
            .as_deref()
            .and_then(|d| d.parse().ok()),
        packaging_code: Some("CTN25".into()),
        gross_weight: s.weight_g.map(kg),
        carrier_scac: scac,
        transport_method: s.service.as_ref().map(|_| "U".to_string()),
        bill_of_lading: None,
        tracking_number: s.tracking_number.clone(),
        ship_from: None,
        ship_to,
        orders: vec![ShippedOrder {
            po_number: src.po.po_number.clone(),
            po_date: src.po.po_date,
            packs,
        }],
    };
    let control = intake_edi::next_control_number(conn)?;
    let envelope = intake_edi::reply_envelope(ctx, &src.parties, control);
    let written = o2c_edi::x12::asn856::write_856(&envelope, 1, &notice).map_err(|e| e.to_string());
    store(
        conn,
        ctx,
        "x12-856",
        &format!("x12-856:{shipment_id}"),
        &s.customer_id,
        &s.order_id,
        Some(shipment_id),
        None,
        control,
        written,
    )
}

/// Stores an 810 for each X12 order an issued invoice bills; nothing for other invoices.
pub(crate) fn invoice_in_tx(conn: &mut dyn Conn, ctx: &Ctx, invoice_id: &str) -> Result<()> {
    let orders: Vec<String> = conn
        .query(
            "SELECT DISTINCT l.order_id FROM invoice_lines l JOIN intake_orders io ON io.order_id = l.order_id
             WHERE l.invoice_id = $1 ORDER BY l.order_id",
            params![invoice_id],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect();
    for order_id in orders {
        let Some(src) = source_of(conn, &order_id)? else {
            continue;
        };
        let h = conn
            .query_opt(
                "SELECT i.number, i.issued_on, i.currency, i.customer_id, i.kind, c.payment_terms_days, i.discount_bp,
                        (SELECT MIN(s.dispatched_at) FROM shipments s WHERE s.invoice_id = i.id)
                 FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE i.id = $1",
                params![invoice_id],
            )?
            .ok_or_else(|| not_found("invoice", invoice_id))?;
        if h.text(4) != "invoice" {
            continue;
        }
        let currency = Currency::parse(&h.text(2))?;
        let lines = conn.query(
            "SELECT order_line_no, quantity, net_minor, description, tax_rate_bp FROM invoice_lines
             WHERE invoice_id = $1 AND order_id = $2 ORDER BY line_no",
            params![invoice_id, order_id.as_str()],
        )?;
        let mut out_lines = Vec::new();
        let mut net = 0i64;
        let mut tax_by_rate: std::collections::BTreeMap<i64, i64> = Default::default();
        for l in &lines {
            let (po_line_no, item_ids, _, uom) = po_line(&src.po, l.int(0));
            let qty = l.int(1).max(1);
            // The unit price the line bills, to four places so quantity × price gives the line net.
            let unit = Decimal::new(l.int(2) * 10_000 / qty, 4 + u32::from(currency.exponent()));
            out_lines.push(InvoiceLine {
                line_no: po_line_no,
                quantity: Decimal::from_integer(l.int(1)),
                unit_of_measure: uom,
                unit_price: unit,
                item_ids,
                description: Some(l.text(3)),
            });
            net += unit
                .checked_mul(Decimal::from_integer(l.int(1)))
                .and_then(|d| d.round_to_minor(currency).ok())
                .map_or(l.int(2), |m| m.minor());
            *tax_by_rate.entry(l.int(4)).or_default() += l.int(2);
        }
        // Tax per rate on this order's lines, rounded once per rate (as the invoice does per category).
        let mut taxes: Vec<InvoiceTax> = Vec::new();
        for (rate, base) in tax_by_rate.iter().filter(|(rate, _)| **rate > 0) {
            let tax = o2c_core::money::round_half_away_from_zero(
                i128::from(*base) * i128::from(*rate),
                10_000,
            )?;
            taxes.push(InvoiceTax {
                tax_type: "VA".into(),
                amount: Money::new(tax, currency),
                percent: Some(Percent::from_basis_points(*rate)),
            });
        }
        let tax_total: i64 = taxes.iter().map(|t| t.amount.minor()).sum();
        let invoice = Invoice {
            invoice_number: h.text(0),
            invoice_date: h.text(1).parse().unwrap_or_else(|_| ctx.today()),
            po_number: Some(src.po.po_number.clone()),
            po_date: src.po.po_date,
            currency,
            references: Vec::new(),
            parties: src.po.bill_to.clone().into_iter().collect(),
            terms: Some(PaymentTerms {
                net_days: u32::try_from(h.int(5)).unwrap_or(30),
                discount: None,
                description: None,
            }),
            shipped_on: h
                .opt_text(7)
                .and_then(|d| d.get(..10).and_then(|d| d.parse().ok())),
            lines: out_lines,
            charges: Vec::new(),
            taxes,
            total: Money::new(net + tax_total, currency),
        };
        let control = intake_edi::next_control_number(conn)?;
        let envelope = intake_edi::reply_envelope(ctx, &src.parties, control);
        let written =
            o2c_edi::x12::inv810::write_810(&envelope, 1, &invoice).map_err(|e| e.to_string());
        let key = format!("x12-810:{invoice_id}:{order_id}");
        store(
            conn,
            ctx,
            "x12-810",
            &key,
            &h.text(3),
            &order_id,
            None,
            Some(invoice_id),
            control,
            written,
        )?;
    }
    Ok(())
}

// One column each; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn store(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    kind: &str,
    key: &str,
    customer_id: &str,
    order_id: &str,
    shipment_id: Option<&str>,
    invoice_id: Option<&str>,
    control: u32,
    written: std::result::Result<String, String>,
) -> Result<()> {
    let id = OutboundDocumentId::generate(ctx.ids.as_ref());
    let (content, error) = match written {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e)),
    };
    let n = conn.execute(
        "INSERT INTO outbound_documents (id, document_key, kind, customer_id, order_id, shipment_id, invoice_id, control_number, content, error, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (document_key) DO NOTHING",
        params![id.as_str(), key, kind, customer_id, order_id, shipment_id, invoice_id, i64::from(control), content.as_deref(), error.as_deref(), ctx.timestamp()],
    )?;
    if n == 1 {
        event::emit(
            conn,
            ctx,
            NewEvent {
                kind: EventType::OutboundDocumentCreated,
                aggregate_type: "outbound_document",
                aggregate_id: id.as_str(),
                order_id: Some(order_id),
                customer_id: Some(customer_id),
                data: json!({"kind": kind, "shipment_id": shipment_id, "invoice_id": invoice_id, "error": error}),
            },
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboundDocument {
    pub id: String,
    pub kind: String,
    pub customer_id: String,
    pub order_id: String,
    pub shipment_id: Option<String>,
    pub invoice_id: Option<String>,
    pub control_number: Option<i64>,
    pub content: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, kind, customer_id, order_id, shipment_id, invoice_id, control_number, content, error, created_at";

fn row(r: &o2c_store::Row) -> OutboundDocument {
    OutboundDocument {
        id: r.text(0),
        kind: r.text(1),
        customer_id: r.text(2),
        order_id: r.text(3),
        shipment_id: r.opt_text(4),
        invoice_id: r.opt_text(5),
        control_number: r.opt_int(6),
        content: r.opt_text(7),
        error: r.opt_text(8),
        created_at: r.text(9),
    }
}

pub fn get(conn: &mut dyn Conn, id: &str) -> Result<OutboundDocument> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM outbound_documents WHERE id = $1"),
        params![id],
    )?
    .map(|r| row(&r))
    .ok_or_else(|| not_found("outbound document", id))
}

/// The documents sent for an order (or all, newest first).
pub fn list(
    conn: &mut dyn Conn,
    order_id: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboundDocument>> {
    Ok(conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM outbound_documents WHERE (CAST($1 AS TEXT) IS NULL OR order_id = $1)
                 ORDER BY created_at DESC, id LIMIT $2"
            ),
            params![order_id, limit],
        )?
        .iter()
        .map(row)
        .collect())
}
