//! Shipping: carriers and their services with rate tables by zone and weight band; the service
//! for each shipment (the cheapest that meets the promised date, chosen at dispatch unless a
//! person names one); tracking numbers; delivery confirmation by a person or the carrier's
//! signed webhook (`delivery`); shipment e-mails to the customer (`delivery::notify_in_tx`).

pub mod delivery;

use crate::context::Ctx;
use crate::error::{AppError, Result};
use crate::event::{self, EventType, NewEvent};
use crate::inventory::warehouse_location;
use o2c_core::id::{CarrierId, CarrierServiceId};
use o2c_core::inventory::Location;
use o2c_core::shipping::{self as rules, Quote};
use o2c_core::{Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierRequest {
    pub code: String,
    pub name: String,
    /// The carrier's SCAC, written into X12 856 ship notices (TD503).
    #[serde(default)]
    pub scac: Option<String>,
    pub services: Vec<ServiceRequest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    pub code: String,
    pub name: String,
    /// Business days from hand-over to delivery.
    pub transit_days: i64,
    pub currency: String,
    pub rates: Vec<RateRequest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// 1 local (same postal region), 2 national, 3 international.
    pub zone: i64,
    /// The band holds parcels up to this weight.
    pub max_weight_g: i64,
    pub price: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Carrier {
    pub id: String,
    pub code: String,
    pub name: String,
    pub scac: Option<String>,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: String,
    /// `CARRIER/SERVICE`, how a person names it when overriding the choice.
    pub code: String,
    pub name: String,
    pub transit_days: i64,
    pub rates: Vec<Rate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub zone: i64,
    pub max_weight_g: i64,
    pub price: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedCarrier {
    #[serde(flatten)]
    pub carrier: Carrier,
    /// Signs the carrier's tracking webhooks (HMAC-SHA256 over `timestamp.body`). Shown once.
    pub webhook_secret: String,
}

fn code(field: &str, s: &str) -> Result<String> {
    let c = s.trim().to_ascii_uppercase();
    if c.is_empty() || c.len() > 20 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(
            DomainError::invalid(field, "expected 1 to 20 letters, digits or dashes").into(),
        );
    }
    Ok(c)
}

pub fn create_carrier_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    r: &CarrierRequest,
) -> Result<CreatedCarrier> {
    let carrier_code = code("code", &r.code)?;
    if r.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty").into());
    }
    if conn
        .query_opt(
            "SELECT id FROM carriers WHERE code = $1",
            params![carrier_code.as_str()],
        )?
        .is_some()
    {
        return Err(DomainError::invalid(
            "code",
            format!("a carrier `{carrier_code}` already exists"),
        )
        .into());
    }
    if r.services.is_empty() {
        return Err(DomainError::invalid("services", "expected at least one service").into());
    }
    let scac = match r.scac.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(s.to_ascii_uppercase())
        }
        Some(_) => return Err(DomainError::invalid("scac", "expected 2 to 4 letters").into()),
    };
    let id = CarrierId::generate(ctx.ids.as_ref());
    let secret = format!("whsec_{}{}", ctx.ids.next_raw(), ctx.ids.next_raw());
    conn.execute(
        "INSERT INTO carriers (id, code, name, scac, webhook_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![id.as_str(), carrier_code.as_str(), r.name.trim(), scac.as_deref(), secret.as_str(), ctx.timestamp()],
    )?;
    let mut seen = Vec::new();
    for (i, s) in r.services.iter().enumerate() {
        let at = |f: &str| format!("services[{i}].{f}");
        let service_code = code(&at("code"), &s.code)?;
        if seen.contains(&service_code) {
            return Err(DomainError::invalid(
                at("code"),
                format!("`{service_code}` is named twice"),
            )
            .into());
        }
        seen.push(service_code.clone());
        if !(0..=60).contains(&s.transit_days) {
            return Err(
                DomainError::invalid(at("transit_days"), "expected 0 to 60 business days").into(),
            );
        }
        let currency = Currency::parse(&s.currency).map_err(DomainError::money(at("currency")))?;
        if s.rates.is_empty() {
            return Err(DomainError::invalid(at("rates"), "expected at least one rate").into());
        }
        let sid = CarrierServiceId::generate(ctx.ids.as_ref());
        conn.execute(
            "INSERT INTO carrier_services (id, carrier_id, code, name, transit_days, currency) VALUES ($1, $2, $3, $4, $5, $6)",
            params![sid.as_str(), id.as_str(), service_code.as_str(), s.name.trim(), s.transit_days, currency.code()],
        )?;
        let mut bands = Vec::new();
        for (j, rate) in s.rates.iter().enumerate() {
            let at = |f: &str| format!("services[{i}].rates[{j}].{f}");
            if !(1..=3).contains(&rate.zone) {
                return Err(DomainError::invalid(
                    at("zone"),
                    "expected 1 (local), 2 (national) or 3 (international)",
                )
                .into());
            }
            if rate.max_weight_g <= 0 {
                return Err(
                    DomainError::invalid(at("max_weight_g"), "must be greater than zero").into(),
                );
            }
            if bands.contains(&(rate.zone, rate.max_weight_g)) {
                return Err(DomainError::invalid(
                    at("max_weight_g"),
                    "this zone already has a band up to that weight",
                )
                .into());
            }
            bands.push((rate.zone, rate.max_weight_g));
            let price =
                Money::parse(&rate.price, currency).map_err(DomainError::money(at("price")))?;
            if price.is_negative() {
                return Err(DomainError::invalid(at("price"), "must not be negative").into());
            }
            conn.execute(
                "INSERT INTO carrier_rates (service_id, zone, max_weight_g, price_minor) VALUES ($1, $2, $3, $4)",
                params![sid.as_str(), rate.zone, rate.max_weight_g, price.minor()],
            )?;
        }
    }
    event::emit(
        conn,
        ctx,
        NewEvent {
            kind: EventType::CarrierChanged,
            aggregate_type: "carrier",
            aggregate_id: id.as_str(),
            order_id: None,
            customer_id: None,
            data: json!({"code": carrier_code, "services": seen}),
        },
    )?;
    let carrier = list(conn)?
        .into_iter()
        .find(|c| c.id == id.as_str())
        .ok_or_else(|| AppError::Internal("carrier just stored is missing".into()))?;
    Ok(CreatedCarrier {
        carrier,
        webhook_secret: secret,
    })
}

