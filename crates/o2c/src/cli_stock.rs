//! `o2c stock` and `o2c import stock`: levels, adjustments, the movements journal, receipt files.

use crate::cli::{cli_actor, open, print_json};
use anyhow::Context;
use clap::Subcommand;
use o2c_app::inventory::stock;
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Correct on hand (a count, damage): a signed quantity and the reason.
    Adjust {
        #[arg(long)]
        sku: String,
        #[arg(long)]
        warehouse: String,
        /// Signed change: `-2` takes two off, `5` adds five.
        #[arg(long, allow_hyphen_values = true)]
        quantity: i64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// The movements journal, newest first: receipts, adjustments, dispatches, with who did them.
    Movements {
        #[arg(long)]
        sku: Option<String>,
        #[arg(long)]
        warehouse: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

/// `o2c stock [--sku S] [--warehouse W] [--json]`: levels; or one of the subcommands.
pub async fn stock(
    database: &str,
    command: Option<StockCommand>,
    sku: Option<String>,
    warehouse: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let app = open(database)?;
    match command {
        None => {
            let levels = app
                .read(move |c| stock::levels(c, sku.as_deref(), warehouse.as_deref()))
                .await?;
            if json {
                return print_json(&levels);
            }
            println!(
                "{:<24} {:<10} {:>10} {:>10} {:>10}",
                "sku", "warehouse", "on hand", "reserved", "available"
            );
            for l in &levels {
                println!(
                    "{:<24} {:<10} {:>10} {:>10} {:>10}",
                    l.sku, l.warehouse, l.on_hand, l.reserved, l.available_to_promise
                );
            }
            Ok(())
        }
        Some(StockCommand::Adjust {
            sku,
            warehouse,
            quantity,
            reason,
            json,
        }) => {
            let r = stock::StockAdjustmentRequest {
                sku,
                warehouse,
                quantity,
                reason,
            };
            let level = app
                .write(cli_actor(), move |c, ctx| stock::adjust_in_tx(c, ctx, &r))
                .await?;
            if json {
                return print_json(&level);
            }
            println!(
                "{} at {}: {} on hand, {} reserved, {} available",
                level.sku,
                level.warehouse,
                level.on_hand,
                level.reserved,
                level.available_to_promise
            );
            Ok(())
        }
        Some(StockCommand::Movements {
            sku,
            warehouse,
            limit,
            json,
        }) => {
            let list = app
                .read(move |c| stock::movements(c, sku.as_deref(), warehouse.as_deref(), limit))
                .await?;
            if json {
                return print_json(&list);
            }
            for m in &list {
                println!(
                    "{:>8} {}  {:<20} {:<8} {:>+7} {:<10} {} {}",
                    m.seq,
                    m.occurred_at,
                    m.sku,
                    m.warehouse,
                    m.quantity,
                    m.kind,
                    m.actor.as_deref().unwrap_or("-"),
                    m.reason
                        .as_deref()
                        .or(m.document_id.as_deref())
                        .unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

/// `o2c import stock FILE`: a receipt file, every line or none.
pub async fn import_stock(
    database: &str,
    file: &Path,
    reference: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let app = open(database)?;
    let summary = app
        .write(cli_actor(), move |c, ctx| {
            stock::import_receipts_in_tx(c, ctx, &text, reference.as_deref())
        })
        .await
        .with_context(|| format!("{} was not imported", file.display()))?;
    if json {
        return print_json(&summary);
    }
    println!(
        "{} line(s), {} unit(s) received",
        summary.lines, summary.quantity
    );
    for l in &summary.received {
        println!(
            "  {} at {}: {} on hand, {} available",
            l.sku, l.warehouse, l.on_hand, l.available_to_promise
        );
    }
    Ok(())
}
