//! One schema for both engines. The types are the common subset: BIGINT for integers and
//! money (minor units), TEXT for ids, codes, dates (ISO 8601) and JSON. The only dialect
//! difference is the auto-numbered sequence column, spelled `{seq}` below.

use crate::sql::{Conn, DbError, Dialect};

mod receivables;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", FOUNDATION),
    (2, "credit management", CREDIT),
    (3, "partial shipment index", PARTIAL_SHIPMENT_INDEX),
    (4, "requested delivery date", REQUESTED_DELIVERY),
    (5, "invoicing", INVOICING),
    (6, "fx", FX),
    (7, "cash application", CASH_APPLICATION),
    (8, "payment capture", PAYMENT_CAPTURE),
    (9, "collection settlement", COLLECTION_SETTLEMENT),
    (10, "order intake", ORDER_INTAKE),
    (11, "webhooks", WEBHOOKS),
    (12, "receivables", receivables::SQL),
    (13, "web", WEB),
    (14, "fulfilment", FULFILMENT),
    (15, "psp payouts", PSP_PAYOUTS),
];

const FOUNDATION: &str = r#"
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    currency TEXT NOT NULL,
    payment_terms_days BIGINT NOT NULL,
    credit_limit_minor BIGINT NOT NULL,
    billing_address TEXT,
    shipping_address TEXT,
    -- Kept current as documents change, so a credit decision never scans (exposure).
    open_receivables_minor BIGINT NOT NULL DEFAULT 0,
    open_orders_minor BIGINT NOT NULL DEFAULT 0,
    unapplied_cash_minor BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE warehouses (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    priority BIGINT NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    tax_category TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE stock (
    product_id TEXT NOT NULL REFERENCES products(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    PRIMARY KEY (product_id, warehouse_id),
    -- The last line of defence against overselling.
    CHECK (reserved >= 0 AND reserved <= on_hand)
);

CREATE TABLE stock_movements (
    seq {seq},
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    kind TEXT NOT NULL,
    document_id TEXT,
    occurred_at TEXT NOT NULL
);

CREATE TABLE tax_rates (
    category TEXT NOT NULL,
    country TEXT NOT NULL,
    rate_bp BIGINT NOT NULL,
    PRIMARY KEY (category, country)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    customer_reference TEXT,
    ship_to TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    gross_minor BIGINT NOT NULL,
    -- Approved value not yet invoiced: this order's share of the customer's open-order exposure.
    uninvoiced_minor BIGINT NOT NULL DEFAULT 0,
    touched_by_person BIGINT NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX orders_by_customer ON orders (customer_id);
CREATE INDEX orders_by_status ON orders (status);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_category TEXT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    allocated BIGINT NOT NULL DEFAULT 0,
    shipped BIGINT NOT NULL DEFAULT 0,
    invoiced BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no)
);

-- First come, first served: the queue of lines waiting for stock.
CREATE TABLE backorders (
    seq {seq},
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    customer_id TEXT NOT NULL
);
CREATE INDEX backorders_by_product ON backorders (product_id, seq);
CREATE UNIQUE INDEX backorders_one_per_line ON backorders (order_id, line_no);

CREATE TABLE credit_decisions (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    rule TEXT NOT NULL,
    exposure_minor BIGINT NOT NULL,
    limit_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    comment TEXT,
    decided_at TEXT NOT NULL
);
CREATE INDEX credit_decisions_by_order ON credit_decisions (order_id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    customer_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    dispatched_at TEXT
);
CREATE INDEX shipments_by_order ON shipments (order_id);
CREATE INDEX shipments_planned ON shipments (status, created_at);

-- Stock held for an order line in one warehouse; the shipment that will carry it.
CREATE TABLE reservations (
    seq {seq},
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    status TEXT NOT NULL,
    shipment_id TEXT
);
CREATE INDEX reservations_by_order ON reservations (order_id);
CREATE INDEX reservations_by_shipment ON reservations (shipment_id);

CREATE TABLE invoice_series (
    series TEXT NOT NULL,
    year BIGINT NOT NULL,
    next_number BIGINT NOT NULL,
    PRIMARY KEY (series, year)
);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id TEXT NOT NULL,
    shipment_id TEXT,
    currency TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    gross_minor BIGINT NOT NULL,
    open_minor BIGINT NOT NULL,
    payment_status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (open_minor >= 0 AND open_minor <= gross_minor)
);
CREATE INDEX invoices_by_order ON invoices (order_id);
CREATE INDEX invoices_open_by_customer ON invoices (customer_id, due_on, number) WHERE open_minor > 0;
CREATE UNIQUE INDEX invoices_one_per_shipment ON invoices (shipment_id);