pub fn list(conn: &mut dyn Conn) -> Result<Vec<Carrier>> {
    let rows = conn.query(
        "SELECT c.id, c.code, c.name, c.scac, s.id, s.code, s.name, s.transit_days, s.currency, r.zone, r.max_weight_g, r.price_minor
         FROM carriers c JOIN carrier_services s ON s.carrier_id = c.id JOIN carrier_rates r ON r.service_id = s.id
         ORDER BY c.code, s.code, r.zone, r.max_weight_g",
        params![],
    )?;
    let mut out: Vec<Carrier> = Vec::new();
    for r in &rows {
        if out.last().is_none_or(|c| c.id != r.text(0)) {
            out.push(Carrier {
                id: r.text(0),
                code: r.text(1),
                name: r.text(2),
                scac: r.opt_text(3),
                services: Vec::new(),
            });
        }
        let carrier = out.last_mut().expect("pushed");
        if carrier.services.last().is_none_or(|s| s.id != r.text(4)) {
            carrier.services.push(Service {
                id: r.text(4),
                code: format!("{}/{}", r.text(1), r.text(5)),
                name: r.text(6),
                transit_days: r.int(7),
                rates: Vec::new(),
            });
        }
        let currency = Currency::parse(&r.text(8))?;
        carrier
            .services
            .last_mut()
            .expect("pushed")
            .rates
            .push(Rate {
                zone: r.int(9),
                max_weight_g: r.int(10),
                price: Money::new(r.int(11), currency),
            });
    }
    Ok(out)
}

/// One service's offer for a shipment, as `GET /shipments/{id}/rates` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub service_id: String,
    pub service: String,
    pub carrier_code: String,
    pub carrier_scac: Option<String>,
    pub price: Money,
    pub transit_days: i64,
    pub estimated_delivery_on: String,
    pub on_time: bool,
    pub chosen: bool,
}

/// Everything needed to choose: the shipment's zone, weight, ship date and promised date.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    pub zone: i64,
    pub weight_g: i64,
    pub promised_on: Option<String>,
    pub offers: Vec<Offer>,
}

/// The shipment's weight: its packages if packed, else its goods by unit weight.
pub(crate) fn weight_of(conn: &mut dyn Conn, shipment_id: &str) -> Result<i64> {
    let r = conn.query_one(
        "SELECT (SELECT CAST(SUM(weight_g) AS BIGINT) FROM packages WHERE shipment_id = $1),
                (SELECT CAST(COALESCE(SUM(r.quantity * p.weight_g), 0) AS BIGINT) FROM reservations r JOIN products p ON p.id = r.product_id
                 WHERE r.shipment_id = $1 AND r.status IN ('open', 'shipped'))",
        params![shipment_id],
    )?;
    Ok(r.opt_int(0).unwrap_or_else(|| r.int(1)))
}

