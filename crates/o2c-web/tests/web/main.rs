//! Page tests: the real o2c (API and pages) on port 0 with a fresh database, driven over HTTP
//! like a browser without JavaScript (cookies, forms, htmx headers); `browser` drives a real
//! headless Chromium. Each scenario runs on SQLite, and on PostgreSQL when
//! `O2C_TEST_DATABASE_URL` is set.

mod helpers;
mod webdriver;

mod auth;
mod browser;
mod pages;
mod portal;
mod service;
