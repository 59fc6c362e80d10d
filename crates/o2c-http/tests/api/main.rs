//! API tests: the real application on port 0 with a fresh database, driven over HTTP.
//! Every scenario runs on SQLite, and on PostgreSQL when `O2C_TEST_DATABASE_URL` is set.

mod helpers;

mod access;
mod billing;
mod branches;
mod cash;
mod concurrency;
mod credit;
mod cycle;
mod delivery;
mod email;
mod errors;
mod fulfilment;
mod fx;
mod intake;
mod intake_shared;
mod inventory;
mod psp;
mod receivable;
mod receivable_disputes;
mod receivable_dunning;
mod shipping;
mod webhooks;
mod webhooks_tls;
