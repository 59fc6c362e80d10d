//! Choosing how a shipment travels: each carrier service quotes a price (its rate for the zone
//! and the smallest weight band that holds the parcel) and a transit time in business days. The
//! cheapest service that arrives by the promised date wins; when none can, the one that arrives
//! first (the customer is told the date). Pure: the rates come from the caller.

use chrono::{Datelike, NaiveDate, Weekday};

/// One service's offer for one shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub service: String,
    pub transit_days: i64,
    pub price_minor: i64,
}

/// The price of a parcel of `weight_g` in `zone` from bands `(zone, max_weight_g, price_minor)`:
/// the smallest band that holds it. `None`: the service does not carry it there.
pub fn price_for(bands: &[(i64, i64, i64)], zone: i64, weight_g: i64) -> Option<i64> {
    bands
        .iter()
        .filter(|(z, max, _)| *z == zone && *max >= weight_g)
        .min_by_key(|(_, max, _)| *max)
        .map(|(_, _, p)| *p)
}

/// The day a parcel handed over on `ship_on` arrives after `transit_days` business days
/// (Saturdays and Sundays do not count; a weekend hand-over starts on Monday).
pub fn arrival(ship_on: NaiveDate, transit_days: i64) -> NaiveDate {
    let is_weekend = |d: NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let mut d = ship_on;
    let mut left = transit_days.max(0);
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if !is_weekend(d) {
            left -= 1;
        }
    }
    while is_weekend(d) {
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

/// The chosen quote's index and whether it arrives by `promised` (always true without a promise).
pub fn choose(
    quotes: &[Quote],
    ship_on: NaiveDate,
    promised: Option<NaiveDate>,
) -> Option<(usize, bool)> {
    let on_time = |q: &Quote| promised.is_none_or(|p| arrival(ship_on, q.transit_days) <= p);
    let cheapest_on_time = quotes
        .iter()
        .enumerate()
        .filter(|(_, q)| on_time(q))
        .min_by(|(_, a), (_, b)| {
            (a.price_minor, a.transit_days, &a.service).cmp(&(
                b.price_minor,
                b.transit_days,
                &b.service,
            ))
        });
    if let Some((i, _)) = cheapest_on_time {
        return Some((i, true));
    }
    quotes
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            (a.transit_days, a.price_minor, &a.service).cmp(&(
                b.transit_days,
                b.price_minor,
                &b.service,
            ))
        })
        .map(|(i, _)| (i, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(service: &str, transit_days: i64, price_minor: i64) -> Quote {
        Quote {
            service: service.into(),
            transit_days,
            price_minor,
        }
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_smallest_weight_band_that_holds_the_parcel_prices_it() {
        let bands = [
            (1, 2_000, 490),
            (1, 10_000, 790),
            (2, 2_000, 590),
            (2, 31_500, 1290),
        ];
        assert_eq!(price_for(&bands, 1, 1_500), Some(490));
        assert_eq!(price_for(&bands, 1, 2_001), Some(790));
        assert_eq!(price_for(&bands, 2, 20_000), Some(1290));
        assert_eq!(price_for(&bands, 1, 10_001), None);
        assert_eq!(price_for(&bands, 3, 1), None);
    }

    #[test]
    fn transit_counts_business_days() {
        // 2026-11-20 is a Friday.
        assert_eq!(arrival(d("2026-11-20"), 1), d("2026-11-23"));
        assert_eq!(arrival(d("2026-11-23"), 2), d("2026-11-25"));
        assert_eq!(arrival(d("2026-11-21"), 0), d("2026-11-23"));
    }

    #[test]
    fn the_cheapest_service_that_arrives_in_time_is_chosen() {
        let quotes = [
            q("EXPRESS", 1, 1500),
            q("STANDARD", 3, 600),
            q("ECONOMY", 6, 400),
        ];
        let mon = d("2026-11-23");
        assert_eq!(choose(&quotes, mon, None), Some((2, true)));
        assert_eq!(choose(&quotes, mon, Some(d("2026-11-26"))), Some((1, true)));
        assert_eq!(choose(&quotes, mon, Some(d("2026-11-24"))), Some((0, true)));
        // Nothing arrives today: the fastest, flagged late.
        assert_eq!(choose(&quotes, mon, Some(mon)), Some((0, false)));
        assert_eq!(choose(&[], mon, None), None);
    }
}
