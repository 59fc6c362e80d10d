//! Credit decisions by rule. A [`CreditPolicy`] (versioned, configurable as JSON) is evaluated
//! against the [`CreditFacts`] of one customer and one order; the [`Evaluation`] says approve,
//! hold for review or reject, and carries every rule that fired with its figures.
//!
//! Order of precedence: a blocked customer or a rejecting risk class rejects; over the limit always
//! holds; a returning customer with a clean history and room under the limit takes the fast path
//! (approved without the soft rules: new-customer threshold, unusual size); otherwise every soft
//! rule that fires holds.

use crate::money::{Money, MoneyError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskClass {
    pub const ALL: [RiskClass; 4] = [
        RiskClass::Low,
        RiskClass::Medium,
        RiskClass::High,
        RiskClass::Critical,
    ];

    pub fn parse(s: &str) -> Option<RiskClass> {
        RiskClass::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            RiskClass::Low => "low",
            RiskClass::Medium => "medium",
            RiskClass::High => "high",
            RiskClass::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditOutcome {
    Approve,
    Hold,
    Reject,
}

impl CreditOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            CreditOutcome::Approve => "approve",
            CreditOutcome::Hold => "hold",
            CreditOutcome::Reject => "reject",
        }
    }
}

/// The configurable rules. Amounts are decimal strings in the customer's credit currency.
/// A rule set to `null` is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditPolicy {
    pub overdue: Option<OverdueRule>,
    pub new_customer: Option<NewCustomerRule>,
    pub risk_class: RiskRule,
    pub payment_score: Option<PaymentScoreRule>,
    pub unusual_size: Option<UnusualSizeRule>,
    pub fast_path: Option<FastPathRule>,
    /// Credit applications asking for more than this are queued for an analyst.
    pub max_auto_limit: String,
    /// When set, open orders count towards exposure only if they are due for delivery within
    /// this many days (orders without a requested date always count).
    #[serde(default)]
    pub exposure_horizon_days: Option<i64>,
}

/// Hold when an item is overdue by more than `max_days`, or the overdue total exceeds `max_amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdueRule {
    pub max_days: i64,
    pub max_amount: String,
}

/// Hold an order above `max_order` from a customer with no paid invoice yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerRule {
    pub max_order: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRule {
    pub hold: Vec<RiskClass>,
    pub reject: Vec<RiskClass>,
}

/// Hold when the amount-weighted average days late over the last 12 months exceeds the figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentScoreRule {
    pub max_average_days_late: i64,
}

/// Hold an order larger than `factor_percent` % of the customer's average order, once the
/// customer has at least `min_orders` orders to compare with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnusualSizeRule {
    pub factor_percent: i64,
    pub min_orders: i64,
}

/// A returning customer (at least `min_paid_invoices` paid in 12 months, on average no more than
/// `max_average_days_late` late, nothing overdue) within the limit is approved at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastPathRule {
    pub min_paid_invoices: i64,
    pub max_average_days_late: i64,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        CreditPolicy {
            overdue: Some(OverdueRule {
                max_days: 30,
                max_amount: "5000.00".into(),
            }),
            new_customer: Some(NewCustomerRule {
                max_order: "5000.00".into(),
            }),
            risk_class: RiskRule {
                hold: vec![RiskClass::High],
                reject: vec![RiskClass::Critical],
            },
            payment_score: Some(PaymentScoreRule {
                max_average_days_late: 15,
            }),
            unusual_size: Some(UnusualSizeRule {
                factor_percent: 500,
                min_orders: 3,
            }),
            fast_path: Some(FastPathRule {
                min_paid_invoices: 3,
                max_average_days_late: 5,
            }),
            max_auto_limit: "10000.00".into(),
            exposure_horizon_days: None,
        }
    }
}

/// Everything a decision looks at, gathered by the application without scanning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditFacts {
    pub order_amount: Money,
    pub limit: Money,
    pub open_receivables: Money,
    /// Approved orders not yet invoiced (shipped or not).
    pub open_orders: Money,
    pub blocked: bool,
    pub risk_class: RiskClass,
    /// Days the oldest open item is past due (0 when nothing is overdue).
    pub oldest_overdue_days: i64,
    pub overdue_amount: Money,
    pub paid_invoices_12m: i64,
    /// Amount-weighted average days late of invoices paid in the last 12 months.
    pub average_days_late_12m: Option<i64>,
    pub orders_count: i64,
    pub average_order: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule {
    pub rule: String,
    pub effect: CreditOutcome,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub outcome: CreditOutcome,
    pub fired: Vec<FiredRule>,
    pub fast_path: bool,
    pub exposure_after: Money,
    /// The limit the exposure was held against (the credit group's, or the requested one).
    pub limit: Money,
}