CREATE TABLE invoice_lines (
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    line_no BIGINT NOT NULL,
    order_line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    net_minor BIGINT NOT NULL,
    tax_category TEXT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE invoice_taxes (
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    category TEXT NOT NULL,
    rate_bp BIGINT NOT NULL,
    taxable_minor BIGINT NOT NULL,
    tax_minor BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, category, rate_bp)
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    reference TEXT,
    received_on TEXT NOT NULL,
    unapplied_minor BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (unapplied_minor >= 0 AND unapplied_minor <= amount_minor)
);
CREATE INDEX payments_unapplied_by_customer ON payments (customer_id, created_at) WHERE unapplied_minor > 0;

CREATE TABLE payment_applications (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    customer_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    CHECK (amount_minor > 0)
);
CREATE INDEX applications_by_invoice ON payment_applications (invoice_id);
CREATE INDEX applications_by_payment ON payment_applications (payment_id);

CREATE TABLE journal_entries (
    id TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    document_id TEXT NOT NULL,
    customer_id TEXT,
    currency TEXT NOT NULL,
    posted_at TEXT NOT NULL
);
CREATE INDEX journal_entries_by_document ON journal_entries (document_id);

CREATE TABLE journal_lines (
    entry_id TEXT NOT NULL REFERENCES journal_entries(id),
    line_no BIGINT NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);
CREATE INDEX journal_lines_by_account ON journal_lines (account, currency, amount_minor);

