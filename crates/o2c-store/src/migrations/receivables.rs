//! Migration 12, receivables: the open-item aggregates behind aging, disputes, promises to pay,
//! contact notes, collection tasks, dunning (profiles, runs, notices, deliveries), write-offs and
//! statements of account.
//!
//! `receivable_open` (per customer) and `receivable_open_totals` (company-wide, striped by the
//! last character of the customer id so that concurrent writers on PostgreSQL rarely wait on the
//! same row) hold the open amount and count of open items per currency, due date and issue date.
//! Triggers on `invoices` keep them current in the same transaction as every change of
//! `open_minor`, whoever writes it (decision record 0008). Aging then sums a few rows per date
//! instead of scanning the items.

use crate::sql::Dialect;

pub const SQL: &str = "
CREATE TABLE receivable_open (
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    due_on TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    open_minor BIGINT NOT NULL,
    items BIGINT NOT NULL,
    PRIMARY KEY (customer_id, currency, due_on, issued_on)
){without_rowid};
CREATE TABLE receivable_open_totals (
    currency TEXT NOT NULL,
    due_on TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    stripe TEXT NOT NULL,
    open_minor BIGINT NOT NULL,
    items BIGINT NOT NULL,
    PRIMARY KEY (currency, due_on, issued_on, stripe)
){without_rowid};
INSERT INTO receivable_open (customer_id, currency, due_on, issued_on, open_minor, items)
    SELECT customer_id, currency, due_on, issued_on, SUM(open_minor), COUNT(*)
    FROM invoices WHERE open_minor > 0 GROUP BY customer_id, currency, due_on, issued_on;
INSERT INTO receivable_open_totals (currency, due_on, issued_on, stripe, open_minor, items)
    SELECT currency, due_on, issued_on, substr(customer_id, length(customer_id), 1), SUM(open_minor), COUNT(*)
    FROM invoices WHERE open_minor > 0
    GROUP BY currency, due_on, issued_on, substr(customer_id, length(customer_id), 1);
{receivable_triggers}

ALTER TABLE customers ADD COLUMN dunning_profile_id TEXT;
ALTER TABLE customers ADD COLUMN dunning_blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN in_collection BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE customers ADD COLUMN phone TEXT;
ALTER TABLE customers ADD COLUMN statement_schedule TEXT NOT NULL DEFAULT 'none';
ALTER TABLE invoices ADD COLUMN dunning_level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN last_dunned_on TEXT;

CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    line_no BIGINT,
    reason TEXT NOT NULL,
    description TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT,
    due_on TEXT,
    deduction_id TEXT,
    resolution TEXT,
    credit_note_id TEXT,
    resolution_note TEXT,
    raised_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT
);
CREATE INDEX disputes_open_by_invoice ON disputes (invoice_id) WHERE status IN ('open', 'under_review');
CREATE INDEX disputes_by_customer ON disputes (customer_id, created_at);
CREATE INDEX disputes_by_status ON disputes (status, created_at);
CREATE UNIQUE INDEX disputes_one_per_deduction ON disputes (deduction_id) WHERE deduction_id IS NOT NULL;

