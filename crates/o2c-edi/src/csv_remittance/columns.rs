//! The columns a CSV remittance file may have, found by their header names.
//!
//! Header names are compared case-insensitively and without spaces, underscores or punctuation,
//! so `Invoice #`, `invoice_no` and `INVOICE NO.` are the same column. Columns with other names
//! are ignored.

use crate::error::EdiError;

/// A column this reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    PaymentReference,
    Payer,
    PayerId,
    PaymentDate,
    PaymentMethod,
    PaymentAmount,
    Currency,
    InvoiceNumber,
    InvoiceAmount,
    AmountPaid,
    Discount,
    DeductionAmount,
    DeductionReason,
}

/// Each column, its canonical name (used in errors) and the header names accepted for it.
const COLUMNS: &[(Column, &str, &[&str])] = &[
    (
        Column::PaymentReference,
        "payment_reference",
        &[
            "payment reference",
            "payment ref",
            "payment id",
            "payment number",
            "payment no",
            "reference",
            "ref",
            "trace number",
            "check number",
            "check no",
            "cheque number",
            "cheque no",
            "remittance id",
            "remittance reference",
        ],
    ),
    (
        Column::Payer,
        "payer",
        &[
            "payer",
            "payer name",
            "payor",
            "payor name",
            "customer",
            "customer name",
            "remitter",
        ],
    ),
    (
        Column::PayerId,
        "payer_id",
        &[
            "payer id",
            "payor id",
            "customer id",
            "customer number",
            "customer no",
            "account number",
        ],
    ),
    (
        Column::PaymentDate,
        "payment_date",
        &[
            "payment date",
            "date",
            "value date",
            "effective date",
            "paid on",
            "check date",
        ],
    ),
    (
        Column::PaymentMethod,
        "payment_method",
        &["payment method", "method", "payment type"],
    ),
    (
        Column::PaymentAmount,
        "payment_amount",
        &[
            "payment amount",
            "payment total",
            "total payment",
            "check amount",
            "cheque amount",
        ],
    ),
    (
        Column::Currency,
        "currency",
        &["currency", "currency code", "ccy", "cur"],
    ),
    (
        Column::InvoiceNumber,
        "invoice_number",
        &[
            "invoice number",
            "invoice",
            "invoice no",
            "invoice id",
            "invoice reference",
            "invoice ref",
            "document number",
            "inv no",
            "inv",
        ],
    ),
    (
        Column::InvoiceAmount,
        "invoice_amount",
        &[
            "invoice amount",
            "invoice total",
            "original amount",
            "gross amount",
            "amount due",
        ],
    ),
    (
        Column::AmountPaid,
        "amount_paid",
        &[
            "amount paid",
            "paid amount",
            "paid",
            "amount",
            "amount applied",
            "applied amount",
            "net paid",
            "net amount",
        ],
    ),
    (
        Column::Discount,
        "discount",
        &[
            "discount",
            "discount amount",
            "discount taken",
            "cash discount",
        ],
    ),
    (
        Column::DeductionAmount,
        "deduction_amount",
        &[
            "deduction amount",
            "deduction",
            "deductions",
            "short pay",
            "short payment",
            "adjustment amount",
            "adjustment",
        ],
    ),
    (
        Column::DeductionReason,
        "deduction_reason",
        &[
            "deduction reason",
            "deduction code",
            "deduction reason code",
            "reason",
            "reason code",
            "adjustment reason",
            "adjustment reason code",
        ],
    ),
];

const REQUIRED: [Column; 3] = [
    Column::PaymentReference,
    Column::InvoiceNumber,
    Column::AmountPaid,
];

/// Lower case, letters and digits only.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Column {
    /// The canonical name, as errors show it.
    pub(super) fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(c, _, _)| *c == self)
            .map_or("?", |(_, name, _)| name)
    }

    fn recognise(header: &str) -> Option<Column> {
        let wanted = normalise(header);
        COLUMNS
            .iter()
            .find(|(_, _, aliases)| aliases.iter().any(|a| normalise(a) == wanted))
            .map(|(column, _, _)| *column)
    }
}

/// Which field of a record holds which column.
#[derive(Debug)]
pub(super) struct Layout {
    indices: Vec<(Column, usize)>,
    /// Number of header fields.
    pub width: usize,
}

impl Layout {
    /// Maps the header row; refuses a missing required column or one named twice.
    pub(super) fn from_header(header: &[String]) -> Result<Layout, EdiError> {
        let mut indices: Vec<(Column, usize)> = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let Some(column) = Column::recognise(name) else {
                continue;
            };
            if let Some(&(_, first)) = indices.iter().find(|(c, _)| *c == column) {
                return Err(EdiError::DuplicateColumn {
                    column: column.name(),
                    first: header[first].clone(),
                    second: name.clone(),
                });
            }
            indices.push((column, i));
        }
        for required in REQUIRED {
            if !indices.iter().any(|(c, _)| *c == required) {
                let accepted = COLUMNS
                    .iter()
                    .find(|(c, _, _)| *c == required)
                    .map(|(_, _, aliases)| aliases.join(", "))
                    .unwrap_or_default();
                return Err(EdiError::MissingColumn {
                    column: required.name(),
                    accepted,
                    found: header.join(", "),
                });
            }
        }
        Ok(Layout {
            indices,
            width: header.len(),
        })
    }

    /// The trimmed value of `column` in `fields`; `None` when the file has no such column or
    /// the cell is blank.
    pub(super) fn get<'f>(&self, fields: &'f [String], column: Column) -> Option<&'f str> {
        let &(_, i) = self.indices.iter().find(|(c, _)| *c == column)?;
        fields.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn header_names_match_whatever_their_case_and_punctuation() {
        let layout =
            Layout::from_header(&header(&["Check No.", "Notes", "INVOICE #", "Amount_Paid"]))
                .unwrap();
        let row = header(&["CHK-1", "n/a", " 4711 ", "10.00"]);
        assert_eq!(layout.get(&row, Column::PaymentReference), Some("CHK-1"));
        assert_eq!(layout.get(&row, Column::InvoiceNumber), Some("4711"));
        assert_eq!(layout.get(&row, Column::Discount), None);
    }

    #[test]
    fn a_missing_or_doubled_column_is_refused() {
        let err = Layout::from_header(&header(&["payment ref", "invoice"])).unwrap_err();
        assert!(
            err.to_string().starts_with("the header row has no amount_paid column (accepted names: amount paid, paid amount,"),
            "{err}"
        );
        let err =
            Layout::from_header(&header(&["ref", "invoice", "amount", "Amount Paid"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the header row names the amount_paid column twice: `amount` and `Amount Paid`"
        );
    }
}
