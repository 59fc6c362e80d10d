//! Renders an `o2c_core::document::InvoiceDocument` as an EN 16931 UBL 2.1 e-invoice (`ubl`)
//! or as a PDF for people (`pdf`). Every amount comes computed and checked from the core.

pub mod fixtures;
pub mod letter;
pub mod pain008;
pub mod pdf;
pub mod ubl;