-- The audit trail: append-only, one row per event, written in the same transaction as the
-- state change it describes.
CREATE TABLE events (
    seq {seq},
    id TEXT NOT NULL UNIQUE,
    occurred_at TEXT NOT NULL,
    type TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    order_id TEXT,
    customer_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_by_order ON events (order_id, seq);
CREATE INDEX events_by_aggregate ON events (aggregate_id, seq);

-- The transactional outbox: events some automation still has to react to.
CREATE TABLE outbox (
    event_seq BIGINT PRIMARY KEY,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

INSERT INTO tax_rates (category, country, rate_bp) VALUES
    ('standard', '*', 2000), ('reduced', '*', 1000), ('zero', '*', 0),
    ('standard', 'DE', 1900), ('reduced', 'DE', 700), ('zero', 'DE', 0),
    ('standard', 'AT', 2000), ('reduced', 'AT', 1000),
    ('standard', 'FR', 2000), ('reduced', 'FR', 550),
    ('standard', 'NL', 2100), ('reduced', 'NL', 900),
    ('standard', 'BE', 2100), ('reduced', 'BE', 600),
    ('standard', 'IT', 2200), ('reduced', 'IT', 1000),
    ('standard', 'ES', 2100), ('reduced', 'ES', 1000),
    ('standard', 'GB', 2000), ('reduced', 'GB', 500),
    ('standard', 'CH', 810), ('reduced', 'CH', 260),
    ('standard', 'US', 0), ('reduced', 'US', 0);
"#;

const CREDIT: &str = r#"
ALTER TABLE customers ADD COLUMN risk_class TEXT NOT NULL DEFAULT 'low';
ALTER TABLE customers ADD COLUMN credit_blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN next_review_on TEXT;
ALTER TABLE customers ADD COLUMN credit_group_id TEXT;
-- Approved orders so far and their value: the customer's usual order size.
ALTER TABLE customers ADD COLUMN orders_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN orders_gross_minor BIGINT NOT NULL DEFAULT 0;
CREATE INDEX customers_by_credit_group ON customers (credit_group_id);
-- Whether the order already counts in its customer's usual order size.
ALTER TABLE orders ADD COLUMN credit_counted BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_by_customer_status ON orders (customer_id, status);

-- A parent company and its subsidiaries share one limit and one exposure.
CREATE TABLE credit_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    credit_limit_minor BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- Every version of the credit rules; decisions name the version they used.
CREATE TABLE credit_policies (
    version BIGINT PRIMARY KEY,
    policy TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Paid invoices per customer and month, weighted by amount: the payment score without a scan.
CREATE TABLE payment_behaviour (
    customer_id TEXT NOT NULL,
    month TEXT NOT NULL,
    invoices_paid BIGINT NOT NULL,
    paid_minor BIGINT NOT NULL,
    late_days_x_minor BIGINT NOT NULL,
    PRIMARY KEY (customer_id, month)
);

ALTER TABLE credit_decisions ADD COLUMN policy_version BIGINT;
ALTER TABLE credit_decisions ADD COLUMN fired TEXT;
ALTER TABLE credit_decisions ADD COLUMN fast_path BIGINT NOT NULL DEFAULT 0;

CREATE TABLE credit_applications (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    name TEXT NOT NULL,
    request TEXT NOT NULL,
    requested_limit_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    evaluation TEXT NOT NULL,
    customer_id TEXT,
    decided_by TEXT,
    comment TEXT,
    created_at TEXT NOT NULL,
    decided_at TEXT
);
CREATE INDEX credit_applications_by_status ON credit_applications (status, created_at);
"#;

/// Only planned reservations carry a shipment; without statistics (a fresh database, or
/// PostgreSQL with autovacuum off) a full index on `shipment_id` was combined into `shipment_id IS
/// NULL` lookups by order and made shipment planning scan every unplanned reservation.
const PARTIAL_SHIPMENT_INDEX: &str = "
DROP INDEX reservations_by_shipment;
CREATE INDEX reservations_by_shipment ON reservations (shipment_id) WHERE shipment_id IS NOT NULL;
";

/// Orders may name a delivery date; credit can count only orders due within a horizon.
const REQUESTED_DELIVERY: &str = "
ALTER TABLE orders ADD COLUMN requested_delivery_on TEXT;
CREATE INDEX orders_open_by_customer ON orders (customer_id) WHERE uninvoiced_minor > 0;
";

/// Billing policies, price lists, the tax engine with validity dates, credit notes, document
/// allowances and charges, consolidated invoices and invoice delivery.
/// Bank statements and their lines, the matcher's decisions, payers learned from matches,
/// deductions taken by customers, early-payment discount terms.
const CASH_APPLICATION: &str = "
CREATE TABLE bank_accounts (
    id TEXT PRIMARY KEY,
    account_key TEXT NOT NULL UNIQUE,
    iban TEXT,
    other_id TEXT,
    name TEXT,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE bank_statements (
    id TEXT PRIMARY KEY,
    bank_account_id TEXT NOT NULL REFERENCES bank_accounts(id),
    format TEXT NOT NULL,
    message_id TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    opening_minor BIGINT,
    closing_minor BIGINT,
    closing_on TEXT,
    file_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    warnings TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    UNIQUE (bank_account_id, message_id, statement_id)
);
CREATE TABLE bank_transactions (
    id TEXT PRIMARY KEY,
    statement_id TEXT NOT NULL REFERENCES bank_statements(id),
    bank_account_id TEXT NOT NULL REFERENCES bank_accounts(id),
    entry_no BIGINT NOT NULL,
    tx_no BIGINT NOT NULL,
    direction TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    value_date TEXT NOT NULL,
    booking_date TEXT,
    counterparty_name TEXT,
    counterparty_account TEXT,
    end_to_end_id TEXT,
    bank_reference TEXT,
    remittance TEXT NOT NULL,
    structured_refs TEXT NOT NULL,
    fx_rate TEXT,
    match_status TEXT NOT NULL,
    customer_id TEXT,
    payment_id TEXT,
    score BIGINT,
    evidence TEXT,
    reason TEXT,
    suggestions TEXT,
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (statement_id, entry_no, tx_no)
);
CREATE INDEX bank_transactions_by_status ON bank_transactions (match_status, value_date);
CREATE INDEX bank_transactions_by_reference ON bank_transactions (bank_account_id, bank_reference) WHERE bank_reference IS NOT NULL;
CREATE TABLE payer_accounts (
    account TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    learned_from TEXT NOT NULL,
    learned_by TEXT NOT NULL,
    learned_at TEXT NOT NULL
);
CREATE INDEX payer_accounts_by_customer ON payer_accounts (customer_id);
CREATE TABLE deductions (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    bank_transaction_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX deductions_by_invoice ON deductions (invoice_id);
CREATE TABLE remittance_advices (
    id TEXT PRIMARY KEY,
    advice_key TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    payer_name TEXT,
    payer_id TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    effective_date TEXT,
    trace_number TEXT,
    invoice_numbers TEXT NOT NULL,
    items TEXT NOT NULL,
    status TEXT NOT NULL,
    bank_transaction_id TEXT,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX remittance_advices_open ON remittance_advices (currency, amount_minor) WHERE status = 'open';
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    message_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_customer ON notifications (customer_id, created_at);
ALTER TABLE payments ADD COLUMN apply_rule TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE payments ADD COLUMN bank_transaction_id TEXT;
CREATE UNIQUE INDEX payments_by_bank_transaction ON payments (bank_transaction_id) WHERE bank_transaction_id IS NOT NULL;
ALTER TABLE customers ADD COLUMN early_discount_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN early_discount_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN discount_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN discount_until TEXT;
ALTER TABLE invoices ADD COLUMN discount_taken_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN written_off_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN match_refs TEXT;
CREATE INDEX invoices_open_without_match_refs ON invoices (id) WHERE match_refs IS NULL AND open_minor > 0;
";

/// The bank line that brought a direct-debit collection's money in.
const COLLECTION_SETTLEMENT: &str = "
ALTER TABLE sepa_collections ADD COLUMN settled_by_line TEXT;
";

/// Exchange rates by date and the functional-currency side of every posting. Lines written
/// before this migration were all in the functional currency (o2c had no rates), so their
/// functional amount is their amount.
const FX: &str = "
CREATE TABLE fx_rates (
    base TEXT NOT NULL,
    currency TEXT NOT NULL,
    rate_date TEXT NOT NULL,
    rate TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (base, currency, rate_date)
);
ALTER TABLE invoices ADD COLUMN fx_rate TEXT;
ALTER TABLE payments ADD COLUMN fx_rate TEXT;
ALTER TABLE journal_entries ADD COLUMN functional_currency TEXT;
ALTER TABLE journal_entries ADD COLUMN fx_rate TEXT;
ALTER TABLE journal_lines ADD COLUMN functional_minor BIGINT;
UPDATE journal_lines SET functional_minor = amount_minor;
UPDATE journal_entries SET functional_currency = currency;
";

const INVOICING: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

ALTER TABLE customers ADD COLUMN vat_id TEXT;
ALTER TABLE customers ADD COLUMN billing_email TEXT;
-- NULL: the company default (settings 'billing').
ALTER TABLE customers ADD COLUMN billing_policy TEXT;
ALTER TABLE customers ADD COLUMN invoice_discount_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN price_list_id TEXT;
-- auto (from the ship-to country and VAT id), domestic, reverse_charge or export.
ALTER TABLE customers ADD COLUMN tax_treatment TEXT NOT NULL DEFAULT 'auto';

-- Rates by category, country and optional region, each valid from a date (to a date).
CREATE TABLE tax_rate_periods (
    category TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    rate_bp BIGINT NOT NULL,
    exemption_reason TEXT,
    exemption_code TEXT,
    PRIMARY KEY (category, country, region, valid_from)
);
INSERT INTO tax_rate_periods (category, country, region, valid_from, rate_bp)
    SELECT category, country, '', '2000-01-01', rate_bp FROM tax_rates;
-- A taxable sale to a country without its own rate is an error to fix, not a guess.
DELETE FROM tax_rate_periods WHERE country = '*' AND category IN ('standard', 'reduced');
INSERT INTO tax_rate_periods (category, country, region, valid_from, rate_bp, exemption_reason, exemption_code) VALUES
    ('exempt', '*', '', '2000-01-01', 0, 'Exempt from VAT', 'VATEX-EU-132'),
    ('reverse_charge', '*', '', '2000-01-01', 0, 'Reverse charge', 'VATEX-EU-AE'),
    ('export', '*', '', '2000-01-01', 0, 'Export outside the EU', 'VATEX-EU-G'),
    ('intra_community', '*', '', '2000-01-01', 0, 'Intra-community supply', 'VATEX-EU-IC');
DROP TABLE tax_rates;

CREATE TABLE price_lists (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    prices_include_tax BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE price_list_items (
    price_list_id TEXT NOT NULL REFERENCES price_lists(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    unit_price_minor BIGINT NOT NULL,
    PRIMARY KEY (price_list_id, product_id)
);
CREATE TABLE customer_prices (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    currency TEXT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    discount_bp BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, product_id)
);

ALTER TABLE order_lines ADD COLUMN discount_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD COLUMN list_unit_price_minor BIGINT;
ALTER TABLE orders ADD COLUMN freight_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN freight_invoiced BIGINT NOT NULL DEFAULT 0;

ALTER TABLE invoices ADD COLUMN kind TEXT NOT NULL DEFAULT 'invoice';
ALTER TABLE invoices ADD COLUMN corrects_invoice_id TEXT;
ALTER TABLE invoices ADD COLUMN payment_reference TEXT;
ALTER TABLE invoices ADD COLUMN line_net_minor BIGINT;
ALTER TABLE invoices ADD COLUMN allowances_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN charges_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN credited_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN billing_policy TEXT NOT NULL DEFAULT 'per_shipment';
ALTER TABLE invoices ADD COLUMN note TEXT;
CREATE INDEX invoices_by_corrected ON invoices (corrects_invoice_id) WHERE corrects_invoice_id IS NOT NULL;

ALTER TABLE invoice_lines ADD COLUMN order_id TEXT;
ALTER TABLE invoice_lines ADD COLUMN shipment_id TEXT;
ALTER TABLE invoice_lines ADD COLUMN discount_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_taxes ADD COLUMN exemption_reason TEXT;
ALTER TABLE invoice_taxes ADD COLUMN exemption_code TEXT;

CREATE TABLE invoice_allowances (
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    seq BIGINT NOT NULL,
    is_charge BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    base_minor BIGINT,
    percent_bp BIGINT,
    reason TEXT NOT NULL,
    reason_code TEXT,
    tax_category TEXT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);

-- The orders an invoice bills (several for a consolidated invoice).
CREATE TABLE invoice_orders (
    invoice_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (invoice_id, order_id)
);
CREATE INDEX invoice_orders_by_order ON invoice_orders (order_id);
INSERT INTO invoice_orders (invoice_id, order_id) SELECT id, order_id FROM invoices;

-- A dispatched shipment is billed exactly once: the invoice that billed it.
ALTER TABLE shipments ADD COLUMN invoice_id TEXT;
UPDATE shipments SET invoice_id = (SELECT i.id FROM invoices i WHERE i.shipment_id = shipments.id);
CREATE INDEX shipments_unbilled ON shipments (customer_id, dispatched_at) WHERE invoice_id IS NULL AND dispatched_at IS NOT NULL;

-- Each issued document is delivered once per channel; attempts and outcome are kept.
CREATE TABLE invoice_deliveries (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (invoice_id, channel)
);
CREATE INDEX invoice_deliveries_due ON invoice_deliveries (next_attempt_at) WHERE status = 'pending';
";

/// Customers' payment methods (provider tokens only, never card numbers) and SEPA mandates,
/// hosted checkout sessions and the provider webhooks received (once each), SEPA collection
/// files and their debits, returns and refunds.
const PAYMENT_CAPTURE: &str = "
CREATE TABLE payment_methods (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    provider TEXT,
    token TEXT,
    brand TEXT,
    last4 TEXT,
    wallet TEXT,
    mandate_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, position)
);
CREATE TABLE sepa_mandates (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    mandate_id TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    debtor_name TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    scheme TEXT NOT NULL,
    -- FRST until the first collection, RCUR after it.
    sequence_type TEXT NOT NULL,
    -- active, inactive (no longer among the customer's methods), revoked (a return said so).
    status TEXT NOT NULL,
    status_reason TEXT,
    last_collected_on TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mandate_id)
);
CREATE INDEX sepa_mandates_active ON sepa_mandates (customer_id) WHERE status = 'active';
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_session_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    invoice_ids TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    redirect_url TEXT NOT NULL,
    payment_id TEXT,
    provider_reference TEXT,
    failure_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (provider, provider_session_id)
);
CREATE INDEX checkout_sessions_by_customer ON checkout_sessions (customer_id, created_at);
-- One row per provider event: a replayed webhook finds its row and books nothing.
CREATE TABLE psp_webhook_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    session_id TEXT,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
ALTER TABLE payments ADD COLUMN provider TEXT;
ALTER TABLE payments ADD COLUMN provider_reference TEXT;
ALTER TABLE payments ADD COLUMN fee_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN returned_at TEXT;
ALTER TABLE payments ADD COLUMN return_id TEXT;
ALTER TABLE payment_applications ADD COLUMN reversed_by TEXT;
CREATE TABLE sepa_collections (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    scheme TEXT NOT NULL,
    cutoff_on TEXT NOT NULL,
    collection_date TEXT NOT NULL,
    debit_count BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    file TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE sepa_debits (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES sepa_collections(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    mandate_id TEXT NOT NULL,
    sequence_type TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    return_reason TEXT
);
-- An invoice is collected by direct debit once; after a return it is paid by transfer.
CREATE UNIQUE INDEX sepa_debits_one_per_invoice ON sepa_debits (invoice_id);
CREATE INDEX sepa_debits_by_collection ON sepa_debits (collection_id);
CREATE TABLE payment_returns (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reopened_invoice_ids TEXT NOT NULL,
    returned_by TEXT NOT NULL,
    returned_at TEXT NOT NULL
);
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    refunded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- The payments a refund took its money from, and how each part went back.
CREATE TABLE refund_parts (
    refund_id TEXT NOT NULL REFERENCES refunds(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount_minor BIGINT NOT NULL,
    route TEXT NOT NULL,
    provider TEXT,
    provider_refund_id TEXT,
    PRIMARY KEY (refund_id, payment_id)
);
";

/// Order intake from files and EDI: each document kept as received (raw text, or base64 when it
/// is not UTF-8) with what became of it; the POs it ordered; the partner ids and item numbers
/// customers use. A document's dedupe key (channel, sender, interchange control number, or the
/// file's hash) is unique among ordered documents, so a re-sent one is recognised however
/// often it comes; `intake_orders` keeps one order per customer and PO number.
const ORDER_INTAKE: &str = "
CREATE TABLE intake_documents (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    sender TEXT,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    content TEXT NOT NULL,
    content_encoding TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    duplicate_of TEXT,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    orders TEXT NOT NULL,
    acknowledgment TEXT,
    acknowledgment_note TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    processed_at TEXT,
    processed_by TEXT
);
CREATE UNIQUE INDEX intake_documents_ordered_once ON intake_documents (dedupe_key) WHERE status = 'ordered';
CREATE INDEX intake_documents_by_key ON intake_documents (dedupe_key);
CREATE INDEX intake_documents_by_status ON intake_documents (status, received_at);
CREATE TABLE intake_orders (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    po_number TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    document_id TEXT NOT NULL REFERENCES intake_documents(id),
    PRIMARY KEY (customer_id, po_number)
);
CREATE INDEX intake_orders_by_document ON intake_orders (document_id);
CREATE INDEX orders_by_customer_reference ON orders (customer_id, customer_reference);
CREATE TABLE customer_partners (
    qualifier TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, qualifier)
);
CREATE INDEX customer_partners_by_customer ON customer_partners (customer_id);
CREATE TABLE customer_items (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    item_number TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, item_number, kind)
);
CREATE TABLE edi_control_numbers (
    name TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);
";

// Outgoing webhooks. `last_seq` is each endpoint's cursor into `events`: the fan-out reads past
// it, so no event writer knows about webhooks.
const WEBHOOKS: &str = "
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_seq BIGINT NOT NULL REFERENCES events(seq),
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    delivered_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
";

/// A provider's payouts: the captured payments (less their fees) and card refunds it settled
/// in one bank transfer, and the bank line that brought the money; the return reason the bank
/// gives on a returned payment's line.
const PSP_PAYOUTS: &str = "
CREATE TABLE psp_payouts (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    payout_ref TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    arrives_on TEXT,
    charges BIGINT NOT NULL,
    refunds BIGINT NOT NULL,
    settled_by_line TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (provider, payout_ref)
);
CREATE INDEX psp_payouts_open ON psp_payouts (currency, amount_minor) WHERE settled_by_line IS NULL;
ALTER TABLE payments ADD COLUMN payout_id TEXT;
ALTER TABLE refund_parts ADD COLUMN payout_id TEXT;
ALTER TABLE bank_transactions ADD COLUMN return_reason TEXT;
CREATE INDEX payments_by_provider_reference ON payments (provider, provider_reference);
";

// Warehouses get a location (nearest to the ship-to, shipping zones), products a weight, the
// stock movements their reason and actor (the journal of receipts, adjustments and dispatches).
const FULFILMENT: &str = "
ALTER TABLE warehouses ADD COLUMN country TEXT;
ALTER TABLE warehouses ADD COLUMN postal_code TEXT;
ALTER TABLE products ADD COLUMN weight_g BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stock_movements ADD COLUMN reason TEXT;
ALTER TABLE stock_movements ADD COLUMN actor TEXT;
CREATE INDEX stock_movements_by_product ON stock_movements (product_id, warehouse_id, seq);

-- Fulfilment: pick lists batch a warehouse's open shipments; packages carry weighed lines.
CREATE TABLE pick_lists (
    id TEXT PRIMARY KEY,
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
ALTER TABLE shipments ADD COLUMN pick_list_id TEXT;
CREATE INDEX shipments_by_pick_list ON shipments (pick_list_id) WHERE pick_list_id IS NOT NULL;
CREATE INDEX shipments_open_by_warehouse ON shipments (warehouse_id, status, created_at);
CREATE TABLE packages (
    id TEXT PRIMARY KEY,
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    customer_id TEXT NOT NULL,
    weight_g BIGINT NOT NULL,
    tracking_number TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX packages_by_shipment ON packages (shipment_id);
CREATE TABLE package_lines (
    package_id TEXT NOT NULL REFERENCES packages(id),
    line_no BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (package_id, line_no)
);
-- EDI sent: the 856 on dispatch, the 810 on invoicing, for orders that came by X12 850.
CREATE TABLE outbound_documents (
    id TEXT PRIMARY KEY,
    -- `x12-856:<shipment>` or `x12-810:<invoice>:<order>`: each is sent once.
    document_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    shipment_id TEXT,
    invoice_id TEXT,
    control_number BIGINT,
    content TEXT,
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX outbound_documents_by_order ON outbound_documents (order_id);
-- Dispatch and invoicing ask whether an order came by X12: by order id, not the (customer, PO) key.
CREATE INDEX intake_orders_by_order ON intake_orders (order_id);

-- Shipping: carriers, their services, rates by zone and weight band; the service chosen for
-- each shipment, its freight cost, tracking and delivery.
CREATE TABLE carriers (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scac TEXT,
    webhook_secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE carrier_services (
    id TEXT PRIMARY KEY,
    carrier_id TEXT NOT NULL REFERENCES carriers(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    transit_days BIGINT NOT NULL,
    currency TEXT NOT NULL,
    UNIQUE (carrier_id, code)
);
CREATE TABLE carrier_rates (
    service_id TEXT NOT NULL REFERENCES carrier_services(id),
    zone BIGINT NOT NULL,
    max_weight_g BIGINT NOT NULL,
    price_minor BIGINT NOT NULL,
    PRIMARY KEY (service_id, zone, max_weight_g)
);
CREATE TABLE carrier_webhook_events (
    carrier_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (carrier_id, event_id)
);
ALTER TABLE shipments ADD COLUMN service_id TEXT;
ALTER TABLE shipments ADD COLUMN service_chosen_by TEXT;
ALTER TABLE shipments ADD COLUMN freight_minor BIGINT;
ALTER TABLE shipments ADD COLUMN freight_currency TEXT;
ALTER TABLE shipments ADD COLUMN weight_g BIGINT;
ALTER TABLE shipments ADD COLUMN tracking_number TEXT;
ALTER TABLE shipments ADD COLUMN estimated_delivery_on TEXT;
ALTER TABLE shipments ADD COLUMN delivered_at TEXT;
CREATE INDEX shipments_by_tracking ON shipments (tracking_number) WHERE tracking_number IS NOT NULL;
";

// The pages: users (staff with a role, or a customer's portal user), sessions and one-time
// sign-in links kept as SHA-256 of their token, and failed sign-ins per account and address.
const WEB: &str = "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    customer_id TEXT REFERENCES customers(id),
    password_hash TEXT,
    active BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    CHECK ((role = 'portal') = (customer_id IS NOT NULL))
);
CREATE INDEX users_by_customer ON users (customer_id);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
CREATE TABLE sign_in_links (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE TABLE sign_in_throttle (
    account TEXT NOT NULL,
    ip TEXT NOT NULL,
    failures BIGINT NOT NULL,
    first_failed_at TEXT NOT NULL,
    PRIMARY KEY (account, ip)
);
-- What the dashboard and the document pages read: today's orders, the cash-in trend, aging
-- (covering, over open items only), a customer's invoices and payments newest first.
CREATE INDEX orders_by_received_at ON orders (received_at);
CREATE INDEX payments_by_received_on ON payments (received_on, currency, amount_minor);
CREATE INDEX invoices_open_aging ON invoices (currency, due_on, open_minor) WHERE open_minor > 0;
CREATE INDEX invoices_by_customer_issued ON invoices (customer_id, issued_on);
CREATE INDEX payments_by_customer_received ON payments (customer_id, received_on);
-- Customer service: inquiries (answered by the rule or waiting for a person) and the
-- one-question survey after delivery, one rating per order.
CREATE TABLE service_cases (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    user_id TEXT REFERENCES users(id),
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    reference TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    link TEXT,
    answered_by TEXT,
    created_at TEXT NOT NULL,
    answered_at TEXT
);
CREATE INDEX service_cases_by_status ON service_cases (status, created_at);
CREATE INDEX service_cases_by_customer ON service_cases (customer_id, created_at);
CREATE TABLE delivery_ratings (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    rated_at TEXT NOT NULL
);
CREATE INDEX delivery_ratings_by_time ON delivery_ratings (rated_at);
";

fn render(sql: &str, dialect: Dialect) -> String {
    let seq = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    sql.replace("{seq}", seq)
        .replace("{receivable_triggers}", receivables::triggers(dialect))
        .replace("{without_rowid}", receivables::without_rowid(dialect))
}

/// Applies the migrations not yet applied, each in its own transaction. On PostgreSQL an
/// advisory lock keeps two starting processes from migrating at once.
pub fn apply(conn: &mut dyn Conn) -> Result<(), DbError> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    for (version, name, sql) in MIGRATIONS {
        conn.batch("BEGIN")?;
        if conn.dialect() == Dialect::Postgres {
            conn.execute("SELECT pg_advisory_xact_lock(7302021)", &[])?;
        }
        let done = conn
            .query_opt(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[(*version).into()],
            )?
            .is_some();
        if !done {
            if let Err(e) = conn.batch(&render(sql, conn.dialect())) {
                let _ = conn.batch("ROLLBACK");
                return Err(DbError::Other(format!("migration {version} ({name}): {e}")));
            }
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, CURRENT_TIMESTAMP)",
                &[(*version).into(), (*name).into()],
            )?;
        }
        conn.batch("COMMIT")?;
    }
    Ok(())
}