impl Evaluation {
    /// One line for queues and logs: every rule that fired, or why it passed.
    pub fn reason(&self) -> String {
        if self.fired.is_empty() {
            return if self.fast_path {
                format!(
                    "fast path: returning customer with a clean history; exposure {} within the limit",
                    self.exposure_after
                )
            } else {
                format!(
                    "no rule fired; exposure {} within the limit",
                    self.exposure_after
                )
            };
        }
        self.fired
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Parses a policy amount against the customer's currency (an invalid one never passes silently).
fn threshold(s: &str, like: Money) -> Result<Money, MoneyError> {
    Money::parse(s, like.currency())
}

pub fn evaluate(policy: &CreditPolicy, f: &CreditFacts) -> Result<Evaluation, MoneyError> {
    let exposure_after = f
        .open_receivables
        .checked_add(f.open_orders)?
        .checked_add(f.order_amount)?;
    let mut fired = Vec::new();
    let fire = |fired: &mut Vec<FiredRule>, rule: &str, effect, message: String| {
        fired.push(FiredRule {
            rule: rule.to_string(),
            effect,
            message,
        })
    };
    if f.blocked {
        fire(
            &mut fired,
            "credit.blocked",
            CreditOutcome::Reject,
            "the customer's credit is blocked".into(),
        );
    }
    if policy.risk_class.reject.contains(&f.risk_class) {
        fire(
            &mut fired,
            "credit.risk_class",
            CreditOutcome::Reject,
            format!(
                "risk class {} is not sold to on credit",
                f.risk_class.as_str()
            ),
        );
    } else if policy.risk_class.hold.contains(&f.risk_class) {
        fire(
            &mut fired,
            "credit.risk_class",
            CreditOutcome::Hold,
            format!("risk class {} needs a review", f.risk_class.as_str()),
        );
    }
    let room = f.limit.checked_sub(exposure_after)?;
    if room.is_negative() {
        fire(
            &mut fired,
            "credit.over_limit",
            CreditOutcome::Hold,
            format!(
                "exposure {exposure_after} (open receivables {} + open orders {} + this order {}) exceeds the credit limit {}",
                f.open_receivables, f.open_orders, f.order_amount, f.limit
            ),
        );
    }
    if let Some(r) = &policy.overdue {
        let max_amount = threshold(&r.max_amount, f.limit)?;
        if f.oldest_overdue_days > r.max_days || f.overdue_amount.minor() > max_amount.minor() {
            fire(
                &mut fired,
                "credit.overdue",
                CreditOutcome::Hold,
                format!(
                    "{} overdue, the oldest by {} days (allowed: {} days, {max_amount})",
                    f.overdue_amount, f.oldest_overdue_days, r.max_days
                ),
            );
        }
    }
    if let (Some(r), Some(late)) = (&policy.payment_score, f.average_days_late_12m)
        && late > r.max_average_days_late
    {
        fire(
            &mut fired,
            "credit.payment_score",
            CreditOutcome::Hold,
            format!(
                "pays {late} days late on average over 12 months (allowed: {})",
                r.max_average_days_late
            ),
        );
    }
    let fast_path = fired.is_empty()
        && policy.fast_path.as_ref().is_some_and(|p| {
            f.paid_invoices_12m >= p.min_paid_invoices
                && f.average_days_late_12m.unwrap_or(0) <= p.max_average_days_late
                && f.overdue_amount.is_zero()
        });
    if !fast_path {
        if let Some(r) = &policy.new_customer {
            let max_order = threshold(&r.max_order, f.limit)?;
            if f.paid_invoices_12m == 0
                && f.orders_count == 0
                && f.order_amount.minor() > max_order.minor()
            {
                fire(
                    &mut fired,
                    "credit.new_customer",
                    CreditOutcome::Hold,
                    format!(
                        "first order {} from a customer without history exceeds {max_order}",
                        f.order_amount
                    ),
                );
            }
        }
        if let (Some(r), Some(avg)) = (&policy.unusual_size, f.average_order)
            && f.orders_count >= r.min_orders
            && i128::from(f.order_amount.minor()) * 100
                > i128::from(avg.minor()) * i128::from(r.factor_percent)
        {
            fire(
                &mut fired,
                "credit.unusual_size",
                CreditOutcome::Hold,
                format!(
                    "order {} is over {}% of the usual {avg}",
                    f.order_amount, r.factor_percent
                ),
            );
        }
    }
    let outcome = if fired.iter().any(|r| r.effect == CreditOutcome::Reject) {
        CreditOutcome::Reject
    } else if fired.is_empty() {
        CreditOutcome::Approve
    } else {
        CreditOutcome::Hold
    };
    Ok(Evaluation {
        outcome,
        fired,
        fast_path,
        exposure_after,
        limit: f.limit,
    })
}

/// A new customer's application for terms: the risk-class rule and the automatic-limit ceiling.
pub fn evaluate_application(
    policy: &CreditPolicy,
    requested_limit: Money,
    risk_class: RiskClass,
) -> Result<Evaluation, MoneyError> {
    let mut fired = Vec::new();
    if policy.risk_class.reject.contains(&risk_class) {
        fired.push(FiredRule {
            rule: "credit.risk_class".into(),
            effect: CreditOutcome::Reject,
            message: format!(
                "risk class {} is not sold to on credit",
                risk_class.as_str()
            ),
        });
    } else if policy.risk_class.hold.contains(&risk_class) {
        fired.push(FiredRule {
            rule: "credit.risk_class".into(),
            effect: CreditOutcome::Hold,
            message: format!("risk class {} needs a review", risk_class.as_str()),
        });
    }
    let ceiling = threshold(&policy.max_auto_limit, requested_limit)?;
    if requested_limit.minor() > ceiling.minor() {
        fired.push(FiredRule {
            rule: "credit.application_limit".into(),
            effect: CreditOutcome::Hold,
            message: format!(
                "requested limit {requested_limit} is above the {ceiling} granted without review"
            ),
        });
    }
    let outcome = if fired.iter().any(|r| r.effect == CreditOutcome::Reject) {
        CreditOutcome::Reject
    } else if fired.is_empty() {
        CreditOutcome::Approve
    } else {
        CreditOutcome::Hold
    };
    Ok(Evaluation {
        outcome,
        fired,
        fast_path: false,
        exposure_after: Money::zero(requested_limit.currency()),
        limit: requested_limit,
    })
}

#[cfg(test)]
// Amounts in the tests are written euros_cents (100_00 is 100.00 EUR).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::EUR)
    }

