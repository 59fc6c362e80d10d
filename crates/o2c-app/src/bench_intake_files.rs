//! `o2c bench intake-files`: order intake from files, the way partners send them. X12 850
//! interchanges (one PO of three lines each: a customer item number through the
//! cross-reference, our SKU as vendor item, a GTIN; prices to check) received concurrently,
//! each stored, parsed, mapped and ordered; and CSV order files of 1,000 orders each. Also the
//! 850 reader alone on one thread.

use crate::context::Ctx;
use crate::customer::{self, CustomerRequest, NewCustomer};
use crate::intake::xref::{self, CustomerItem, ItemsRequest, Partner, PartnersRequest};
use crate::intake::{self, Channel};
use crate::inventory::{self, ProductRequest, StockLevel, WarehouseRequest};
use crate::{App, AppError, Result};
use o2c_core::Actor;
use o2c_core::customer::Address;
use serde::Serialize;
use std::fmt;
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct IntakeFilesReport {
    pub engine: String,
    pub x12_documents: usize,
    pub in_flight: usize,
    /// The 850 reader alone (envelope and transaction set), one thread.
    pub x12_parsed_per_second: f64,
    /// Stored, parsed, mapped, ordered (and the 855 written), end to end.
    pub x12_documents_per_second: f64,
    pub x12_p50_ms: f64,
    pub x12_p99_ms: f64,
    pub csv_orders: usize,
    pub csv_files: usize,
    pub csv_orders_per_second: f64,
    pub orders_placed: i64,
}

impl fmt::Display for IntakeFilesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "order intake from files on {}", self.engine)?;
        writeln!(
            f,
            "  X12 850 read alone (1 thread)        {:>10.0} documents/s",
            self.x12_parsed_per_second
        )?;
        writeln!(
            f,
            "  X12 850 stored, parsed and ordered   {:>10.0} documents/s  ({} documents, {} in flight; p50 {:.1} ms, p99 {:.1} ms)",
            self.x12_documents_per_second,
            self.x12_documents,
            self.in_flight,
            self.x12_p50_ms,
            self.x12_p99_ms
        )?;
        writeln!(
            f,
            "  CSV orders imported                  {:>10.0} orders/s     ({} orders in {} files of 3-line orders)",
            self.csv_orders_per_second, self.csv_orders, self.csv_files
        )?;
        writeln!(f, "  orders placed: {}", self.orders_placed)
    }
}

const CUSTOMERS: usize = 200;
const PRODUCTS: usize = 300;
const CSV_ORDERS_PER_FILE: usize = 1_000;

fn actor() -> Actor {
    Actor::Cli("bench".into())
}

