//! Open items: how old each is (aging buckets, by due date or by invoice date) and why it is
//! still unpaid. Pure: the store hands in the facts, these functions decide.

use crate::error::DomainError;
use chrono::NaiveDate;
use serde::Serialize;

/// Which date an item's age counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgingBasis {
    DueDate,
    InvoiceDate,
}

impl AgingBasis {
    pub fn parse(s: &str) -> Result<AgingBasis, DomainError> {
        match s {
            "due_date" | "due" => Ok(AgingBasis::DueDate),
            "invoice_date" | "invoice" => Ok(AgingBasis::InvoiceDate),
            other => Err(DomainError::invalid(
                "basis",
                format!("`{other}`: expected due_date or invoice_date"),
            )),
        }
    }
}

/// The upper bounds (in days of age) of each bucket after "current"; the last bucket is open.
/// `[30, 60, 90]` gives current, 1-30, 31-60, 61-90, 90+.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgingBuckets {
    bounds: Vec<i64>,
}

impl Default for AgingBuckets {
    fn default() -> Self {
        AgingBuckets {
            bounds: vec![30, 60, 90],
        }
    }
}

impl AgingBuckets {
    /// `"30,60,90"`: strictly increasing positive day counts, at most 12.
    pub fn parse(s: &str) -> Result<AgingBuckets, DomainError> {
        let bad = |why: String| DomainError::invalid("buckets", why);
        let mut bounds = Vec::new();
        for (i, part) in s.split(',').enumerate() {
            let part = part.trim();
            let d: i64 = part.parse().map_err(|_| {
                bad(format!(
                    "item {} `{part}` is not a whole number of days",
                    i + 1
                ))
            })?;
            if d <= 0 || bounds.last().is_some_and(|l| d <= *l) {
                return Err(bad(format!(
                    "item {} ({d}): bounds must be positive and increasing, e.g. 30,60,90",
                    i + 1
                )));
            }
            bounds.push(d);
        }
        if bounds.len() > 12 {
            return Err(bad("at most 12 bounds".into()));
        }
        Ok(AgingBuckets { bounds })
    }

    pub fn bounds(&self) -> &[i64] {
        &self.bounds
    }

    /// Labels, "current" first.
    pub fn labels(&self) -> Vec<String> {
        let mut out = vec!["current".to_string()];
        let mut from = 1;
        for b in &self.bounds {
            out.push(format!("{from}-{b}"));
            from = b + 1;
        }
        out.push(format!("{}+", self.bounds.last().copied().unwrap_or(0)));
        out
    }

    pub fn len(&self) -> usize {
        self.bounds.len() + 2
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bucket of an item `age_days` old (0 or less: current).
    pub fn index_of(&self, age_days: i64) -> usize {
        if age_days <= 0 {
            return 0;
        }
        1 + self.bounds.iter().take_while(|b| age_days > **b).count()
    }

    /// For each bucket after "current", the range of basis dates `[from, to]` it covers as of
    /// `as_of` (`from` None: unbounded). Lets a store sum each bucket with date comparisons.
    pub fn date_ranges(&self, as_of: NaiveDate) -> Vec<(Option<NaiveDate>, NaiveDate)> {
        let mut out = Vec::new();
        let mut lo = 1;
        for b in &self.bounds {
            out.push((
                Some(as_of - chrono::Days::new(*b as u64)),
                as_of - chrono::Days::new(lo as u64),
            ));
            lo = b + 1;
        }
        out.push((None, as_of - chrono::Days::new(lo as u64)));
        out
    }
}

/// Why an open item is still open: the first that applies, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnpaidReason {
    InCollection,
    Disputed,
    PromiseToPay,
    ShortPaid,
    PartiallyPaid,
    Overdue,
    NotYetDue,
}

impl UnpaidReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            UnpaidReason::InCollection => "in_collection",
            UnpaidReason::Disputed => "disputed",
            UnpaidReason::PromiseToPay => "promise_to_pay",
            UnpaidReason::ShortPaid => "short_paid",
            UnpaidReason::PartiallyPaid => "partially_paid",
            UnpaidReason::Overdue => "overdue",
            UnpaidReason::NotYetDue => "not_yet_due",
        }
    }
}

