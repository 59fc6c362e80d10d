//! Dunning rules: a profile's levels, which level each overdue item has reached, the interest
//! it has earned, and the text of a notice. Pure; `o2c_app::receivable::dunning` gathers the
//! items and writes the notices.

use crate::error::DomainError;
use crate::money::{Currency, Money, MoneyError, round_half_away_from_zero};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Letter,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Letter => "letter",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Email, Channel::Sms, Channel::Letter]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeTemplate {
    pub subject: String,
    pub body: String,
}

/// One level of a profile. Amounts are decimal strings in the customer's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// 1, 2, 3 … in order.
    pub level: i64,
    /// Days after the due date (negative: before it, a friendly reminder).
    pub days: i64,
    #[serde(default = "zero")]
    pub min_overdue: String,
    #[serde(default = "zero")]
    pub fee: String,
    /// Percent per year, e.g. "9.12" (base rate plus points), charged per day overdue.
    #[serde(default = "zero")]
    pub interest_rate: String,
    pub channel: Channel,
    /// Per language (ISO 639-1); `en` is the fallback. Empty: the built-in texts.
    #[serde(default)]
    pub templates: BTreeMap<String, NoticeTemplate>,
    /// Block the customer's credit when this level is sent.
    #[serde(default)]
    pub block_credit: bool,
    /// Hand the account to collection when this level is sent.
    #[serde(default)]
    pub hand_to_collection: bool,
}

fn zero() -> String {
    "0".into()
}

impl Level {
    pub fn fee_in(&self, currency: Currency) -> Result<Money, MoneyError> {
        Money::parse(&self.fee, currency)
    }
    pub fn min_overdue_in(&self, currency: Currency) -> Result<Money, MoneyError> {
        Money::parse(&self.min_overdue, currency)
    }
    /// The yearly rate in millionths (9.12 % = 91_200).
    pub fn interest_micro(&self) -> Result<i64, DomainError> {
        parse_percent_micro(&self.interest_rate).ok_or_else(|| {
            DomainError::invalid(
                format!("levels[{}].interest_rate", self.level),
                format!(
                    "`{}`: expected a percentage per year such as \"9.12\"",
                    self.interest_rate
                ),
            )
        })
    }
}

/// "9.12" (percent) → 91_200 (millionths of one); at most four decimals, 0 to 100 %.
fn parse_percent_micro(s: &str) -> Option<i64> {
    let (i, f) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if i.is_empty() || f.len() > 4 || !(i.bytes().chain(f.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = format!("{i}{f:0<4}").parse().ok()?;
    (v <= 1_000_000).then_some(v)
}

/// A profile's levels, checked: numbered 1..n, days strictly increasing, amounts and rates
/// readable, at most one level that hands to collection, and it is the last.
pub fn check_levels(levels: &[Level]) -> Result<(), DomainError> {
    if levels.is_empty() {
        return Err(DomainError::invalid(
            "levels",
            "a profile needs at least one level",
        ));
    }
    let eur = Currency::parse("EUR").expect("EUR");
    for (i, l) in levels.iter().enumerate() {
        let field = |f: &str| format!("levels[{i}].{f}");
        if l.level != i as i64 + 1 {
            return Err(DomainError::invalid(
                field("level"),
                format!("expected {}, got {}", i + 1, l.level),
            ));
        }
        if i > 0 && l.days <= levels[i - 1].days {
            return Err(DomainError::invalid(
                field("days"),
                "each level must come later than the one before",
            ));
        }
        for (name, v) in [("fee", &l.fee), ("min_overdue", &l.min_overdue)] {
            let m = Money::parse(v, eur).map_err(DomainError::money(field(name)))?;
            if m.is_negative() {
                return Err(DomainError::invalid(field(name), "must not be negative"));
            }
        }
        l.interest_micro()?;
        if l.hand_to_collection && i + 1 != levels.len() {
            return Err(DomainError::invalid(
                field("hand_to_collection"),
                "only the last level can hand an account to collection",
            ));
        }
        for (lang, t) in &l.templates {
            if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(DomainError::invalid(
                    field("templates"),
                    format!("`{lang}`: expected a two-letter language code such as en"),
                ));
            }
            if t.subject.trim().is_empty() || t.body.trim().is_empty() {
                return Err(DomainError::invalid(
                    field(&format!("templates.{lang}")),
                    "subject and body must not be empty",
                ));
            }
        }
    }
    Ok(())
}

/// The level an item reaches in a run: the highest whose day has come, but at most one above
/// the level it was last dunned at (each level is sent before the next). `None`: nothing to send.
pub fn next_level(levels: &[Level], days_overdue: i64, last_level: i64) -> Option<&Level> {
    let reached = levels
        .iter()
        .filter(|l| l.days <= days_overdue)
        .map(|l| l.level)
        .max()?;
    let target = reached.min(last_level + 1);
    (target > last_level).then(|| &levels[(target - 1) as usize])
}

/// Interest on `open` for `days` at `micro` millionths per year (actual/365), rounded half away
/// from zero once.
pub fn interest(open: Money, micro: i64, days: i64) -> Result<Money, MoneyError> {
    if days <= 0 || micro == 0 {
        return Ok(Money::zero(open.currency()));
    }
    let n = i128::from(open.minor()) * i128::from(micro) * i128::from(days);
    Ok(Money::new(
        round_half_away_from_zero(n, 1_000_000 * 365)?,
        open.currency(),
    ))
}

/// What a notice says, filled into its template.
pub struct NoticeText<'a> {
    pub company: &'a str,
    pub customer: &'a str,
    pub level: i64,
    /// One line per item: number, due date, days overdue, open amount.
    pub items: Vec<String>,
    pub overdue: Money,
    pub fee: Money,
    pub interest: Money,
    pub total: Money,
}

