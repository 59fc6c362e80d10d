//! `o2c users …`: the people who sign in to the pages; and the demo's one user per role.

use anyhow::{Context, bail};
use clap::Subcommand;
use o2c_app::App;
use o2c_app::users::{self, Access, NewUser};
use o2c_core::{Actor, Role};
use serde::Serialize;
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a staff user. Without --password-stdin a password is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, sales, credit, warehouse, receivables or collector.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Invite a customer's user to the portal: an e-mail with a one-time sign-in link.
    Invite {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Where the link points (default: O2C_PUBLIC_URL, else http://127.0.0.1:8080).
        #[arg(long, env = "O2C_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// List users (never passwords).
    List {
        #[arg(long)]
        json: bool,
    },
}

fn operator() -> Actor {
    Actor::Cli(std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

fn generated_password() -> String {
    // 20 characters from a v4 UUID's random bits: enough for a first sign-in, then change it.
    uuid::Uuid::new_v4().simple().to_string()[..20].to_string()
}

pub async fn run(app: &App, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add {
            email,
            name,
            role,
            password_stdin,
        } => {
            let Some(role) = Role::parse(&role) else {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                bail!(
                    "--role: unknown role `{role}`: expected one of {}",
                    roles.join(", ")
                );
            };
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (generated_password(), true)
            };
            let new = NewUser {
                email: &email,
                name: &name,
                access: Access::Staff { role },
                password: Some(&password),
            };
            users::check_new(&new)?;
            let hash = users::hash_password(&password)?;
            let user = app
                .write(operator(), move |c, ctx| {
                    let new = NewUser {
                        email: &email,
                        name: &name,
                        access: Access::Staff { role },
                        password: None,
                    };
                    users::create_in_tx(c, ctx, &new, Some(&hash))
                })
                .await?;
            eprintln!(
                "created {} ({}) with role {}; sign in at /app/sign-in",
                user.email,
                user.id,
                role.as_str()
            );
            if generated {
                eprintln!("its password, shown only once:");
                println!("{password}");
            }
        }
        UsersCommand::Invite {
            customer,
            email,
            name,
            public_url,
        } => {
            let user = app
                .write(operator(), move |c, ctx| {
                    users::invite_in_tx(c, ctx, &customer, &email, &name, &public_url)
                })
                .await?;
            eprintln!(
                "invited {} ({}): the sign-in link is queued for e-mail (sent when O2C_SMTP_URL is set); it works once, within 72 hours",
                user.email, user.id
            );
        }
        UsersCommand::List { json } => {
            let list = app.read(users::list).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for u in list {
                    println!(
                        "{:<30} {:<34} {:<12} {:<8} {}",
                        u.id,
                        u.email,
                        u.role_name(),
                        if u.active { "active" } else { "inactive" },
                        u.customer_id().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

/// A demo user and the password it signs in with (documented in the README).
#[derive(Debug, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub role: String,
    pub customer_id: Option<String>,
}

/// One staff user per role (`<role>@demo.o2c`, password `o2c-demo-<role>`) and one portal user
/// (`customer@demo.o2c`, `o2c-demo-customer`) for the customer with the most invoices. Users that
/// exist already are left as they are.
pub async fn demo_users(app: &App) -> anyhow::Result<Vec<DemoUser>> {
    let customer_id = app
        .read(|c| {
            Ok(c.query_opt(
                "SELECT customer_id FROM invoices GROUP BY customer_id ORDER BY COUNT(*) DESC, customer_id LIMIT 1",
                o2c_app::params![],
            )?
            .map(|r| r.text(0)))
        })
        .await?;
    let mut wanted: Vec<(String, Access)> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), Access::Staff { role: *r }))
        .collect();
    if let Some(id) = &customer_id {
        wanted.push((
            "customer".into(),
            Access::Portal {
                customer_id: id.clone(),
            },
        ));
    }
    let mut out = Vec::new();
    for (name, access) in wanted {
        let email = format!("{name}@demo.o2c");
        let password = format!("o2c-demo-{name}");
        let hash = users::hash_password(&password)?;
        let (e, a, n) = (email.clone(), access.clone(), name.clone());
        app.write(Actor::Cli("o2c demo".into()), move |c, ctx| {
            if users::find_for_sign_in(c, &e)?.is_some() {
                return Ok(());
            }
            let display = format!("Demo {n}");
            let new = NewUser {
                email: &e,
                name: &display,
                access: a.clone(),
                password: None,
            };
            users::create_in_tx(c, ctx, &new, Some(&hash)).map(|_| ())
        })
        .await?;
        out.push(DemoUser {
            email,
            password,
            role: name,
            customer_id: match access {
                Access::Portal { customer_id } => Some(customer_id),
                Access::Staff { .. } => None,
            },
        });
    }
    Ok(out)
}

pub fn print_demo_work(w: &DemoWork) {
    println!(
        "\nWaiting for people in the pages: {} credit hold(s), {} intake exception(s), {} customer question(s), {} dispute(s)",
        w.credit_holds, w.intake_exceptions, w.service_cases, w.disputes
    );
}

pub fn print_demo_users(people: &[DemoUser]) {
    println!("\nSign in to the pages (o2c serve, then http://127.0.0.1:8080/app):");
    for p in people {
        let at = if p.customer_id.is_some() {
            "/portal/sign-in"
        } else {
            "/app/sign-in"
        };
        println!(
            "  {:<12} {:<24} password {:<22} at {at}",
            p.role, p.email, p.password
        );
    }
}

/// What `demo_work` left for people.
#[derive(Debug, Serialize)]
pub struct DemoWork {
    pub credit_holds: usize,
    pub intake_exceptions: usize,
    pub service_cases: usize,
    pub disputes: usize,
}

/// Leaves work in the queues the pages show (the demo's rules decide almost everything by
/// themselves): orders over their customer's credit limit, an order file naming an item nobody
/// sells, and a portal user's question o2c cannot answer by itself.
pub async fn demo_work(app: &App, people: &[DemoUser]) -> anyhow::Result<DemoWork> {
    use o2c_app::params;
    let actor = Actor::Cli("o2c demo".into());
    let candidates = app
        .read(|c| {
            Ok(c.query(
                "SELECT c.id, c.credit_limit_minor, p.sku, p.unit_price_minor FROM customers c
                 JOIN products p ON p.currency = c.currency AND p.unit_price_minor > 0
                 WHERE c.credit_limit_minor > 0 AND c.billing_address IS NOT NULL AND c.shipping_address IS NOT NULL
                 ORDER BY c.credit_limit_minor, c.id, p.unit_price_minor DESC, p.sku",
                params![],
            )?
            .iter()
            .map(|r| (r.text(0), r.int(1), r.text(2), r.int(3)))
            .collect::<Vec<_>>())
        })
        .await?;
    let mut customers_done = Vec::new();
    for (customer, limit, sku, price) in candidates {
        if customers_done.len() == 3 {
            break;
        }
        if customers_done.contains(&customer) {
            continue;
        }
        customers_done.push(customer.clone());
        // Just over the limit on its own: the credit rules hold it for a person.
        let quantity = limit / price + 2;
        let request = o2c_app::order::OrderRequest {
            customer_id: customer,
            currency: None,
            customer_reference: Some(format!("DEMO-HOLD-{}", customers_done.len())),
            requested_delivery_on: None,
            ship_to: None,
            freight: None,
            lines: vec![o2c_app::order::OrderLineRequest { sku, quantity }],
        };
        app.write(actor.clone(), move |c, ctx| {
            o2c_app::order::place_in_tx(c, ctx, &request)
        })
        .await?;
    }
    if let Some(first) = customers_done.first() {
        let csv = format!("po_number,customer_id,sku,quantity\nDEMO-PO-1,{first},NO-SUCH-ITEM,3\n");
        o2c_app::intake::receive(
            app,
            actor.clone(),
            o2c_app::intake::Channel::Csv,
            csv.into_bytes(),
            "demo-order-file.csv".into(),
        )
        .await?;
    }
    if let Some(p) = people.iter().find(|p| p.customer_id.is_some()) {
        let (customer, email) = (p.customer_id.clone().unwrap_or_default(), p.email.clone());
        let user = app
            .read(move |c| users::find_for_sign_in(c, &email))
            .await?
            .map(|(u, _)| u.id);
        if let Some(user) = user {
            app.write(Actor::User(user.clone()), move |c, ctx| {
                o2c_app::service::inquire_in_tx(
                    c,
                    ctx,
                    &o2c_app::service::Inquiry {
                        customer_id: &customer,
                        user_id: &user,
                        topic: o2c_app::service::Topic::Other,
                        reference: "",
                        message: "Could you deliver on pallets from now on?",
                    },
                )
            })
            .await?;
        }
    }
    // Two customers contest an open invoice: the disputes queue has work.
    let open = app
        .read(|c| {
            Ok(c.query(
                "SELECT id FROM invoices WHERE kind = 'invoice' AND open_minor > 0 ORDER BY number LIMIT 2",
                params![],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Vec<_>>())
        })
        .await?;
    for (invoice_id, (reason, text)) in open.into_iter().zip([
        (
            "damage",
            "Two cartons arrived crushed; photos sent by e-mail.",
        ),
        ("pricing", "The agreed price for this item was 5 % lower."),
    ]) {
        let r = o2c_app::receivable::disputes::RaiseDispute {
            invoice_id,
            line_no: None,
            reason: reason.to_string(),
            description: Some(text.to_string()),
            amount: None,
            owner: None,
            due_on: None,
        };
        app.write(actor.clone(), move |c, ctx| {
            o2c_app::receivable::disputes::raise_in_tx(c, ctx, &r)
        })
        .await?;
    }
    app.settle().await?;
    let counts = app
        .read(|c| {
            let one = |c: &mut dyn o2c_app::Conn, sql: &str| -> o2c_app::Result<i64> {
                Ok(c.query_one(sql, params![])?.int(0))
            };
            Ok((
                one(
                    c,
                    "SELECT COUNT(*) FROM orders WHERE status = 'credit_hold'",
                )?,
                one(
                    c,
                    "SELECT COUNT(*) FROM intake_documents WHERE status = 'exception'",
                )?,
                one(
                    c,
                    "SELECT COUNT(*) FROM service_cases WHERE status = 'open'",
                )?,
                one(c, "SELECT COUNT(*) FROM disputes WHERE status = 'open'")?,
            ))
        })
        .await?;
    Ok(DemoWork {
        credit_holds: counts.0 as usize,
        intake_exceptions: counts.1 as usize,
        service_cases: counts.2 as usize,
        disputes: counts.3 as usize,
    })
}