/// What is known about one open item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts {
    pub days_overdue: i64,
    pub customer_in_collection: bool,
    pub open_dispute: bool,
    pub open_promise: bool,
    pub open_deduction: bool,
    /// Something was paid (or credited) but not all.
    pub part_paid: bool,
}

/// The item's reason: collection and disputes first (a person is on it), then a promise, then
/// what the payments say, then the calendar.
pub fn unpaid_reason(f: ItemFacts) -> UnpaidReason {
    if f.customer_in_collection {
        UnpaidReason::InCollection
    } else if f.open_dispute {
        UnpaidReason::Disputed
    } else if f.open_promise {
        UnpaidReason::PromiseToPay
    } else if f.open_deduction {
        UnpaidReason::ShortPaid
    } else if f.part_paid {
        UnpaidReason::PartiallyPaid
    } else if f.days_overdue > 0 {
        UnpaidReason::Overdue
    } else {
        UnpaidReason::NotYetDue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_buckets_are_current_and_four_ranges() {
        let b = AgingBuckets::default();
        assert_eq!(b.labels(), ["current", "1-30", "31-60", "61-90", "90+"]);
        let cases = [
            (-5, 0),
            (0, 0),
            (1, 1),
            (30, 1),
            (31, 2),
            (60, 2),
            (61, 3),
            (90, 3),
            (91, 4),
            (4000, 4),
        ];
        for (age, bucket) in cases {
            assert_eq!(b.index_of(age), bucket, "age {age}");
        }
    }

    #[test]
    fn bucket_date_ranges_agree_with_index_of() {
        let b = AgingBuckets::parse("15,45").unwrap();
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let ranges = b.date_ranges(as_of);
        for age in 1..200i64 {
            let d = as_of - chrono::Days::new(age as u64);
            let hit = ranges
                .iter()
                .position(|(from, to)| from.is_none_or(|f| d >= f) && d <= *to)
                .map(|i| i + 1);
            assert_eq!(hit, Some(b.index_of(age)), "age {age}");
        }
    }

    #[test]
    fn buckets_refuse_what_is_not_increasing() {
        assert!(AgingBuckets::parse("30,30").is_err());
        assert!(AgingBuckets::parse("0,30").is_err());
        assert!(AgingBuckets::parse("30,x").is_err());
        assert_eq!(AgingBuckets::parse("7, 14").unwrap().bounds(), &[7, 14]);
    }

    #[test]
    fn the_reason_follows_its_precedence() {
        let base = ItemFacts {
            days_overdue: 10,
            customer_in_collection: false,
            open_dispute: false,
            open_promise: false,
            open_deduction: false,
            part_paid: false,
        };
        assert_eq!(unpaid_reason(base), UnpaidReason::Overdue);
        assert_eq!(
            unpaid_reason(ItemFacts {
                days_overdue: 0,
                ..base
            }),
            UnpaidReason::NotYetDue
        );
        assert_eq!(
            unpaid_reason(ItemFacts {
                part_paid: true,
                ..base
            }),
            UnpaidReason::PartiallyPaid
        );
        assert_eq!(
            unpaid_reason(ItemFacts {
                part_paid: true,
                open_deduction: true,
                ..base
            }),
            UnpaidReason::ShortPaid
        );
        assert_eq!(
            unpaid_reason(ItemFacts {
                open_promise: true,
                open_deduction: true,
                ..base
            }),
            UnpaidReason::PromiseToPay
        );
        assert_eq!(
            unpaid_reason(ItemFacts {
                open_dispute: true,
                open_promise: true,
                ..base
            }),
            UnpaidReason::Disputed
        );
        assert_eq!(
            unpaid_reason(ItemFacts {
                customer_in_collection: true,
                open_dispute: true,
                ..base
            }),
            UnpaidReason::InCollection
        );
    }
}
