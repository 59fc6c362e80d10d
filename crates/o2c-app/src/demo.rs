//! `o2c demo`: fills a fresh database with a small, realistic company and runs the whole
//! order-to-cash cycle through the real use-cases, so every step writes its events and journal
//! entries exactly as in production. The demo acts as the people of the company: the web shop,
//! the EDI gateway and the sales desk place orders, a credit analyst works the hold queue, the
//! customer service cancels a few orders, the warehouse dispatches and receives goods, and the
//! bank feed reports payments. Everything else is the engine's automation.
//!
//! The data comes from a seeded generator: the same seed gives the same company.

use crate::bench::{StageProgress, dispatch, ids, pay, place, write_each};
use crate::credit::{self, ReviewDecision};
use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::inventory::{self, ProductRequest, StockLevel, StockReceiptRequest, WarehouseRequest};
use crate::ledger::{self, TrialBalance};
use crate::order::{self, OrderLineRequest, OrderRequest};
use crate::payment::PaymentRequest;
use crate::{App, Ctx, Result};
use o2c_core::customer::Address;
use o2c_core::money::decimal_string;
use o2c_core::order::OrderStatus;
use o2c_core::{Actor, Currency, DomainError, Money};
use o2c_store::{Conn, params};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub customers: usize,
    pub products: usize,
    pub orders: usize,
    pub seed: u64,
    pub progress: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            customers: 300,
            products: 2000,
            orders: 1000,
            seed: 42,
            progress: false,
        }
    }
}

const IN_FLIGHT: usize = 256;
const STAGES: [&str; 8] = [
    "master data",
    "order intake",
    "credit, stock, shipping",
    "credit review",
    "dispatch",
    "stock receipts",
    "payments",
    "cash application",
];

/// Builds the company and runs the cycle; refuses a database that already holds customers.
pub async fn run(app: &App, opts: &DemoOptions) -> Result<DemoSummary> {
    let started = Instant::now();
    ensure_fresh(app, opts).await?;
    let mut rng = Rng(opts.seed);
    let progress = StageProgress::new(opts.progress, opts.orders, &STAGES);
    progress.stage(0);
    let world = master_data(app, &mut rng, opts).await?;

    progress.stage(1);
    let orders = (0..opts.orders)
        .map(|k| order_request(&mut rng, &world, k))
        .collect();
    act(app, orders, place, |d, t| progress.advance(1, d, t)).await?;
    progress.stage(2);
    app.settle().await?;

    progress.stage(3);
    let cancelled = cancel_some(app, &mut rng, opts.orders).await?;
    review_holds(app, &mut rng).await?;
    app.settle().await?;

    progress.stage(4);
    dispatch_planned(app, &progress, 4).await?;
    app.settle().await?;

    progress.stage(5);
    receive_backordered(app, &mut rng).await?;
    app.settle().await?;
    dispatch_planned(app, &progress, 5).await?;
    app.settle().await?;

    progress.stage(6);
    pay_invoices(app, &mut rng, &progress).await?;
    progress.stage(7);
    app.settle().await?;
    progress.finish();
    summarize(app, opts.seed, cancelled, started.elapsed().as_secs_f64()).await
}

