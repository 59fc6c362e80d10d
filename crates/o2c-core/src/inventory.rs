//! Reservation strategy, pure: ship the whole order from one warehouse when one can (the nearest
//! to the ship-to among those), and split across warehouses only when none can.
//!
//! Distance is coarse on purpose: o2c knows addresses, not coordinates. A warehouse's location is
//! a country and a postal code; the zone of a ship-to from it is 1 (same country, same postal
//! region: the first two characters of the postal code), 2 (same country) or 3 (abroad). Within
//! a zone, the longer the common postal-code prefix, the nearer. Shipping rate tables use the
//! same zones, so "nearest" and "cheapest to ship" agree.

use std::collections::HashMap;

/// Where a warehouse is, or a parcel goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub country: String,
    pub postal_code: String,
}

fn postal_key(code: &str) -> Vec<char> {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The shipping zone from `from` to `to`: 1 local, 2 national, 3 international.
pub fn zone(from: &Location, to: &Location) -> i64 {
    if !from.country.eq_ignore_ascii_case(&to.country) {
        return 3;
    }
    let (a, b) = (postal_key(&from.postal_code), postal_key(&to.postal_code));
    if a.len() >= 2 && b.len() >= 2 && a[..2] == b[..2] {
        1
    } else {
        2
    }
}

/// A distance rank: lower is nearer. A warehouse without a location ranks after every located one.
pub fn distance(from: Option<&Location>, to: &Location) -> i64 {
    let Some(from) = from else { return 10_000 };
    let (a, b) = (postal_key(&from.postal_code), postal_key(&to.postal_code));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count() as i64;
    zone(from, to) * 100 + (99 - common.min(99))
}

/// One order line still to reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineNeed {
    pub line_no: i64,
    pub product: String,
    pub quantity: i64,
}

/// What to reserve: line, warehouse, quantity.
pub type Take = (i64, String, i64);

/// Plans an order's reservation. `sites` are warehouse keys in order of preference (nearest to
/// the ship-to first, then the warehouse priority); `available` is each product's stock per
/// warehouse. The total per line may be less than needed: the rest is backordered.
///
/// 1. The first site that can ship every line in full takes the whole order.
/// 2. Otherwise each line goes to a site already used by an earlier line if one can ship it in
///    full (fewer parcels), else to the nearest site that can, else it is split nearest first.
pub fn plan_order(
    lines: &[LineNeed],
    sites: &[String],
    available: &HashMap<String, Vec<(String, i64)>>,
) -> Vec<Take> {
    let mut left: HashMap<(&str, &str), i64> = HashMap::new();
    for (product, per_site) in available {
        for (site, qty) in per_site {
            *left.entry((product.as_str(), site.as_str())).or_default() += (*qty).max(0);
        }
    }
    let wanted: Vec<&LineNeed> = lines.iter().filter(|l| l.quantity > 0).collect();
    if let Some(site) = sites.iter().find(|s| can_ship_all(&wanted, s, &left)) {
        return wanted
            .iter()
            .map(|l| (l.line_no, site.clone(), l.quantity))
            .collect();
    }
    let mut used: Vec<&String> = Vec::new();
    let mut out = Vec::new();
    for line in wanted {
        let avail = |left: &HashMap<(&str, &str), i64>, s: &str| {
            left.get(&(line.product.as_str(), s)).copied().unwrap_or(0)
        };
        let whole = used
            .iter()
            .copied()
            .find(|s| avail(&left, s) >= line.quantity)
            .or_else(|| sites.iter().find(|s| avail(&left, s) >= line.quantity));
        let takes: Vec<(&String, i64)> = match whole {
            Some(s) => vec![(s, line.quantity)],
            None => {
                let mut rest = line.quantity;
                let mut takes = Vec::new();
                for s in sites {
                    let a = avail(&left, s);
                    if rest == 0 {
                        break;
                    }
                    if a > 0 {
                        takes.push((s, a.min(rest)));
                        rest -= a.min(rest);
                    }
                }
                takes
            }
        };
        for (site, qty) in takes {
            if let Some(a) = left.get_mut(&(line.product.as_str(), site.as_str())) {
                *a -= qty;
            }
            if !used.contains(&site) {
                used.push(site);
            }
            out.push((line.line_no, site.clone(), qty));
        }
    }
    out
}

