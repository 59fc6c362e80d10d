//! Billing: who the seller is, how each customer is billed (policy, VAT id, discount, price
//! list, tax treatment), the tax engine's tables, prices, the billing run for consolidated
//! customers, credit notes, the rendered documents and their delivery.

pub mod credit_note;
pub mod delivery;
pub mod document;
pub mod price;
pub mod run;
pub mod tax;

use crate::context::Ctx;
use crate::error::{Result, not_found};
use o2c_core::customer::Address;
use o2c_core::tax::TaxTreatment;
use o2c_core::{Currency, DomainError, Percent};
use o2c_store::{Conn, params};
use serde::{Deserialize, Serialize};

/// When an invoice is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPolicy {
    /// One invoice per dispatched shipment, at dispatch.
    PerShipment,
    /// One invoice per order, when its last line has shipped.
    PerOrder,
    /// One invoice per customer and currency per period, by the billing run.
    Consolidated,
}

impl BillingPolicy {
    pub fn parse(s: &str) -> Option<BillingPolicy> {
        match s {
            "per_shipment" => Some(BillingPolicy::PerShipment),
            "per_order" => Some(BillingPolicy::PerOrder),
            "consolidated" => Some(BillingPolicy::Consolidated),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            BillingPolicy::PerShipment => "per_shipment",
            BillingPolicy::PerOrder => "per_order",
            BillingPolicy::Consolidated => "consolidated",
        }
    }
}

/// The selling company as it appears on every document (`PUT /api/v1/company`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyProfile {
    pub name: String,
    pub address: Address,
    #[serde(default)]
    pub vat_id: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// A PNG or JPEG file printed at the top of every PDF.
    #[serde(default)]
    pub logo_path: Option<String>,
    #[serde(default)]
    pub iban: Option<String>,
    #[serde(default)]
    pub bic: Option<String>,
    #[serde(default)]
    pub bank_name: Option<String>,
    /// The default for customers without their own policy.
    #[serde(default = "default_policy")]
    pub billing_policy: BillingPolicy,
    /// The currency the ledger is kept in.
    #[serde(default = "default_currency")]
    pub functional_currency: String,
    /// The SEPA Creditor Identifier the direct-debit mandates name (`DE98ZZZ09999999999`);
    /// needed to collect by direct debit.
    #[serde(default)]
    pub sepa_creditor_id: Option<String>,
}

fn default_policy() -> BillingPolicy {
    BillingPolicy::PerShipment
}
fn default_currency() -> String {
    "EUR".into()
}

impl CompanyProfile {
    /// Until an administrator sets the profile, documents carry this placeholder.
    pub fn placeholder() -> CompanyProfile {
        CompanyProfile {
            name: "o2c seller (set PUT /api/v1/company)".into(),
            address: Address {
                line1: "Street 1".into(),
                line2: None,
                city: "Berlin".into(),
                postal_code: "10115".into(),
                country: "DE".into(),
                region: None,
            },
            vat_id: None,
            company_id: None,
            email: None,
            phone: None,
            website: None,
            logo_path: None,
            iban: None,
            bic: None,
            bank_name: None,
            billing_policy: BillingPolicy::PerShipment,
            functional_currency: "EUR".into(),
            sepa_creditor_id: None,
        }
    }

    fn check(mut self) -> Result<CompanyProfile> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(DomainError::invalid("name", "must not be empty").into());
        }
        self.address = Address::parse(self.address, "address")?;
        if self.vat_id.as_deref().is_none_or(|v| v.trim().len() < 4) {
            return Err(DomainError::invalid(
                "vat_id",
                "the seller's VAT id (with country prefix) is required on every e-invoice (EN 16931 BR-S-02, BR-CO-26)",
            )
            .into());
        }
        Currency::parse(&self.functional_currency)
            .map_err(DomainError::money("functional_currency"))?;
        if let Some(iban) = &self.iban {
            let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
            if !o2c_core::reference::is_valid_iban(&compact) {
                return Err(DomainError::invalid("iban", "not a valid IBAN (check digits)").into());
            }
            self.iban = Some(compact.to_ascii_uppercase());
        }
        if let Some(id) = &self.sepa_creditor_id {
            let compact: String = id
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            if !o2c_docs::pain008::is_valid_creditor_id(&compact) {
                return Err(DomainError::invalid(
                    "sepa_creditor_id",
                    "not a valid SEPA creditor identifier (e.g. DE98ZZZ09999999999: country, check digits, business code, national id)",
                )
                .into());
            }
            self.sepa_creditor_id = Some(compact);
        }
        Ok(self)
    }

    pub fn functional_currency(&self) -> Currency {
        Currency::parse(&self.functional_currency).unwrap_or(Currency::EUR)
    }
}