/// The offers for a shipment, each priced for its zone and weight; the chosen one marked.
/// Empty when no carrier is set up.
pub fn options(conn: &mut dyn Conn, ctx: &Ctx, shipment_id: &str) -> Result<Options> {
    let r = conn
        .query_opt(
            "SELECT w.country, w.postal_code, o.ship_to, o.requested_delivery_on FROM shipments s
             JOIN warehouses w ON w.id = s.warehouse_id JOIN orders o ON o.id = s.order_id WHERE s.id = $1",
            params![shipment_id],
        )?
        .ok_or_else(|| crate::error::not_found("shipment", shipment_id))?;
    let to: o2c_core::customer::Address = serde_json::from_str(&r.text(2))?;
    let to = Location {
        country: to.country,
        postal_code: to.postal_code,
    };
    // A warehouse without a location ships nationally as far as rates go.
    let zone = warehouse_location(r.opt_text(0), r.opt_text(1))
        .map_or(2, |from| o2c_core::inventory::zone(&from, &to));
    let weight_g = weight_of(conn, shipment_id)?;
    let promised = r.opt_text(3);
    let promised_date = promised.as_deref().and_then(|d| d.parse().ok());
    let rows = conn.query(
        "SELECT s.id, c.code, s.code, c.scac, s.transit_days, s.currency, r.zone, r.max_weight_g, r.price_minor
         FROM carrier_services s JOIN carriers c ON c.id = s.carrier_id JOIN carrier_rates r ON r.service_id = s.id
         WHERE r.zone = $1 ORDER BY c.code, s.code",
        params![zone],
    )?;
    let mut offers: Vec<Offer> = Vec::new();
    let mut bands: Vec<(String, Vec<(i64, i64, i64)>)> = Vec::new();
    for row in &rows {
        if bands.last().is_none_or(|b| b.0 != row.text(0)) {
            bands.push((row.text(0), Vec::new()));
            offers.push(Offer {
                service_id: row.text(0),
                service: format!("{}/{}", row.text(1), row.text(2)),
                carrier_code: row.text(1),
                carrier_scac: row.opt_text(3),
                price: Money::new(0, Currency::parse(&row.text(5))?),
                transit_days: row.int(4),
                estimated_delivery_on: String::new(),
                on_time: true,
                chosen: false,
            });
        }
        bands
            .last_mut()
            .expect("pushed")
            .1
            .push((row.int(6), row.int(7), row.int(8)));
    }
    let today = ctx.today();
    let mut priced = Vec::new();
    for (offer, (_, b)) in offers.into_iter().zip(bands) {
        if let Some(p) = rules::price_for(&b, zone, weight_g) {
            let arrives = rules::arrival(today, offer.transit_days);
            priced.push(Offer {
                price: Money::new(p, offer.price.currency()),
                estimated_delivery_on: arrives.to_string(),
                on_time: promised_date.is_none_or(|d| arrives <= d),
                ..offer
            });
        }
    }
    let quotes: Vec<Quote> = priced
        .iter()
        .map(|o| Quote {
            service: o.service.clone(),
            transit_days: o.transit_days,
            price_minor: o.price.minor(),
        })
        .collect();
    if let Some((i, _)) = rules::choose(&quotes, today, promised_date) {
        priced[i].chosen = true;
    }
    Ok(Options {
        zone,
        weight_g,
        promised_on: promised,
        offers: priced,
    })
}

/// What dispatch records about the service.
pub(crate) struct Assigned {
    pub offer: Offer,
    pub chosen_by: &'static str,
}

/// The service a shipment leaves with: the one named (`CARRIER/SERVICE`), else the automatic
/// choice. `None` when no carrier is set up at all (shipping stays outside o2c).
pub(crate) fn assign(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    shipment_id: &str,
    named: Option<&str>,
) -> Result<Option<Assigned>> {
    let any = conn
        .query_opt("SELECT id FROM carrier_services LIMIT 1", params![])?
        .is_some();
    if !any && named.is_none() {
        return Ok(None);
    }
    let opts = options(conn, ctx, shipment_id)?;
    let weight = format!("{:.1} kg", opts.weight_g as f64 / 1000.0);
    match named.map(|n| n.trim().to_ascii_uppercase()) {
        Some(name) => {
            if !any || !service_exists(conn, &name)? {
                return Err(DomainError::UnknownCarrierService(format!(
                    "service: no carrier service `{name}`; expected CARRIER/SERVICE as GET /api/v1/carriers lists them"
                ))
                .into());
            }
            let offer = opts.offers.into_iter().find(|o| o.service == name).ok_or_else(|| {
                DomainError::NoShippingService(format!(
                    "{name} has no rate for zone {} and {weight}: add a band or choose another service",
                    opts.zone
                ))
            })?;
            Ok(Some(Assigned {
                offer,
                chosen_by: "person",
            }))
        }
        None => {
            let offer = opts.offers.into_iter().find(|o| o.chosen).ok_or_else(|| {
                DomainError::NoShippingService(format!(
                    "no carrier service has a rate for zone {} and {weight}: add a band, or dispatch naming a service",
                    opts.zone
                ))
            })?;
            Ok(Some(Assigned {
                offer,
                chosen_by: "rule",
            }))
        }
    }
}

fn service_exists(conn: &mut dyn Conn, name: &str) -> Result<bool> {
    let Some((carrier, service)) = name.split_once('/') else {
        return Ok(false);
    };
    Ok(conn
        .query_opt(
            "SELECT s.id FROM carrier_services s JOIN carriers c ON c.id = s.carrier_id WHERE c.code = $1 AND s.code = $2",
            params![carrier, service],
        )?
        .is_some())
}

/// A tracking number when the carrier's label did not bring one: the carrier's code and the
/// shipment's number, so it is unique and says whose it is.
pub(crate) fn tracking_for(carrier_code: &str, shipment_id: &str) -> String {
    let tail: String = shipment_id
        .trim_start_matches("shp_")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("{carrier_code}{tail}")
}