fn can_ship_all(lines: &[&LineNeed], site: &str, left: &HashMap<(&str, &str), i64>) -> bool {
    let mut need: HashMap<&str, i64> = HashMap::new();
    for l in lines {
        *need.entry(l.product.as_str()).or_default() += l.quantity;
    }
    !lines.is_empty()
        && need
            .iter()
            .all(|(p, q)| left.get(&(*p, site)).copied().unwrap_or(0) >= *q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn loc(country: &str, postal: &str) -> Location {
        Location {
            country: country.into(),
            postal_code: postal.into(),
        }
    }

    fn need(line_no: i64, product: &str, quantity: i64) -> LineNeed {
        LineNeed {
            line_no,
            product: product.into(),
            quantity,
        }
    }

    fn stock(rows: &[(&str, &str, i64)]) -> HashMap<String, Vec<(String, i64)>> {
        let mut m: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for (p, s, q) in rows {
            m.entry(p.to_string())
                .or_default()
                .push((s.to_string(), *q));
        }
        m
    }

    #[test]
    fn zones_are_local_national_and_abroad() {
        assert_eq!(zone(&loc("DE", "10115"), &loc("de", "10997")), 1);
        assert_eq!(zone(&loc("DE", "10115"), &loc("DE", "80331")), 2);
        assert_eq!(zone(&loc("DE", "10115"), &loc("AT", "1010")), 3);
        let to = loc("DE", "14467");
        assert!(
            distance(Some(&loc("DE", "14480")), &to) < distance(Some(&loc("DE", "10115")), &to)
        );
        assert!(
            distance(Some(&loc("DE", "80331")), &to) < distance(Some(&loc("FR", "14467")), &to)
        );
        assert!(distance(Some(&loc("FR", "75001")), &to) < distance(None, &to));
    }

    #[test]
    fn the_nearest_warehouse_that_can_ship_the_whole_order_takes_it() {
        let sites = vec!["near".to_string(), "far".to_string(), "big".to_string()];
        let s = stock(&[
            ("a", "near", 5),
            ("b", "near", 1),
            ("a", "far", 5),
            ("b", "far", 5),
            ("a", "big", 50),
            ("b", "big", 50),
        ]);
        let plan = plan_order(&[need(1, "a", 3), need(2, "b", 2)], &sites, &s);
        assert_eq!(plan, vec![(1, "far".into(), 3), (2, "far".into(), 2)]);
    }

    #[test]
    fn an_order_no_warehouse_can_ship_whole_is_split_line_by_line() {
        let sites = vec!["near".to_string(), "far".to_string()];
        let s = stock(&[
            ("a", "near", 5),
            ("b", "far", 5),
            ("c", "near", 2),
            ("c", "far", 2),
        ]);
        let plan = plan_order(
            &[
                need(1, "a", 3),
                need(2, "b", 2),
                need(3, "c", 2),
                need(4, "c", 1),
            ],
            &sites,
            &s,
        );
        assert_eq!(
            plan,
            vec![
                (1, "near".into(), 3),
                (2, "far".into(), 2),
                (3, "near".into(), 2),
                (4, "far".into(), 1)
            ]
        );
        // Short everywhere: split nearest first, the rest is backordered.
        let plan = plan_order(&[need(1, "c", 6)], &sites, &s);
        assert_eq!(plan, vec![(1, "near".into(), 2), (1, "far".into(), 2)]);
    }

    proptest! {
        #[test]
        fn a_plan_never_takes_more_than_needed_or_in_stock(
            needs in proptest::collection::vec((0usize..3, 0i64..20), 1..5),
            rows in proptest::collection::vec((0usize..3, 0usize..3, -5i64..30), 0..9),
        ) {
            let sites: Vec<String> = (0..3).map(|i| format!("w{i}")).collect();
            let lines: Vec<LineNeed> = needs.iter().enumerate()
                .map(|(i, (p, q))| need(i as i64 + 1, &format!("p{p}"), *q)).collect();
            let mut avail: HashMap<String, Vec<(String, i64)>> = HashMap::new();
            for (p, s, q) in &rows {
                avail.entry(format!("p{p}")).or_default().push((format!("w{s}"), *q));
            }
            let plan = plan_order(&lines, &sites, &avail);
            for l in &lines {
                let got: i64 = plan.iter().filter(|t| t.0 == l.line_no).map(|t| t.2).sum();
                prop_assert!(got <= l.quantity);
            }
            for p in 0..3 {
                let product = format!("p{p}");
                let total_stock: i64 = avail.get(&product).map(|v| v.iter().map(|x| x.1.max(0)).sum()).unwrap_or(0);
                let total_need: i64 = lines.iter().filter(|l| l.product == product).map(|l| l.quantity).sum();
                let taken: i64 = plan.iter().filter(|t| lines.iter().any(|l| l.line_no == t.0 && l.product == product)).map(|t| t.2).sum();
                // Everything that can be reserved is, and nothing more.
                prop_assert_eq!(taken, total_need.min(total_stock));
                for s in &sites {
                    let here: i64 = avail.get(&product).map(|v| v.iter().filter(|x| &x.0 == s).map(|x| x.1.max(0)).sum()).unwrap_or(0);
                    let took: i64 = plan.iter().filter(|t| &t.1 == s && lines.iter().any(|l| l.line_no == t.0 && l.product == product)).map(|t| t.2).sum();
                    prop_assert!(took <= here);
                }
            }
            for t in &plan {
                prop_assert!(t.2 > 0);
            }
        }
    }
}