/// The template for `language` (else English, else the built-in one), filled in.
pub fn render(level: &Level, language: &str, t: &NoticeText<'_>) -> (String, String) {
    let template = level
        .templates
        .get(language)
        .or_else(|| level.templates.get("en"))
        .cloned()
        .unwrap_or_else(|| builtin(language, level.level));
    let fill = |s: &str| {
        s.replace("{company}", t.company)
            .replace("{customer}", t.customer)
            .replace("{level}", &t.level.to_string())
            .replace("{items}", &t.items.join("\n"))
            .replace("{overdue}", &t.overdue.to_string())
            .replace("{fee}", &t.fee.to_string())
            .replace("{interest}", &t.interest.to_string())
            .replace("{total}", &t.total.to_string())
    };
    (fill(&template.subject), fill(&template.body))
}

fn builtin(language: &str, level: i64) -> NoticeTemplate {
    match (language, level) {
        ("de", 1) => NoticeTemplate {
            subject: "Zahlungserinnerung".into(),
            body: "Sehr geehrte Damen und Herren ({customer}),\n\nbei der Durchsicht unserer Konten ist uns aufgefallen, dass folgende Rechnungen noch offen sind:\n{items}\n\nOffen: {overdue}. Gebühr: {fee}. Zinsen: {interest}. Bitte überweisen Sie {total}.\n\nMit freundlichen Grüßen\n{company}".into(),
        },
        ("de", _) => NoticeTemplate {
            subject: "{level}. Mahnung".into(),
            body: "Sehr geehrte Damen und Herren ({customer}),\n\ntrotz unserer Erinnerung sind folgende Rechnungen noch offen:\n{items}\n\nOffen: {overdue}. Mahngebühr: {fee}. Verzugszinsen: {interest}. Bitte überweisen Sie {total} umgehend.\n\nMit freundlichen Grüßen\n{company}".into(),
        },
        (_, 1) => NoticeTemplate {
            subject: "Payment reminder".into(),
            body: "Dear {customer},\n\nour records show these invoices as still open:\n{items}\n\nOpen: {overdue}. Fee: {fee}. Interest: {interest}. Please pay {total}.\n\nKind regards,\n{company}".into(),
        },
        (_, _) => NoticeTemplate {
            subject: "Overdue notice (level {level})".into(),
            body: "Dear {customer},\n\ndespite our reminder these invoices are still unpaid:\n{items}\n\nOverdue: {overdue}. Dunning fee: {fee}. Late interest: {interest}. Please pay {total} now.\n\nKind regards,\n{company}".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(n: i64, days: i64) -> Level {
        Level {
            level: n,
            days,
            min_overdue: "0".into(),
            fee: "5.00".into(),
            interest_rate: "9.12".into(),
            channel: Channel::Email,
            templates: BTreeMap::new(),
            block_credit: false,
            hand_to_collection: false,
        }
    }

    #[test]
    fn an_item_climbs_one_level_per_run_once_each_day_has_come() {
        let levels = vec![level(1, -3), level(2, 7), level(3, 21)];
        assert_eq!(next_level(&levels, -5, 0).map(|l| l.level), None);
        assert_eq!(next_level(&levels, -3, 0).map(|l| l.level), Some(1));
        assert_eq!(next_level(&levels, 3, 1).map(|l| l.level), None);
        assert_eq!(next_level(&levels, 30, 0).map(|l| l.level), Some(1));
        assert_eq!(next_level(&levels, 30, 1).map(|l| l.level), Some(2));
        assert_eq!(next_level(&levels, 30, 2).map(|l| l.level), Some(3));
        assert_eq!(next_level(&levels, 300, 3).map(|l| l.level), None);
    }

    #[test]
    fn interest_is_per_day_on_actual_365() {
        let eur = Currency::parse("EUR").unwrap();
        // 1000.00 at 9.12 % for 30 days = 7.4958… → 7.50
        let i = interest(Money::new(100_000, eur), 91_200, 30).unwrap();
        assert_eq!(i.minor(), 750);
        assert_eq!(
            interest(Money::new(100_000, eur), 91_200, 0)
                .unwrap()
                .minor(),
            0
        );
    }

    #[test]
    fn profiles_are_checked_level_by_level() {
        let mut levels = vec![level(1, 7), level(2, 7)];
        assert!(
            check_levels(&levels)
                .unwrap_err()
                .to_string()
                .contains("levels[1].days")
        );
        levels[1].days = 14;
        assert!(check_levels(&levels).is_ok());
        levels[0].hand_to_collection = true;
        assert!(check_levels(&levels).is_err());
        levels[0].hand_to_collection = false;
        levels[1].interest_rate = "abc".into();
        assert!(
            check_levels(&levels)
                .unwrap_err()
                .to_string()
                .contains("interest_rate")
        );
        assert_eq!(parse_percent_micro("9.12"), Some(91_200));
        assert_eq!(parse_percent_micro("12"), Some(120_000));
    }

    #[test]
    fn notices_speak_the_customers_language_and_fall_back_to_english() {
        let eur = Currency::parse("EUR").unwrap();
        let t = NoticeText {
            company: "ACME",
            customer: "Müller",
            level: 2,
            items: vec!["INV-1".into()],
            overdue: Money::new(1000, eur),
            fee: Money::new(500, eur),
            interest: Money::new(0, eur),
            total: Money::new(1500, eur),
        };
        let (s, b) = render(&level(2, 7), "de", &t);
        assert_eq!(s, "2. Mahnung");
        assert!(b.contains("INV-1") && b.contains("15.00"), "{b}");
        let (s, _) = render(&level(1, 7), "fr", &t);
        assert_eq!(s, "Payment reminder");
    }
}
