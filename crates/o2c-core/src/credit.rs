//! The credit rule: credit limit against exposure (open receivables + open orders + this order).

use crate::money::{Money, MoneyError};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditOutcome {
    Approve,
    Hold,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditCheck {
    pub limit: Money,
    pub open_receivables: Money,
    pub open_orders: Money,
    pub order_amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditDecision {
    pub outcome: CreditOutcome,
    /// The rule that decided, by stable name.
    pub rule: &'static str,
    pub exposure_after: Money,
    pub limit: Money,
    pub reason: String,
}

/// Decides by rule. Over the limit is not a rejection: a person with the credit role reviews it.
pub fn decide(check: &CreditCheck) -> Result<CreditDecision, MoneyError> {
    let exposure_after = check
        .open_receivables
        .checked_add(check.open_orders)?
        .checked_add(check.order_amount)?;
    let within = exposure_after.minor() <= check.limit.minor();
    check.limit.checked_add(exposure_after)?; // same currency, or refuse
    Ok(if within {
        CreditDecision {
            outcome: CreditOutcome::Approve,
            rule: "credit.within_limit",
            exposure_after,
            limit: check.limit,
            reason: format!(
                "exposure {exposure_after} is within the credit limit {}",
                check.limit
            ),
        }
    } else {
        CreditDecision {
            outcome: CreditOutcome::Hold,
            rule: "credit.over_limit",
            exposure_after,
            limit: check.limit,
            reason: format!(
                "exposure {exposure_after} (open receivables {} + open orders {} + this order {}) exceeds the credit limit {}",
                check.open_receivables, check.open_orders, check.order_amount, check.limit
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn check(limit: i64, ar: i64, orders: i64, amount: i64) -> CreditCheck {
        let eur = |m| Money::new(m, Currency::EUR);
        CreditCheck {
            limit: eur(limit),
            open_receivables: eur(ar),
            open_orders: eur(orders),
            order_amount: eur(amount),
        }
    }

    #[test]
    fn an_order_within_the_limit_is_approved_and_one_over_it_is_held() {
        assert_eq!(
            decide(&check(1000, 300, 200, 500)).unwrap().outcome,
            CreditOutcome::Approve
        );
        let held = decide(&check(1000, 300, 200, 501)).unwrap();
        assert_eq!(held.outcome, CreditOutcome::Hold);
        assert_eq!(held.rule, "credit.over_limit");
        assert_eq!(held.exposure_after.minor(), 1001);
    }
}
