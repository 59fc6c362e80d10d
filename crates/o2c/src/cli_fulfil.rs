//! `o2c picklist` and `o2c edi`: pick lists per warehouse, and the EDI documents sent to
//! customers (856 ship notices, 810 invoices).

use crate::cli::{cli_actor, open, print_json};
use anyhow::{Context, bail};
use clap::Subcommand;
use o2c_app::fulfilment::{self, PickList, PickListRequest, edi_out};

#[derive(Debug, Subcommand)]
pub enum PickListCommand {
    /// Batch the warehouse's planned shipments into a pick list (oldest first) and print it.
    Create {
        #[arg(long)]
        warehouse: String,
        #[arg(long)]
        max_shipments: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Print a pick list again.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

fn print_pick_list(p: &PickList) {
    println!(
        "pick list {} at {} ({} shipment(s), {} by {})",
        p.id,
        p.warehouse,
        p.shipments.len(),
        p.created_at,
        p.created_by
    );
    for l in &p.lines {
        println!(
            "  {:>6} x {:<20} {:<30} {:>8} g each",
            l.quantity, l.sku, l.description, l.weight_g
        );
        for s in &l.per_shipment {
            println!(
                "           {:>6} for {} (order {} line {})",
                s.quantity, s.shipment_id, s.order_id, s.line_no
            );
        }
    }
}

pub async fn picklist(database: &str, command: PickListCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    let (list, json) = match command {
        PickListCommand::Create {
            warehouse,
            max_shipments,
            json,
        } => {
            let r = PickListRequest {
                warehouse,
                max_shipments,
            };
            let list = app
                .write(cli_actor(), move |c, ctx| {
                    fulfilment::create_in_tx(c, ctx, &r)
                })
                .await?;
            (list, json)
        }
        PickListCommand::Show { id, json } => {
            (app.read(move |c| fulfilment::get(c, &id)).await?, json)
        }
    };
    if json {
        return print_json(&list);
    }
    print_pick_list(&list);
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum EdiCommand {
    /// Documents sent to EDI customers, newest first.
    List {
        #[arg(long)]
        order: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One document as sent (X12 text), to standard output or `--out FILE`.
    Export {
        id: String,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

pub async fn edi(database: &str, command: EdiCommand) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        EdiCommand::List { order, limit, json } => {
            let list = app
                .read(move |c| edi_out::list(c, order.as_deref(), limit))
                .await?;
            if json {
                return print_json(&list);
            }
            for d in &list {
                println!(
                    "{:<32} {:<8} order {} {} {}",
                    d.id,
                    d.kind,
                    d.order_id,
                    d.shipment_id
                        .as_deref()
                        .or(d.invoice_id.as_deref())
                        .unwrap_or(""),
                    d.error
                        .as_deref()
                        .map(|e| format!("NOT WRITTEN: {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        EdiCommand::Export { id, out } => {
            let doc = app.read(move |c| edi_out::get(c, &id)).await?;
            let Some(content) = doc.content else {
                bail!(
                    "document {} could not be written: {}",
                    doc.id,
                    doc.error.unwrap_or_default()
                );
            };
            match out {
                Some(path) => std::fs::write(&path, content)
                    .with_context(|| format!("writing {}", path.display())),
                None => {
                    print!("{content}");
                    Ok(())
                }
            }
        }
    }
}