    fn facts() -> CreditFacts {
        CreditFacts {
            order_amount: eur(100_00),
            limit: eur(1000_00),
            open_receivables: eur(300_00),
            open_orders: eur(200_00),
            blocked: false,
            risk_class: RiskClass::Low,
            oldest_overdue_days: 0,
            overdue_amount: eur(0),
            paid_invoices_12m: 0,
            average_days_late_12m: None,
            orders_count: 0,
            average_order: None,
        }
    }

    fn rules(e: &Evaluation) -> Vec<&str> {
        e.fired.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn an_order_within_the_limit_is_approved_and_one_over_it_is_held() {
        let p = CreditPolicy::default();
        assert_eq!(
            evaluate(&p, &facts()).unwrap().outcome,
            CreditOutcome::Approve
        );
        let over = evaluate(
            &p,
            &CreditFacts {
                order_amount: eur(500_01),
                ..facts()
            },
        )
        .unwrap();
        assert_eq!(
            (over.outcome, rules(&over)),
            (CreditOutcome::Hold, vec!["credit.over_limit"])
        );
        assert_eq!(over.exposure_after, eur(1000_01));
    }

    #[test]
    fn a_blocked_customer_or_a_critical_risk_is_rejected() {
        let p = CreditPolicy::default();
        assert_eq!(
            evaluate(
                &p,
                &CreditFacts {
                    blocked: true,
                    ..facts()
                }
            )
            .unwrap()
            .outcome,
            CreditOutcome::Reject
        );
        let e = evaluate(
            &p,
            &CreditFacts {
                risk_class: RiskClass::Critical,
                ..facts()
            },
        )
        .unwrap();
        assert_eq!(
            (e.outcome, rules(&e)),
            (CreditOutcome::Reject, vec!["credit.risk_class"])
        );
        assert_eq!(
            evaluate(
                &p,
                &CreditFacts {
                    risk_class: RiskClass::High,
                    ..facts()
                }
            )
            .unwrap()
            .outcome,
            CreditOutcome::Hold
        );
    }

    #[test]
    fn overdue_items_and_late_payers_are_held_with_their_figures() {
        let p = CreditPolicy::default();
        let e = evaluate(
            &p,
            &CreditFacts {
                oldest_overdue_days: 31,
                overdue_amount: eur(10_00),
                ..facts()
            },
        )
        .unwrap();
        assert_eq!(rules(&e), vec!["credit.overdue"]);
        assert!(
            e.fired[0].message.contains("31 days"),
            "{}",
            e.fired[0].message
        );
        let e = evaluate(
            &p,
            &CreditFacts {
                average_days_late_12m: Some(16),
                paid_invoices_12m: 4,
                ..facts()
            },
        )
        .unwrap();
        assert_eq!(rules(&e), vec!["credit.payment_score"]);
    }

    #[test]
    fn a_new_customer_is_held_above_the_threshold_and_every_rule_that_fired_is_listed() {
        let p = CreditPolicy::default();
        let big = CreditFacts {
            order_amount: eur(6000_00),
            limit: eur(100_000_00),
            ..facts()
        };
        assert_eq!(
            rules(&evaluate(&p, &big).unwrap()),
            vec!["credit.new_customer"]
        );
        let both = CreditFacts {
            risk_class: RiskClass::High,
            ..big
        };
        assert_eq!(
            rules(&evaluate(&p, &both).unwrap()),
            vec!["credit.risk_class", "credit.new_customer"]
        );
    }

    #[test]
    fn a_returning_customer_with_a_clean_history_takes_the_fast_path_even_for_a_large_order() {
        let p = CreditPolicy::default();
        let regular = CreditFacts {
            order_amount: eur(400_00),
            paid_invoices_12m: 5,
            average_days_late_12m: Some(2),
            orders_count: 5,
            average_order: Some(eur(50_00)),
            ..facts()
        };
        let e = evaluate(&p, &regular).unwrap();
        assert!(e.fast_path);
        assert_eq!(e.outcome, CreditOutcome::Approve);
        let slow = evaluate(
            &p,
            &CreditFacts {
                average_days_late_12m: Some(9),
                ..regular.clone()
            },
        )
        .unwrap();
        assert!(!slow.fast_path);
        assert_eq!(
            rules(&slow),
            vec!["credit.unusual_size"],
            "without the fast path the unusual size holds it"
        );
        let over = evaluate(
            &p,
            &CreditFacts {
                order_amount: eur(600_00),
                ..regular
            },
        )
        .unwrap();
        assert_eq!(
            (over.fast_path, over.outcome),
            (false, CreditOutcome::Hold),
            "never past the limit"
        );
    }

    #[test]
    fn applications_above_the_automatic_ceiling_or_from_risky_customers_wait_for_an_analyst() {
        let p = CreditPolicy::default();
        assert_eq!(
            evaluate_application(&p, eur(10_000_00), RiskClass::Low)
                .unwrap()
                .outcome,
            CreditOutcome::Approve
        );
        assert_eq!(
            evaluate_application(&p, eur(10_000_01), RiskClass::Low)
                .unwrap()
                .outcome,
            CreditOutcome::Hold
        );
        assert_eq!(
            evaluate_application(&p, eur(100_00), RiskClass::High)
                .unwrap()
                .outcome,
            CreditOutcome::Hold
        );
        assert_eq!(
            evaluate_application(&p, eur(100_00), RiskClass::Critical)
                .unwrap()
                .outcome,
            CreditOutcome::Reject
        );
    }

    #[test]
    fn the_default_policy_round_trips_as_json() {
        let p = CreditPolicy::default();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<CreditPolicy>(&json).unwrap(), p);
        assert!(serde_json::from_str::<CreditPolicy>(r#"{"bogus": 1}"#).is_err());
    }
}