CREATE TABLE payment_promises (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    promised_on TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    paid_minor_at_promise BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX payment_promises_open ON payment_promises (promised_on) WHERE status = 'open';
CREATE INDEX payment_promises_by_customer ON payment_promises (customer_id, created_at);
CREATE TABLE payment_promise_items (
    promise_id TEXT NOT NULL REFERENCES payment_promises(id),
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    customer_id TEXT NOT NULL,
    open_minor_at_promise BIGINT NOT NULL,
    PRIMARY KEY (promise_id, invoice_id)
);
CREATE INDEX payment_promise_items_by_invoice ON payment_promise_items (invoice_id);

CREATE TABLE contact_notes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    invoice_id TEXT,
    channel TEXT NOT NULL,
    note TEXT NOT NULL,
    follow_up_on TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX contact_notes_by_customer ON contact_notes (customer_id, created_at);

CREATE TABLE collection_tasks (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    source_id TEXT,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT
);
CREATE UNIQUE INDEX collection_tasks_once ON collection_tasks (kind, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX collection_tasks_open ON collection_tasks (customer_id) WHERE status = 'open';

CREATE TABLE dunning_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    levels TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE dunning_runs (
    id TEXT PRIMARY KEY,
    run_on TEXT NOT NULL,
    notices BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX dunning_runs_once_a_day ON dunning_runs (run_on);
CREATE TABLE dunning_notices (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES dunning_runs(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    profile_id TEXT NOT NULL,
    level BIGINT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    currency TEXT NOT NULL,
    overdue_minor BIGINT NOT NULL,
    fee_minor BIGINT NOT NULL,
    interest_minor BIGINT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    waived_at TEXT,
    waived_by TEXT
);
CREATE INDEX dunning_notices_by_customer ON dunning_notices (customer_id, created_at);
CREATE TABLE dunning_notice_items (
    notice_id TEXT NOT NULL REFERENCES dunning_notices(id),
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    customer_id TEXT NOT NULL,
    level BIGINT NOT NULL,
    open_minor BIGINT NOT NULL,
    days_overdue BIGINT NOT NULL,
    interest_minor BIGINT NOT NULL,
    PRIMARY KEY (notice_id, invoice_id)
);
CREATE TABLE dunning_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES dunning_notices(id),
    customer_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    message_id TEXT NOT NULL,
    output_path TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (notice_id, channel)
);
CREATE INDEX dunning_deliveries_due ON dunning_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE write_off_limits (
    role TEXT NOT NULL,
    currency TEXT NOT NULL,
    limit_minor BIGINT NOT NULL,
    PRIMARY KEY (role, currency)
);
INSERT INTO write_off_limits (role, currency, limit_minor) VALUES
    ('receivables', 'EUR', 100000), ('receivables', 'USD', 100000), ('receivables', 'GBP', 100000),
    ('credit', 'EUR', 500000), ('credit', 'USD', 500000), ('credit', 'GBP', 500000);
CREATE TABLE write_offs (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    role TEXT NOT NULL,
    recovered_minor BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (recovered_minor >= 0 AND recovered_minor <= amount_minor)
);
CREATE INDEX write_offs_by_customer ON write_offs (customer_id, created_at);
CREATE TABLE write_off_recoveries (
    id TEXT PRIMARY KEY,
    write_off_id TEXT NOT NULL REFERENCES write_offs(id),
    customer_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE account_statements (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    period TEXT NOT NULL,
    as_of TEXT NOT NULL,
    open_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    notification_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (customer_id, period)
);
";

/// The triggers that keep the open-item aggregates current, in each engine's dialect.
pub fn triggers(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => SQLITE_TRIGGERS,
        Dialect::Postgres => POSTGRES_TRIGGERS,
    }
}

pub fn without_rowid(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => " WITHOUT ROWID",
        Dialect::Postgres => "",
    }
}

const SQLITE_TRIGGERS: &str = "
CREATE TRIGGER invoices_open_added AFTER INSERT ON invoices WHEN NEW.open_minor > 0 BEGIN
    INSERT INTO receivable_open (customer_id, currency, due_on, issued_on, open_minor, items)
        VALUES (NEW.customer_id, NEW.currency, NEW.due_on, NEW.issued_on, NEW.open_minor, 1)
        ON CONFLICT (customer_id, currency, due_on, issued_on)
        DO UPDATE SET open_minor = open_minor + excluded.open_minor, items = items + 1;
    INSERT INTO receivable_open_totals (currency, due_on, issued_on, stripe, open_minor, items)
        VALUES (NEW.currency, NEW.due_on, NEW.issued_on, substr(NEW.customer_id, length(NEW.customer_id), 1), NEW.open_minor, 1)
        ON CONFLICT (currency, due_on, issued_on, stripe)
        DO UPDATE SET open_minor = open_minor + excluded.open_minor, items = items + 1;
END;
CREATE TRIGGER invoices_open_left AFTER UPDATE OF open_minor ON invoices WHEN OLD.open_minor > 0 BEGIN
    UPDATE receivable_open SET open_minor = open_minor - OLD.open_minor, items = items - 1
        WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on;
    DELETE FROM receivable_open
        WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND items = 0;
    UPDATE receivable_open_totals SET open_minor = open_minor - OLD.open_minor, items = items - 1
        WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1);
    DELETE FROM receivable_open_totals
        WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1) AND items = 0;