pub async fn run(app: &App, documents: usize, in_flight: usize) -> Result<IntakeFilesReport> {
    let customers = app.write(actor(), |c, ctx| setup(c, ctx)).await?;
    let files: Vec<Vec<u8>> = (0..documents).map(interchange).collect();
    let parsed_per_second = parse_rate(&files);

    let in_flight = in_flight.max(1);
    let started = Instant::now();
    let mut latencies_ms = Vec::with_capacity(documents);
    let mut queue = files.into_iter();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < in_flight {
            let Some(bytes) = queue.next() else { break };
            let app = app.clone();
            running.spawn(async move {
                let t = Instant::now();
                let doc =
                    intake::receive(&app, actor(), Channel::X12, bytes, "bench".into()).await?;
                Ok::<_, AppError>((doc, t.elapsed().as_secs_f64() * 1000.0))
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (doc, ms) = done.map_err(|e| AppError::Internal(e.to_string()))??;
        if doc.status != "ordered" {
            return Err(AppError::Internal(format!(
                "bench document {} is {}: {:?}",
                doc.id, doc.status, doc.errors
            )));
        }
        latencies_ms.push(ms);
    }
    let x12_seconds = started.elapsed().as_secs_f64();
    latencies_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies_ms[((latencies_ms.len() as f64 - 1.0) * p) as usize];

    let csv_orders = documents;
    let csv_files = csv_orders.div_ceil(CSV_ORDERS_PER_FILE);
    let started = Instant::now();
    for file in 0..csv_files {
        let from = file * CSV_ORDERS_PER_FILE;
        let to = (from + CSV_ORDERS_PER_FILE).min(csv_orders);
        let bytes = csv_file(&customers, from..to);
        let doc = intake::receive(app, actor(), Channel::Csv, bytes, "bench.csv".into()).await?;
        if doc.orders.len() != to - from {
            return Err(AppError::Internal(format!(
                "CSV file {file}: {:?}",
                doc.errors
            )));
        }
    }
    let csv_seconds = started.elapsed().as_secs_f64();
    let placed = app
        .read(|c| Ok(c.query_one("SELECT COUNT(*) FROM orders", &[])?.int(0)))
        .await?;
    Ok(IntakeFilesReport {
        engine: app.dialect().to_string(),
        x12_documents: documents,
        in_flight,
        x12_parsed_per_second: parsed_per_second,
        x12_documents_per_second: documents as f64 / x12_seconds,
        x12_p50_ms: if documents > 0 { pct(0.5) } else { 0.0 },
        x12_p99_ms: if documents > 0 { pct(0.99) } else { 0.0 },
        csv_orders,
        csv_files,
        csv_orders_per_second: csv_orders as f64 / csv_seconds,
        orders_placed: placed,
    })
}

/// The X12 reader over every file (at least 20,000 reads, so the figure is steady).
fn parse_rate(files: &[Vec<u8>]) -> f64 {
    if files.is_empty() {
        return 0.0;
    }
    let rounds = 20_000usize.div_ceil(files.len());
    let started = Instant::now();
    let mut lines = 0usize;
    for _ in 0..rounds {
        for f in files {
            if let Ok(ic) = o2c_edi::x12::read_interchange(f) {
                lines += o2c_edi::read_850s(&ic)
                    .iter()
                    .flatten()
                    .map(|o| o.lines.len())
                    .sum::<usize>();
            }
        }
    }
    std::hint::black_box(lines);
    (rounds * files.len()) as f64 / started.elapsed().as_secs_f64()
}

fn gtin(n: usize) -> String {
    let body = format!("400638{n:06}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Document `n`: from customer `n % CUSTOMERS`, under its own interchange control number.
fn interchange(n: usize) -> Vec<u8> {
    let buyer = format!("BUYER{:04}", n % CUSTOMERS);
    let control = n + 1;
    let (a, b, c) = (
        n % PRODUCTS,
        (n * 7 + 1) % PRODUCTS,
        (n * 13 + 2) % PRODUCTS,
    );
    let isa = format!(
        "ISA*00*          *00*          *ZZ*{buyer:<15}*ZZ*O2CSELLER      *261120*0930*U*00401*{control:09}*0*P*>~"
    );
    let segments = [
        format!("BEG*00*SA*BENCH-{n}**20261120~"),
        "N1*ST*Warehouse~N3*Lagerweg 2~N4*Potsdam**14467*DE~".into(),
        format!("PO1*1*{}*EA*{}.00*PE*BP*C-{a}~", 1 + n % 5, 10 + a),
        format!("PO1*2*{}*EA*{}.00*PE*VP*BF-{b}~", 1 + n % 3, 10 + b),
        format!("PO1*3*1*EA*{}.00*PE*UP*{}~", 10 + c, gtin(c)),
        "CTT*3~".into(),
    ];
    let body = segments.concat();
    format!(
        "{isa}GS*PO*{buyer}*O2CSELLER*20261120*0930*{control}*X*004010~ST*850*0001~{body}SE*10*0001~GE*1*{control}~IEA*1*{control:09}~"
    )
    .into_bytes()
}

fn csv_file(customers: &[String], orders: std::ops::Range<usize>) -> Vec<u8> {
    let mut out =
        String::from("po_number,customer_id,sku,customer_item,gtin,quantity,unit_price\n");
    for n in orders {
        let customer = &customers[n % CUSTOMERS];
        let (a, b, c) = (
            n % PRODUCTS,
            (n * 7 + 1) % PRODUCTS,
            (n * 13 + 2) % PRODUCTS,
        );
        out.push_str(&format!(
            "CSV-{n},{customer},BF-{a},,,{},{}.00\n",
            1 + n % 5,
            10 + a
        ));
        out.push_str(&format!("CSV-{n},{customer},,C-{b},,2,\n"));
        out.push_str(&format!("CSV-{n},{customer},,,{},1,\n", gtin(c)));
    }
    out.into_bytes()
}

/// Products `BF-n`, customers known by `ZZ:BUYERnnnn` with item numbers `C-n` and GTINs.
fn setup(c: &mut dyn o2c_store::Conn, ctx: &Ctx) -> Result<Vec<String>> {
    inventory::create_warehouse_in_tx(
        c,
        ctx,
        &WarehouseRequest {
            code: "BF".into(),
            name: "Intake bench".into(),
            priority: None,
            country: None,
            postal_code: None,
        },
    )?;
    for i in 0..PRODUCTS {
        inventory::create_product_in_tx(
            c,
            ctx,
            &ProductRequest {
                weight_g: None,
                sku: format!("BF-{i}"),
                name: format!("Intake bench item {i}"),
                unit_price: format!("{}.00", 10 + i),
                currency: "EUR".into(),
                tax_category: None,
                stock: vec![StockLevel {
                    warehouse: "BF".into(),
                    quantity: 1_000_000,
                }],
            },
        )?;
    }
    let items: Vec<CustomerItem> = (0..PRODUCTS)
        .flat_map(|i| {
            [
                CustomerItem {
                    customer_item: Some(format!("C-{i}")),
                    gtin: None,
                    sku: format!("BF-{i}"),
                },
                CustomerItem {
                    customer_item: None,
                    gtin: Some(gtin(i)),
                    sku: format!("BF-{i}"),
                },
            ]
        })
        .collect();
    let address = Address {
        line1: "Marktplatz 1".into(),
        line2: None,
        city: "Leipzig".into(),
        postal_code: "04109".into(),
        country: "DE".into(),
        region: None,
    };
    let mut ids = Vec::with_capacity(CUSTOMERS);
    for n in 0..CUSTOMERS {
        let new = NewCustomer::parse(CustomerRequest {
            name: format!("Intake bench customer {n}"),
            email: None,
            currency: "EUR".into(),
            payment_terms_days: 30,
            credit_limit: "10000000.00".into(),
            billing_address: Some(address.clone()),
            shipping_address: Some(address.clone()),
        })?;
        let id = customer::create_in_tx(c, ctx, &new)?.id;
        let partners = PartnersRequest {
            partners: vec![Partner {
                qualifier: "ZZ".into(),
                id: format!("BUYER{n:04}"),
            }],
        };
        xref::set_partners_in_tx(c, ctx, &id, &partners)?;
        xref::set_items_in_tx(
            c,
            ctx,
            &id,
            &ItemsRequest {
                items: items.clone(),
            },
        )?;
        ids.push(id);
    }
    Ok(ids)
}