async fn ensure_fresh(app: &App, opts: &DemoOptions) -> Result<()> {
    if opts.orders > 0 && (opts.customers == 0 || opts.products == 0) {
        return Err(DomainError::invalid(
            "customers",
            "orders need at least one customer and one product",
        )
        .into());
    }
    let customers = app
        .read(|c| {
            Ok(c.query_one("SELECT COUNT(*) FROM customers", params![])?
                .int(0))
        })
        .await?;
    if customers > 0 {
        let reason =
            format!("already holds data ({customers} customers); point o2c demo at a new database");
        return Err(DomainError::invalid("database", reason).into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The people of the company, each through the real use-cases.

fn user(name: &str) -> Actor {
    Actor::User(name.into())
}

/// Runs each piece of work in its own concurrent write (the store commits them in groups).
async fn act<I: Send + Sync + 'static>(
    app: &App,
    work: Vec<(Actor, I)>,
    f: fn(&mut dyn Conn, &Ctx, &I) -> Result<()>,
    on_done: impl Fn(usize, usize),
) -> Result<()> {
    write_each(app, work, IN_FLIGHT, f, on_done).await.map(drop)
}

fn cancel(conn: &mut dyn Conn, ctx: &Ctx, (id, why): &(String, &str)) -> Result<()> {
    order::cancel_in_tx(conn, ctx, id, Some(why)).map(drop)
}

fn review(conn: &mut dyn Conn, ctx: &Ctx, item: &(String, ReviewDecision, &str)) -> Result<()> {
    credit::review_in_tx(conn, ctx, &item.0, item.1, Some(item.2)).map(drop)
}

fn receive(conn: &mut dyn Conn, ctx: &Ctx, r: &StockReceiptRequest) -> Result<()> {
    inventory::receive_stock_in_tx(conn, ctx, r).map(drop)
}

const CANCEL_REASONS: [&str; 3] = [
    "customer withdrew the order",
    "ordered twice by mistake",
    "goods found elsewhere",
];
const RELEASE_COMMENTS: [&str; 3] = [
    "payment run confirmed by phone",
    "secured by bank guarantee",
    "long-standing customer",
];
const REJECT_COMMENTS: [&str; 2] = [
    "account in collections; prepayment required",
    "far above the limit; ask for prepayment",
];

/// Customer service cancels a handful of orders that have not left the warehouse.
async fn cancel_some(app: &App, rng: &mut Rng, orders: usize) -> Result<usize> {
    let sql = "SELECT id FROM orders WHERE status IN ('credit_hold', 'approved', 'backordered', 'reserved') ORDER BY id";
    let mut candidates = app.read(move |c| ids(c, sql)).await?;
    let wanted = (orders / 100).clamp(1, 25).min(candidates.len());
    let mut chosen = Vec::with_capacity(wanted);
    for _ in 0..wanted {
        let id = candidates.swap_remove(rng.below(candidates.len()));
        chosen.push((user("customer.service"), (id, *rng.pick(&CANCEL_REASONS))));
    }
    act(app, chosen, cancel, |_, _| ()).await?;
    Ok(wanted)
}

/// The credit analyst works the hold queue: releases most, rejects about one in seven.
async fn review_holds(app: &App, rng: &mut Rng) -> Result<()> {
    let holds = app.read(|c| credit::holds(c, i64::MAX)).await?;
    let mut reviews = Vec::with_capacity(holds.len());
    for h in holds {
        let item = match rng.percent(14) {
            true => (
                h.order_id,
                ReviewDecision::Reject,
                *rng.pick(&REJECT_COMMENTS),
            ),
            false => (
                h.order_id,
                ReviewDecision::Approve,
                *rng.pick(&RELEASE_COMMENTS),
            ),
        };
        reviews.push((user("credit.analyst"), item));
    }
    act(app, reviews, review, |_, _| ()).await
}

/// The warehouse dispatches every planned shipment.
async fn dispatch_planned(app: &App, progress: &StageProgress, stage: usize) -> Result<()> {
    // One query for the ids: `shipment::list` loads every shipment whole, one by one.
    let sql = "SELECT id FROM shipments WHERE status = 'planned' ORDER BY created_at, id";
    let planned = app.read(move |c| ids(c, sql)).await?;
    let work = planned
        .into_iter()
        .map(|id| (user("warehouse"), id))
        .collect();
    act(app, work, dispatch, |d, t| progress.advance(stage, d, t)).await
}

/// Goods arrive for most backordered products (the rest stay with a late supplier).
async fn receive_backordered(app: &App, rng: &mut Rng) -> Result<()> {
    let needs = app
        .read(|c| {
            let rows = c.query(
                "SELECT p.sku, CAST(SUM(l.quantity - l.allocated) AS BIGINT) FROM backorders b
                 JOIN order_lines l ON l.order_id = b.order_id AND l.line_no = b.line_no
                 JOIN products p ON p.id = b.product_id GROUP BY p.sku ORDER BY p.sku",
                params![],
            )?;
            Ok(rows
                .iter()
                .map(|r| (r.text(0), r.int(1)))
                .collect::<Vec<_>>())
        })
        .await?;
    let mut receipts = Vec::new();
    for (sku, need) in needs {
        if !rng.percent(85) {
            continue;
        }
        let reference = Some(format!("GRN-{}", 70_000 + rng.below(30_000)));
        let quantity = need + rng.between(20, 120);
        let warehouse = "MAIN".into();
        receipts.push((
            user("warehouse"),
            StockReceiptRequest {
                sku,
                warehouse,
                quantity,
                reference,
            },
        ));
    }
    act(app, receipts, receive, |_, _| ()).await
}

/// The bank feed reports what customers paid: most in full (some naming the invoice, some not),
/// some in part, a few too much, and some not yet.
async fn pay_invoices(app: &App, rng: &mut Rng, progress: &StageProgress) -> Result<()> {
    let sql =
        "SELECT number, customer_id, open_minor FROM invoices WHERE open_minor > 0 ORDER BY number";
    let open = app.read(move |c| Ok(c.query(sql, params![])?)).await?;
    let mut payments = Vec::new();
    for r in open {
        let (number, open_minor) = (r.text(0), r.int(2));
        let (amount, named) = match rng.below(100) {
            0..62 => (open_minor, rng.percent(50)),
            62..74 => ((open_minor * rng.between(30, 90) / 100).max(1), true),
            74..78 => (open_minor + rng.between(1, 50) * 100, true),
            _ => continue,
        };
        let method = *rng.pick(&[
            "bank_transfer",
            "bank_transfer",
            "bank_transfer",
            "direct_debit",
            "card",
        ]);
        let reference = match named {
            true => format!("Invoice {number}"),
            false => format!("Payment run {}", rng.between(100, 999)),
        };
        let request = PaymentRequest {
            customer_id: r.text(1),
            amount: decimal_string(amount, 2),
            currency: "EUR".into(),
            method: Some(method.into()),
            reference: Some(reference),
            received_on: None,
            invoice_ids: if named { vec![number] } else { Vec::new() },
        };
        payments.push((Actor::ApiKey("bank-feed".into()), request));
    }
    act(app, payments, pay, |d, t| progress.advance(6, d, t)).await
}

// ---------------------------------------------------------------------------------------------
// The company: two warehouses, a catalogue and customers in seven countries.

struct World {
    customers: Vec<String>,
    /// Customers with a low credit limit, whose orders tend to be held.
    risky: Vec<usize>,
    skus: Vec<String>,
}

async fn master_data(app: &App, rng: &mut Rng, opts: &DemoOptions) -> Result<World> {
    app.write(user("admin"), |c, ctx| {
        for (code, name, priority) in [
            ("MAIN", "Main warehouse Duisburg", 1),
            ("NORTH", "North warehouse Hamburg", 2),
        ] {
            let r = WarehouseRequest {
                code: code.into(),
                name: name.into(),
                priority: Some(priority),
            };
            inventory::create_warehouse_in_tx(c, ctx, &r)?;
        }
        Ok(())
    })
    .await?;
    let families = table(CATALOGUE);
    let products: Vec<_> = (0..opts.products)
        .map(|k| product_request(rng, &families, k))
        .collect();
    let skus = products.iter().map(|p| p.sku.clone()).collect();
    for chunk in products.chunks(200).map(<[_]>::to_vec) {
        app.write(user("admin"), move |c, ctx| {
            chunk
                .iter()
                .try_for_each(|p| inventory::create_product_in_tx(c, ctx, p).map(drop))
        })
        .await?;
    }
    // About one customer in sixteen is new or shaky and has a low limit.
    let risky: Vec<usize> = (0..opts.customers).filter(|i| i % 16 == 3).collect();
    let (countries, mut names) = (table(COUNTRIES), HashSet::new());
    let requests = (0..opts.customers)
        .map(|i| NewCustomer::parse(customer_request(rng, &countries, &mut names, i % 16 == 3)))
        .collect::<Result<Vec<_>>>()?;
    let mut customers = Vec::with_capacity(opts.customers);
    for chunk in requests.chunks(100).map(<[_]>::to_vec) {
        let created = app
            .write(user("admin"), move |c, ctx| {
                chunk
                    .iter()
                    .map(|n| customer::create_in_tx(c, ctx, n).map(|x| x.id))
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        customers.extend(created);
    }
    Ok(World {
        customers,
        risky,
        skus,
    })
}

fn order_request(rng: &mut Rng, w: &World, k: usize) -> (Actor, OrderRequest) {
    // Every 25th order comes from a low-limit customer, so the hold queue is never empty.
    let customer = match w.risky.len() {
        n if n > 0 && k.is_multiple_of(25) => w.risky[(k / 25) % n],
        _ => rng.below(w.customers.len()),
    };
    let count = rng
        .weighted(&[(1, 25), (2, 30), (3, 25), (4, 12), (5, 8)])
        .min(w.skus.len());
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count {
        let p = rng.below(w.skus.len());
        if !picked.contains(&p) {
            picked.push(p);
        }
    }
    let mut lines = Vec::with_capacity(count);
    for p in picked {
        let quantity = if rng.percent(60) {
            rng.between(1, 5)
        } else {
            rng.between(6, 20)
        };
        lines.push(OrderLineRequest {
            sku: w.skus[p].clone(),
            quantity,
        });
    }
    let actor = match rng.below(10) {
        0..5 => Actor::ApiKey("webshop".into()),
        5..8 => Actor::ApiKey("edi-gateway".into()),
        _ => user("sales.desk"),
    };
    let customer_reference = rng
        .percent(60)
        .then(|| format!("PO-{}", 4_500_000 + rng.below(99_999)));
    let customer_id = w.customers[customer].clone();
    (
        actor,
        OrderRequest {
            customer_id,
            currency: None,
            customer_reference,
            ship_to: None,
            lines,
        },
    )
}

/// The catalogue, one product family a line: SKU prefix # tax category # share of the catalogue
/// in percent # items as `name=price in cents` # name variants.
const CATALOGUE: &str = "\
OFF # standard # 15 # Copy paper A4 80 g, 500 sheets=549|Ballpoint pens blue, box of 50=1290|Lever arch file 80 mm=389|Sticky notes 76x76 mm, 12 pads=690|Heavy-duty stapler=2490|Desk organiser=1850|Whiteboard markers, set of 4=595|Laminating pouches A4, 100 pcs=1190|Toner cartridge black=6490|Archive box A4=249 # |, recycled|, premium
TLS # standard # 20 # Cordless drill 18 V=12900|Torque wrench 1/2\"=8990|Screwdriver set, 12 pcs=2490|Spirit level 600 mm=1990|Socket set 1/4\", 46 pcs=4590|Angle grinder 125 mm=7990|Tape measure 5 m=890|Claw hammer 500 g=1490|Utility knife=690|Tool case=3490 # |, professional|, compact
ELE # standard # 18 # LED panel 60x60 cm, 36 W=4490|Extension cord 5 m=1290|Installation cable NYM-J 3x1.5 mm², 50 m=5990|Power strip, 6 sockets=1690|LED tube T8 150 cm=890|Cable ties 200 mm, 100 pcs=390|Junction box IP65=290|Circuit breaker B16=490|Motion sensor 180°=2290|LED work light 30 W=3990 # |, white|, black
PKG # standard # 15 # Shipping boxes 400x300x200 mm, 25 pcs=2190|Stretch film 500 mm=1490|Packing tape brown 50 mm, 6 rolls=790|Bubble wrap 1 x 50 m=2990|Pallet labels, roll of 500=1290|Void fill paper 450 m=3490|Mailing bags C4, 100 pcs=1390|Strapping band PP 12 mm=2590 # |, reinforced|, recycled
SAF # standard # 14 # Nitrile gloves, 100 pcs=1290|Hard hat EN 397=990|Safety glasses, clear=490|Hi-vis vest EN ISO 20471=390|Ear defenders SNR 30=1590|Safety boots S3=6990|First aid kit DIN 13157=3490|FFP2 masks, 20 pcs=990 # |, size M|, size L|, size XL
FOD # reduced # 9 # Espresso beans, 1 kg=1690|Mineral water 0.5 l, 24 bottles=790|Green tea, 100 bags=590|Biscuit assortment, 2 kg=1490|Sugar sticks, 1000 pcs=1190|Cocoa powder, 1 kg=1090|Apple juice 0.2 l, 24 bottles=1290 # |, organic|, fair trade
BKS # reduced # 6 # Workplace safety handbook=2990|Technical drawing manual=3490|Electrical installation guide=3990|Logistics pocket dictionary=1490|Machine maintenance log book=990 # |, 2nd edition|, 3rd edition
VCH # zero # 3 # Multi-purpose gift voucher 25 EUR=2500|Multi-purpose gift voucher 50 EUR=5000|Multi-purpose gift voucher 100 EUR=10000 # ";

const BRANDS: &str =
    "Nordmark|Kestrel|Atlas|Ferrox|Lumina|Brava|Optima|Vektor|Alpina|Helios|Corvus|Baltica";

/// Customers' countries, one a line: ISO code # share of customers in percent # which word comes
/// first in a company name # cities as `city=postcode` # streets # surnames # trades # legal forms.
const COUNTRIES: &str = "\
DE # 35 # surname # Berlin=10115|Hamburg=20095|München=80331|Köln=50667|Frankfurt am Main=60311|Stuttgart=70173|Düsseldorf=40213|Leipzig=04109|Nürnberg=90402|Hannover=30159 # Hauptstraße|Industriestraße|Bahnhofstraße|Gewerbering|Am Hafen|Lindenallee # Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|Becker|Hoffmann|Schäfer|Koch|Richter # Maschinenbau|Elektrotechnik|Metallbau|Haustechnik|Logistik|Bürobedarf|Werkzeuge|Industriebedarf # GmbH|GmbH & Co. KG|AG|KG
FR # 15 # trade # Paris=75011|Lyon=69003|Marseille=13002|Toulouse=31000|Lille=59000|Nantes=44000|Strasbourg=67000|Bordeaux=33000 # rue de la République|avenue Jean Jaurès|rue du Commerce|boulevard Gambetta|rue de l'Industrie # Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Lefèvre|Moreau|Laurent|Girard # Transports|Fournitures|Équipements|Électricité|Distribution|Outillage|Bâtiment # SAS|SARL|SA
NL # 15 # surname # Amsterdam=1017 AB|Rotterdam=3011 AD|Utrecht=3511 LX|Eindhoven=5611 AZ|Den Haag=2511 CV|Groningen=9711 LM # Keizersgracht|Industrieweg|Stationsstraat|Havenstraat|Nijverheidsweg # De Jong|Jansen|De Vries|Van den Berg|Van Dijk|Bakker|Visser|Smit|Meijer|Mulder # Techniek|Installatie|Logistiek|Handel|Bouwmaterialen|Kantoorartikelen # B.V.
AT # 10 # surname # Wien=1030|Graz=8010|Linz=4020|Salzburg=5020|Innsbruck=6020 # Mariahilfer Straße|Industriezeile|Hauptplatz|Gewerbestraße|Wiener Straße # Gruber|Huber|Bauer|Wagner|Pichler|Steiner|Moser|Mayer|Hofer|Leitner # Haustechnik|Handels|Elektro|Metallwaren|Bau # GmbH|KG|OG
BE # 8 # surname # Bruxelles=1000|Antwerpen=2000|Gent=9000|Liège=4000|Brugge=8000|Leuven=3000 # Rue Neuve|Meir|Kortrijksesteenweg|Boulevard d'Avroy|Industrielaan # Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Claes|Lambert|Dupont # Bouw|Logistics|Techniek|Distribution|Trading # NV|BV|SRL|SA
IT # 9 # surname # Milano=20121|Roma=00184|Torino=10121|Bologna=40121|Verona=37121|Napoli=80133 # Via Roma|Via Garibaldi|Corso Italia|Via dell'Industria|Viale Europa # Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco # Impianti|Forniture|Meccanica|Elettronica|Logistica|Utensili # S.r.l.|S.p.A.
ES # 8 # trade # Madrid=28001|Barcelona=08001|Valencia=46001|Sevilla=41001|Bilbao=48001|Zaragoza=50001 # Calle Mayor|Avenida de la Constitución|Calle de la Industria|Paseo de Gracia|Polígono Industrial Norte # García|Fernández|González|Rodríguez|López|Martínez|Sánchez|Pérez|Gómez|Martín # Suministros|Distribuciones|Instalaciones|Ferretería|Logística|Maquinaria # S.L.|S.A.";

/// One line of a table above: its ` # `-separated fields, each split at `|`.
type Fields = Vec<Vec<&'static str>>;

fn table(text: &'static str) -> Vec<Fields> {
    text.lines()
        .map(|l| l.split(" # ").map(|f| f.split('|').collect()).collect())
        .collect()
}

/// `name=value` of a table cell.
fn pair(cell: &'static str) -> (&'static str, &'static str) {
    cell.split_once('=').unwrap_or((cell, ""))
}

/// Picks a row of a table by the weight in its column `col`.
fn weighted_row<'a>(rng: &mut Rng, rows: &'a [Fields], col: usize) -> &'a Fields {
    let weights: Vec<(usize, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r[col][0].parse().unwrap_or(1)))
        .collect();
    &rows[rng.weighted(&weights)]
}

fn product_request(rng: &mut Rng, families: &[Fields], k: usize) -> ProductRequest {
    let f = weighted_row(rng, families, 2);
    let (prefix, tax) = (f[0][0], f[1][0]);
    let (item, base) = pair(f[3][rng.below(f[3].len())]);
    let base: i64 = base.parse().unwrap_or(1000);
    let v = rng.below(f[4].len());
    let (name, price) = if tax == "zero" {
        (item.to_string(), base)
    } else {
        let cents = base * (100 + 15 * v as i64) * rng.between(85, 115) / 10_000;
        let price = if cents >= 200 {
            cents / 100 * 100 + rng.pick(&[49, 90, 95, 99])
        } else {
            cents.max(19)
        };
        let brands: Vec<&str> = BRANDS.split('|').collect();
        (format!("{} {item}{}", rng.pick(&brands), f[4][v]), price)
    };
    // One product in twenty is scarce (little or no stock) so that backorders happen.
    let level = |warehouse: &str, quantity| StockLevel {
        warehouse: warehouse.into(),
        quantity,
    };
    let stock = if k % 20 == 7 {
        Some(rng.between(0, 4))
            .filter(|q| *q > 0)
            .map(|q| level("MAIN", q))
            .into_iter()
            .collect()
    } else {
        let main = level("MAIN", rng.between(30, 400));
        let north = rng
            .percent(60)
            .then(|| level("NORTH", rng.between(10, 150)));
        std::iter::once(main).chain(north).collect()
    };
    ProductRequest {
        sku: format!("{prefix}-{:05}", 10_001 + k),
        name,
        unit_price: decimal_string(price, 2),
        currency: "EUR".into(),
        tax_category: Some(tax.into()),
        stock,
    }
}

fn address(rng: &mut Rng, c: &Fields) -> Address {
    let (city, postal_code) = pair(c[3][rng.below(c[3].len())]);
    let (street, no) = (rng.pick(&c[4]), rng.between(1, 180));
    let line1 = match c[0][0] {
        "FR" => format!("{no} {street}"),
        "ES" => format!("{street}, {no}"),
        _ => format!("{street} {no}"),
    };
    Address {
        line1,
        line2: None,
        city: city.into(),
        postal_code: postal_code.into(),
        country: c[0][0].into(),
    }
}

fn customer_request(
    rng: &mut Rng,
    countries: &[Fields],
    taken: &mut HashSet<String>,
    risky: bool,
) -> CustomerRequest {
    let c = weighted_row(rng, countries, 1);
    let mut name = String::new();
    for attempt in 0.. {
        let (surname, trade, form) = (rng.pick(&c[5]), rng.pick(&c[6]), rng.pick(&c[7]));
        name = match c[2][0] {
            "trade" => format!("{trade} {surname} {form}"),
            _ => format!("{surname} {trade} {form}"),
        };
        if attempt > 8 {
            name = format!("{name} ({})", taken.len());
        }
        if taken.insert(name.clone()) {
            break;
        }
    }
    let domain: String = name.split(' ').take(2).flat_map(ascii_fold).collect();
    let billing = address(rng, c);
    let shipping = if rng.percent(30) {
        address(rng, c)
    } else {
        billing.clone()
    };
    let limits: &[&str] = if risky {
        &["0.00", "500.00", "1000.00", "2500.00"]
    } else {
        &["15000.00", "25000.00", "50000.00", "100000.00", "250000.00"]
    };
    CustomerRequest {
        email: Some(format!(
            "accounts.payable@{domain}.{}",
            c[0][0].to_ascii_lowercase()
        )),
        name,
        currency: "EUR".into(),
        payment_terms_days: rng.weighted(&[(0, 10), (14, 25), (30, 50), (60, 15)]),
        credit_limit: rng.pick(limits).to_string(),
        billing_address: Some(billing),
        shipping_address: Some(shipping),
    }
}

/// Lower-case ASCII letters and digits of a word, accents folded (for e-mail domains).
fn ascii_fold(word: &str) -> Vec<char> {
    let folded: String = word
        .to_lowercase()
        .chars()
        .map(|ch| match ch {
            'ä' => "ae".into(),
            'ö' => "oe".into(),
            'ü' => "ue".into(),
            'ß' => "ss".into(),
            'à' | 'á' | 'â' => "a".into(),
            'è' | 'é' | 'ê' | 'ë' => "e".into(),
            'í' | 'ì' | 'î' => "i".into(),
            'ó' | 'ò' | 'ô' => "o".into(),
            'ú' | 'ù' | 'û' => "u".into(),
            'ç' => "c".into(),
            'ñ' => "n".into(),
            c => c.to_string(),
        })
        .collect();
    folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// SplitMix64: tiny, fast, and the same sequence on every platform for a given seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n; n must be positive.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// lo..=hi.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total as usize) as u32;
        for (v, w) in xs {
            if r < *w {
                return *v;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
}

// ---------------------------------------------------------------------------------------------
// What the cycle left behind. The demo's company invoices in euros only.

#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub seed: u64,
    pub elapsed_seconds: f64,
    pub customers: i64,
    pub products: i64,
    pub warehouses: i64,
    /// Orders per status, every status, in the order of the life cycle.
    pub orders: Vec<StatusCount>,
    pub orders_total: i64,
    pub shipments: Vec<StatusCount>,
    pub invoices: Vec<InvoiceFigures>,
    pub payments: PaymentFigures,
    pub credit: CreditFigures,
    /// Order lines still waiting for stock (a late supplier).
    pub backordered_lines: i64,
    /// Orders the demo's customer service cancelled before dispatch.
    pub cancelled_by_demo: usize,
    pub touchless: Touchless,
    pub events: i64,
    /// Automation reactions that failed and wait in the outbox; 0 in a healthy run.
    pub failed_automations: i64,
    pub trial_balance: TrialBalance,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceFigures {
    pub payment_status: String,
    pub count: i64,
    pub gross: Money,
    pub open: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentFigures {
    pub count: i64,
    pub received: Money,
    /// Cash received and not applied to any invoice (overpayments, mostly).
    pub unapplied: Money,
}

#[derive(Debug, Clone, Serialize)]
/// Credit decisions (not orders: a held order is decided again when released), by who decided:
/// the engine's rules, or a person.
pub struct CreditFigures {
    pub approved_by_rule: i64,
    pub held_by_rule: i64,
    pub rejected_by_rule: i64,
    pub released_by_analyst: i64,
    pub rejected_by_analyst: i64,
    /// Orders still waiting in the credit analyst's queue.
    pub holds_open: i64,
}

/// The touchless rate. Decided orders are all orders whose credit was decided, that is every
/// order except those still `received` and those cancelled (a cancellation is the customer's
/// choice, not a failure of automation). Touchless are the decided orders that no person touched
/// (`touched_by_person = 0`) and that are not waiting in the credit-hold queue, where a person
/// must act. `rate` = touchless / decided, between 0 and 1 (0 when nothing was decided).
#[derive(Debug, Clone, Serialize)]
pub struct Touchless {
    pub decided_orders: i64,
    pub touchless_orders: i64,
    pub rate: f64,
}

async fn summarize(app: &App, seed: u64, cancelled: usize, seconds: f64) -> Result<DemoSummary> {
    app.read(move |c| {
        let mut one = |sql: &str| -> Result<i64> { Ok(c.query_one(sql, params![])?.int(0)) };
        let customers = one("SELECT COUNT(*) FROM customers")?;
        let products = one("SELECT COUNT(*) FROM products")?;
        let warehouses = one("SELECT COUNT(*) FROM warehouses")?;
        let orders_total = one("SELECT COUNT(*) FROM orders")?;
        let backordered_lines = one("SELECT COUNT(*) FROM backorders")?;
        let events = one("SELECT COUNT(*) FROM events")?;
        let failed_automations = one("SELECT COUNT(*) FROM outbox WHERE attempts > 0")?;
        let statuses = OrderStatus::ALL.map(|s| s.as_str());
        let orders_sql = "SELECT status, COUNT(*) FROM orders GROUP BY status";
        let shipments_sql = "SELECT status, COUNT(*) FROM shipments GROUP BY status";
        Ok(DemoSummary {
            seed,
            elapsed_seconds: seconds,
            customers,
            products,
            warehouses,
            orders: status_counts(c, orders_sql, &statuses)?,
            orders_total,
            shipments: status_counts(c, shipments_sql, &["planned", "dispatched", "cancelled"])?,
            invoices: invoice_figures(c)?,
            payments: payment_figures(c)?,
            credit: credit_figures(c)?,
            backordered_lines,
            cancelled_by_demo: cancelled,
            touchless: touchless(c)?,
            events,
            failed_automations,
            trial_balance: ledger::trial_balance(c)?,
        })
    })
    .await
}

fn touchless(c: &mut dyn Conn) -> Result<Touchless> {
    let r = c.query_one(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN touched_by_person = 0 AND status <> 'credit_hold' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM orders WHERE status NOT IN ('received', 'cancelled')",
        params![],
    )?;
    let (decided_orders, touchless_orders) = (r.int(0), r.int(1));
    let rate = if decided_orders > 0 {
        touchless_orders as f64 / decided_orders as f64
    } else {
        0.0
    };
    Ok(Touchless {
        decided_orders,
        touchless_orders,
        rate,
    })
}

/// Counts per status, the known statuses first (zeros included) in the order given.
fn status_counts(c: &mut dyn Conn, sql: &str, known: &[&str]) -> Result<Vec<StatusCount>> {
    let count = |status: &str, count| StatusCount {
        status: status.into(),
        count,
    };
    let mut out: Vec<StatusCount> = known.iter().map(|s| count(s, 0)).collect();
    for r in c.query(sql, params![])? {
        let status = r.text(0);
        match out.iter_mut().find(|s| s.status == status) {
            Some(s) => s.count = r.int(1),
            None => out.push(count(&status, r.int(1))),
        }
    }
    Ok(out)
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn invoice_figures(c: &mut dyn Conn) -> Result<Vec<InvoiceFigures>> {
    let fig = |status: &str, count, gross, open| InvoiceFigures {
        payment_status: status.into(),
        count,
        gross: eur(gross),
        open: eur(open),
    };
    let mut out: Vec<_> = ["unpaid", "partially_paid", "paid"]
        .map(|s| fig(s, 0, 0, 0))
        .into();
    let rows = c.query(
        "SELECT payment_status, COUNT(*), CAST(SUM(gross_minor) AS BIGINT), CAST(SUM(open_minor) AS BIGINT)
         FROM invoices GROUP BY payment_status",
        params![],
    )?;
    for r in rows {
        let found = fig(&r.text(0), r.int(1), r.int(2), r.int(3));
        match out
            .iter_mut()
            .find(|f| f.payment_status == found.payment_status)
        {
            Some(f) => *f = found,
            None => out.push(found),
        }
    }
    Ok(out)
}

fn payment_figures(c: &mut dyn Conn) -> Result<PaymentFigures> {
    let r = c.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT),
                CAST(COALESCE(SUM(unapplied_minor), 0) AS BIGINT) FROM payments",
        params![],
    )?;
    Ok(PaymentFigures {
        count: r.int(0),
        received: eur(r.int(1)),
        unapplied: eur(r.int(2)),
    })
}

fn credit_figures(c: &mut dyn Conn) -> Result<CreditFigures> {
    // By outcome and kind of actor rather than by rule name, so new rules need no change here.
    let rows = c.query(
        "SELECT outcome, actor_kind = 'rule', COUNT(*) FROM credit_decisions GROUP BY outcome, actor_kind = 'rule'",
        params![],
    )?;
    let count = |by_rule: bool, outcomes: &[&str]| -> i64 {
        let matching = rows.iter().filter(|r| (r.int(1) != 0) == by_rule);
        matching
            .filter(|r| outcomes.contains(&r.text(0).as_str()))
            .map(|r| r.int(2))
            .sum()
    };
    let holds_sql = "SELECT COUNT(*) FROM orders WHERE status = 'credit_hold'";
    Ok(CreditFigures {
        approved_by_rule: count(true, &["approve"]),
        held_by_rule: count(true, &["hold"]),
        rejected_by_rule: count(true, &["reject"]),
        released_by_analyst: count(false, &["approve"]),
        // A person's rejection was recorded with outcome `hold` before rules could reject.
        rejected_by_analyst: count(false, &["hold", "reject"]),
        holds_open: c.query_one(holds_sql, params![])?.int(0),
    })
}

/// "1234567.89" → "1,234,567.89".
fn thousands(decimal: &str) -> String {
    let (sign, digits) = decimal
        .strip_prefix('-')
        .map_or(("", decimal), |d| ("-", d));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, ""), |(i, _)| (i, &digits[i.len()..]));
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out + frac
}

fn money(m: &Money) -> String {
    thousands(&m.to_decimal_string())
}

fn n(count: i64) -> String {
    thousands(&count.to_string())
}

/// One line of a table: a label, then a count and amounts, right-aligned.
fn row(f: &mut fmt::Formatter<'_>, label: &str, cells: &[&str]) -> fmt::Result {
    write!(f, "{label:<28}")?;
    for (i, cell) in cells.iter().enumerate() {
        write!(f, "{cell:>width$}", width = if i == 0 { 8 } else { 18 })?;
    }
    writeln!(f)
}

fn counts_table(f: &mut fmt::Formatter<'_>, title: &str, rows: &[StatusCount]) -> fmt::Result {
    row(f, title, &["count"])?;
    for r in rows {
        row(
            f,
            &format!("  {}", r.status.replace('_', " ")),
            &[&n(r.count)],
        )?;
    }
    row(f, "  total", &[&n(rows.iter().map(|r| r.count).sum())])?;
    writeln!(f)
}

impl DemoSummary {
    fn fmt_money(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        row(f, "Invoices (EUR)", &["count", "gross", "open"])?;
        for i in &self.invoices {
            let label = format!("  {}", i.payment_status.replace('_', " "));
            row(f, &label, &[&n(i.count), &money(&i.gross), &money(&i.open)])?;
        }
        let sum = |g: fn(&InvoiceFigures) -> i64| self.invoices.iter().map(g).sum::<i64>();
        let (gross, open) = (eur(sum(|i| i.gross.minor())), eur(sum(|i| i.open.minor())));
        row(
            f,
            "  total",
            &[&n(sum(|i| i.count)), &money(&gross), &money(&open)],
        )?;
        writeln!(f)?;
        let p = &self.payments;
        row(f, "Payments (EUR)", &["count", "received", "unapplied"])?;
        row(
            f,
            "  from the bank feed",
            &[&n(p.count), &money(&p.received), &money(&p.unapplied)],
        )?;
        writeln!(f)?;
        let c = &self.credit;
        row(f, "Credit decisions", &["count"])?;
        row(f, "  approved by rule", &[&n(c.approved_by_rule)])?;
        row(f, "  held by rule", &[&n(c.held_by_rule)])?;
        row(f, "  rejected by rule", &[&n(c.rejected_by_rule)])?;
        row(f, "  released by analyst", &[&n(c.released_by_analyst)])?;
        row(f, "  rejected by analyst", &[&n(c.rejected_by_analyst)])?;
        row(f, "  holds still open", &[&n(c.holds_open)])?;
        let t = &self.touchless;
        let (done, of) = (n(t.touchless_orders), n(t.decided_orders));
        let rate = t.rate * 100.0;
        writeln!(
            f,
            "\nTouchless rate: {rate:.1} % ({done} of {of} decided orders needed no person)"
        )?;
        writeln!(
            f,
            "  decided: credit decided, cancelled orders left out; a review or hold is a touch"
        )
    }

    fn fmt_books(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tb = &self.trial_balance;
        let line = |f: &mut fmt::Formatter<'_>, label: &str, dr: &str, cr: &str| {
            writeln!(f, "{label:<42}{dr:>15}{cr:>15}")
        };
        let currencies: Vec<&str> = tb.totals.iter().map(|t| t.currency.as_str()).collect();
        line(
            f,
            &format!("Trial balance ({})", currencies.join(", ")),
            "debit",
            "credit",
        )?;
        for a in &tb.accounts {
            let label = format!("  {} {}", a.account, a.name);
            let amount = thousands(a.balance.trim_start_matches('-'));
            match a.balance_minor >= 0 {
                true => line(f, &label, &amount, "")?,
                false => line(f, &label, "", &amount)?,
            }
        }
        for t in &tb.totals {
            let exp = Currency::parse(&t.currency).map_or(2, |c| c.exponent());
            let side = |debit: bool| {
                let mine = tb.accounts.iter().filter(|a| a.currency == t.currency);
                let total = mine
                    .filter(|a| (a.balance_minor >= 0) == debit)
                    .map(|a| a.balance_minor.abs())
                    .sum();
                thousands(&decimal_string(total, exp))
            };
            writeln!(f, "{:-<72}", "")?;
            line(
                f,
                &format!("  total ({})", t.currency),
                &side(true),
                &side(false),
            )?;
        }
        let yes = |ok: bool| if ok { "yes" } else { "NO" };
        let all = |checks: &[ledger::SubledgerCheck]| yes(checks.iter().all(|c| c.matches));
        writeln!(f, "  balanced: {}", yes(tb.balanced))?;
        writeln!(
            f,
            "  open items = receivables account 1100: {}",
            all(&tb.receivables)
        )?;
        writeln!(
            f,
            "  unapplied payments = account 2000: {}",
            all(&tb.unapplied_cash)
        )
    }
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seed, seconds) = (self.seed, self.elapsed_seconds);
        writeln!(
            f,
            "o2c demo: a small company through the whole order-to-cash cycle"
        )?;
        writeln!(f, "seed {seed}, {seconds:.1} s\n{:-<72}", "")?;
        let (c, p, w) = (n(self.customers), n(self.products), n(self.warehouses));
        writeln!(
            f,
            "Master data: {c} customers, {p} products, {w} warehouses\n"
        )?;
        counts_table(f, "Orders", &self.orders)?;
        counts_table(f, "Shipments", &self.shipments)?;
        self.fmt_money(f)?;
        let waiting = n(self.backordered_lines);
        writeln!(
            f,
            "\nCancelled by customer service: {}",
            self.cancelled_by_demo
        )?;
        writeln!(f, "Order lines waiting for stock: {waiting}")?;
        let (events, failed) = (n(self.events), n(self.failed_automations));
        writeln!(
            f,
            "Events recorded: {events}; failed automations: {failed}\n"
        )?;
        self.fmt_books(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppError;
    use crate::testing::{Engine, TestStore};

    fn count(rows: &[StatusCount], status: &str) -> i64 {
        rows.iter()
            .find(|r| r.status == status)
            .map_or(0, |r| r.count)
    }

    async fn a_small_company_runs_through_the_whole_cycle(engine: Engine) {
        let Some(store) = TestStore::new(engine) else {
            return;
        };
        let app = store.app().expect("open the test store");
        let opts = DemoOptions {
            customers: 20,
            products: 50,
            orders: 60,
            seed: 7,
            progress: false,
        };
        let s = run(&app, &opts).await.expect("the demo runs");
        assert_eq!((s.customers, s.products, s.warehouses), (20, 50, 2));
        documents_add_up(&s);
        people_and_rules_both_acted(&s);
        books_balance(&s);
        let receipts_sql = "SELECT COUNT(*) FROM stock_movements WHERE kind = 'receipt'";
        let receipts = app
            .read(move |c| Ok(c.query_one(receipts_sql, params![])?.int(0)))
            .await;
        assert!(
            receipts.unwrap() > 0,
            "backorders happened and goods arrived for them"
        );
        let shown = s.to_string();
        assert!(
            shown.contains("Trial balance") && shown.contains("Touchless rate"),
            "{shown}"
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["trial_balance"]["balanced"], serde_json::json!(true));

        let again = run(&app, &opts).await;
        let refused = matches!(
            again,
            Err(AppError::Domain(DomainError::InvalidField { .. }))
        );
        assert!(refused, "a used database is refused");
    }

    fn documents_add_up(s: &DemoSummary) {
        assert_eq!(s.orders_total, 60);
        let by_status: i64 = s.orders.iter().map(|c| c.count).sum();
        assert_eq!(by_status, 60, "every order has exactly one status");
        assert!(
            count(&s.orders, "closed") > 0,
            "some orders went all the way: {:?}",
            s.orders
        );
        assert_eq!(
            count(&s.orders, "received"),
            0,
            "the engine decided every order"
        );
        assert_eq!(count(&s.orders, "cancelled") as usize, s.cancelled_by_demo);
        // Exactly one invoice per dispatched shipment.
        let invoices: i64 = s.invoices.iter().map(|i| i.count).sum();
        assert_eq!(count(&s.shipments, "dispatched"), invoices);
        assert!(
            s.payments.count > 0 && s.payments.unapplied.is_positive(),
            "{:?}",
            s.payments
        );
        assert_eq!(s.failed_automations, 0);
    }

    fn people_and_rules_both_acted(s: &DemoSummary) {
        let c = &s.credit;
        assert!(
            c.held_by_rule > 0 && c.released_by_analyst > 0,
            "holds happened: {c:?}"
        );
        assert_eq!(c.holds_open, count(&s.orders, "credit_hold"));
        let t = &s.touchless;
        assert!(
            (0.0..=1.0).contains(&t.rate) && t.decided_orders > 0,
            "{t:?}"
        );
        assert!(
            t.touchless_orders < t.decided_orders,
            "reviewed orders are not touchless"
        );
    }

    fn books_balance(s: &DemoSummary) {
        let tb = &s.trial_balance;
        assert!(tb.balanced, "{tb:?}");
        assert!(
            tb.receivables
                .iter()
                .chain(&tb.unapplied_cash)
                .all(|c| c.matches),
            "{tb:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_runs_a_small_company_through_the_whole_cycle_on_sqlite() {
        a_small_company_runs_through_the_whole_cycle(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_runs_a_small_company_through_the_whole_cycle_on_postgres() {
        a_small_company_runs_through_the_whole_cycle(Engine::Postgres).await;
    }

    #[test]
    fn the_same_seed_makes_the_same_company() {
        let make = |seed| {
            let mut rng = Rng(seed);
            let mut names = HashSet::new();
            let (countries, families) = (table(COUNTRIES), table(CATALOGUE));
            let customer = customer_request(&mut rng, &countries, &mut names, false);
            (customer.name, product_request(&mut rng, &families, 3).name)
        };
        assert_eq!(make(1), make(1));
        assert_ne!(make(1), make(2));
        assert_eq!(thousands("-1234567.89"), "-1,234,567.89");
        assert_eq!(thousands("123"), "123");
    }
}