END;
CREATE TRIGGER invoices_open_entered AFTER UPDATE OF open_minor ON invoices WHEN NEW.open_minor > 0 BEGIN
    INSERT INTO receivable_open (customer_id, currency, due_on, issued_on, open_minor, items)
        VALUES (NEW.customer_id, NEW.currency, NEW.due_on, NEW.issued_on, NEW.open_minor, 1)
        ON CONFLICT (customer_id, currency, due_on, issued_on)
        DO UPDATE SET open_minor = open_minor + excluded.open_minor, items = items + 1;
    INSERT INTO receivable_open_totals (currency, due_on, issued_on, stripe, open_minor, items)
        VALUES (NEW.currency, NEW.due_on, NEW.issued_on, substr(NEW.customer_id, length(NEW.customer_id), 1), NEW.open_minor, 1)
        ON CONFLICT (currency, due_on, issued_on, stripe)
        DO UPDATE SET open_minor = open_minor + excluded.open_minor, items = items + 1;
END;
CREATE TRIGGER invoices_open_removed AFTER DELETE ON invoices WHEN OLD.open_minor > 0 BEGIN
    UPDATE receivable_open SET open_minor = open_minor - OLD.open_minor, items = items - 1
        WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on;
    DELETE FROM receivable_open
        WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND items = 0;
    UPDATE receivable_open_totals SET open_minor = open_minor - OLD.open_minor, items = items - 1
        WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1);
    DELETE FROM receivable_open_totals
        WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1) AND items = 0;
END;
";

const POSTGRES_TRIGGERS: &str = "
CREATE FUNCTION receivable_open_track() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.open_minor > 0 THEN
        IF TG_OP = 'UPDATE' AND NEW.open_minor > 0 AND NEW.customer_id = OLD.customer_id
           AND NEW.currency = OLD.currency AND NEW.due_on = OLD.due_on AND NEW.issued_on = OLD.issued_on THEN
            -- The common case (a part payment): one delta, no item enters or leaves.
            UPDATE receivable_open SET open_minor = open_minor + NEW.open_minor - OLD.open_minor
                WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on;
            UPDATE receivable_open_totals SET open_minor = open_minor + NEW.open_minor - OLD.open_minor
                WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1);
            RETURN NULL;
        END IF;
        UPDATE receivable_open SET open_minor = open_minor - OLD.open_minor, items = items - 1
            WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on;
        DELETE FROM receivable_open
            WHERE customer_id = OLD.customer_id AND currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND items = 0;
        UPDATE receivable_open_totals SET open_minor = open_minor - OLD.open_minor, items = items - 1
            WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1);
        DELETE FROM receivable_open_totals
            WHERE currency = OLD.currency AND due_on = OLD.due_on AND issued_on = OLD.issued_on AND stripe = substr(OLD.customer_id, length(OLD.customer_id), 1) AND items = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.open_minor > 0 THEN
        INSERT INTO receivable_open AS r (customer_id, currency, due_on, issued_on, open_minor, items)
            VALUES (NEW.customer_id, NEW.currency, NEW.due_on, NEW.issued_on, NEW.open_minor, 1)
            ON CONFLICT (customer_id, currency, due_on, issued_on)
            DO UPDATE SET open_minor = r.open_minor + EXCLUDED.open_minor, items = r.items + 1;
        INSERT INTO receivable_open_totals AS t (currency, due_on, issued_on, stripe, open_minor, items)
            VALUES (NEW.currency, NEW.due_on, NEW.issued_on, substr(NEW.customer_id, length(NEW.customer_id), 1), NEW.open_minor, 1)
            ON CONFLICT (currency, due_on, issued_on, stripe)
            DO UPDATE SET open_minor = t.open_minor + EXCLUDED.open_minor, items = t.items + 1;
    END IF;
    RETURN NULL;
END
$body$;
CREATE TRIGGER invoices_receivable_open AFTER INSERT OR UPDATE OF open_minor OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION receivable_open_track();
";