pub fn company(conn: &mut dyn Conn) -> Result<CompanyProfile> {
    match conn.query_opt("SELECT value FROM settings WHERE key = 'company'", &[])? {
        Some(r) => Ok(serde_json::from_str(&r.text(0))?),
        None => Ok(CompanyProfile::placeholder()),
    }
}

pub fn set_company_in_tx(
    conn: &mut dyn Conn,
    ctx: &Ctx,
    profile: CompanyProfile,
) -> Result<CompanyProfile> {
    let profile = profile.check()?;
    let current = company(conn)?.functional_currency();
    if profile.functional_currency() != current
        && conn
            .query_opt("SELECT 1 FROM journal_entries LIMIT 1", &[])?
            .is_some()
    {
        return Err(DomainError::invalid(
            "functional_currency",
            format!("the ledger is kept in {current} and already has entries: the functional currency cannot change"),
        )
        .into());
    }
    let json = serde_json::to_string(&profile)?;
    conn.execute("DELETE FROM settings WHERE key = 'company'", &[])?;
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('company', $1, $2)",
        params![json.as_str(), ctx.timestamp()],
    )?;
    Ok(profile)
}

/// How one customer is billed (`PUT /api/v1/customers/{id}/billing`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BillingProfileRequest {
    #[serde(default)]
    pub vat_id: Option<String>,
    #[serde(default)]
    pub billing_email: Option<String>,
    /// per_shipment, per_order or consolidated; absent: the company default.
    #[serde(default)]
    pub billing_policy: Option<String>,
    /// Document discount in percent on every invoice ("2.5").
    #[serde(default)]
    pub invoice_discount: Option<String>,
    #[serde(default)]
    pub price_list_id: Option<String>,
    /// auto (default), domestic, reverse_charge or export.
    #[serde(default)]
    pub tax_treatment: Option<String>,
    /// Early-payment discount in percent ("2" for "2 % within 10 days").
    #[serde(default)]
    pub early_discount: Option<String>,
    /// Days after the invoice date the early-payment discount may be taken.
    #[serde(default)]
    pub early_discount_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BillingProfile {
    pub customer_id: String,
    pub vat_id: Option<String>,
    pub billing_email: Option<String>,
    /// The customer's own policy, if any.
    pub billing_policy: Option<BillingPolicy>,
    /// The policy in force (own, else the company default).
    pub effective_policy: BillingPolicy,
    pub invoice_discount: Percent,
    pub price_list_id: Option<String>,
    pub tax_treatment: TaxTreatment,
    pub early_discount: Percent,
    pub early_discount_days: i64,
}

pub fn billing_profile(conn: &mut dyn Conn, customer_id: &str) -> Result<BillingProfile> {
    let company = company(conn)?;
    billing_profile_with(conn, customer_id, &company)
}

/// [`billing_profile`] with the company profile already at hand (one query fewer).
pub fn billing_profile_with(
    conn: &mut dyn Conn,
    customer_id: &str,
    company: &CompanyProfile,
) -> Result<BillingProfile> {
    let r = conn
        .query_opt(
            "SELECT vat_id, billing_email, billing_policy, invoice_discount_bp, price_list_id, tax_treatment, early_discount_bp, early_discount_days FROM customers WHERE id = $1",
            params![customer_id],
        )?
        .ok_or_else(|| not_found("customer", customer_id))?;
    let own = r.opt_text(2).and_then(|p| BillingPolicy::parse(&p));
    let effective = own.unwrap_or(company.billing_policy);
    Ok(BillingProfile {
        customer_id: customer_id.to_string(),
        vat_id: r.opt_text(0),
        billing_email: r.opt_text(1),
        billing_policy: own,
        effective_policy: effective,
        invoice_discount: Percent::from_basis_points(r.int(3)),
        price_list_id: r.opt_text(4),
        tax_treatment: TaxTreatment::parse(&r.text(5)).unwrap_or(TaxTreatment::Auto),
        early_discount: Percent::from_basis_points(r.int(6)),
        early_discount_days: r.int(7),
    })
}

pub fn set_billing_profile_in_tx(
    conn: &mut dyn Conn,
    _ctx: &Ctx,
    customer_id: &str,
    r: &BillingProfileRequest,
) -> Result<BillingProfile> {
    let currency = conn
        .query_opt(
            "SELECT currency FROM customers WHERE id = $1",
            params![customer_id],
        )?
        .ok_or_else(|| not_found("customer", customer_id))?
        .text(0);
    let policy = r
        .billing_policy
        .as_deref()
        .map(|p| {
            BillingPolicy::parse(p).ok_or_else(|| {
                DomainError::invalid(
                    "billing_policy",
                    "expected per_shipment, per_order or consolidated",
                )
            })
        })
        .transpose()?;
    let treatment = match r.tax_treatment.as_deref() {
        None => TaxTreatment::Auto,
        Some(t) => TaxTreatment::parse(t).ok_or_else(|| {
            DomainError::invalid(
                "tax_treatment",
                "expected auto, domestic, reverse_charge or export",
            )
        })?,
    };
    let discount = match r.invoice_discount.as_deref() {
        None => Percent::from_basis_points(0),
        Some(d) => tax::parse_percent("invoice_discount", d)?,
    };
    let early = match r.early_discount.as_deref() {
        None => Percent::from_basis_points(0),
        Some(d) => tax::parse_percent("early_discount", d)?,
    };
    let early_days = r.early_discount_days.unwrap_or(0);
    if !(0..=365).contains(&early_days) {
        return Err(DomainError::invalid("early_discount_days", "expected 0 to 365 days").into());
    }
    if early.basis_points() > 0 && early_days == 0 {
        return Err(DomainError::invalid(
            "early_discount_days",
            "an early-payment discount needs the days it may be taken within",
        )
        .into());
    }
    if treatment == TaxTreatment::ReverseCharge
        && r.vat_id.as_deref().is_none_or(|v| v.trim().is_empty())
    {
        return Err(DomainError::invalid(
            "vat_id",
            "reverse charge needs the buyer's VAT id (EN 16931 BR-AE-02)",
        )
        .into());
    }
    if r.billing_email.as_ref().is_some_and(|e| !e.contains('@')) {
        return Err(DomainError::invalid("billing_email", "expected an e-mail address").into());
    }
    let vat_id = r.vat_id.as_deref().map(|v| {
        v.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    });
    if let Some(v) = &vat_id {
        if v.len() < 4 || !v[..2].bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::invalid(
                "vat_id",
                "expected a VAT id with its country prefix, such as DE123456789",
            )
            .into());
        }
    }
    if let Some(pl) = &r.price_list_id {
        let list_currency = conn
            .query_opt(
                "SELECT currency FROM price_lists WHERE id = $1 OR name = $1",
                params![pl.as_str()],
            )?
            .ok_or_else(|| DomainError::invalid("price_list_id", format!("no price list `{pl}`")))?
            .text(0);
        if list_currency != currency {
            return Err(DomainError::PriceListCurrency {
                price_list: pl.clone(),
                purpose: format!("customer {customer_id}, billed in {currency},"),
                expected: Currency::parse(&currency)?,
                got: Currency::parse(&list_currency)?,
            }
            .into());
        }
    }
    let price_list_id = match &r.price_list_id {
        Some(pl) => Some(
            conn.query_one(
                "SELECT id FROM price_lists WHERE id = $1 OR name = $1",
                params![pl.as_str()],
            )?
            .text(0),
        ),
        None => None,
    };
    conn.execute(
        "UPDATE customers SET vat_id = $2, billing_email = $3, billing_policy = $4, invoice_discount_bp = $5, price_list_id = $6, tax_treatment = $7, early_discount_bp = $8, early_discount_days = $9 WHERE id = $1",
        params![
            customer_id,
            vat_id.as_deref(),
            r.billing_email.as_deref(),
            policy.map(|p| p.as_str()),
            discount.basis_points(),
            price_list_id.as_deref(),
            treatment.as_str(),
            early.basis_points(),
            early_days
        ],
    )?;
    billing_profile(conn, customer_id)
}
