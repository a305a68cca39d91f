//! Which backups a retention policy keeps: the newest backup of each of the last N days,
//! N ISO weeks and N months that have one (days, weeks and months in UTC), as restic and
//! borg count them. A backup any rule keeps is kept; the newest is always kept.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};

/// How many daily, weekly and monthly backups to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) daily: u32,
    pub(crate) weekly: u32,
    pub(crate) monthly: u32,
}

impl Policy {
    /// True when a flag asked for pruning; without one nothing is ever deleted.
    pub(crate) fn prunes(&self) -> bool {
        self.daily > 0 || self.weekly > 0 || self.monthly > 0
    }
}

/// Indexes into `taken` of the backups to keep.
pub(crate) fn keep(taken: &[DateTime<Utc>], policy: Policy) -> BTreeSet<usize> {
    let mut order: Vec<usize> = (0..taken.len()).collect();
    order.sort_by(|a, b| taken[*b].cmp(&taken[*a]));
    let mut kept = BTreeSet::new();
    if let Some(newest) = order.first() {
        kept.insert(*newest);
    }
    let mut rule = |count: u32, bucket: &dyn Fn(DateTime<Utc>) -> (i32, u32)| {
        let mut left = count;
        let mut last = None;
        for &i in &order {
            if left == 0 {
                break;
            }
            let b = bucket(taken[i]);
            if last != Some(b) {
                kept.insert(i);
                last = Some(b);
                left -= 1;
            }
        }
    };
    rule(policy.daily, &|t| (t.year(), t.ordinal()));
    rule(policy.weekly, &|t| {
        let w = t.iso_week();
        (w.year(), w.week())
    });
    rule(policy.monthly, &|t| (t.year(), t.month()));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn the_newest_of_each_day_week_and_month() {
        // Two backups a day for 120 days, ending Wednesday 2026-12-02.
        let end = at(2026, 12, 2, 20);
        let taken: Vec<_> = (0..240).map(|i| end - Duration::hours(12 * i)).collect();
        let kept = keep(
            &taken,
            Policy {
                daily: 7,
                weekly: 4,
                monthly: 3,
            },
        );
        let mut days: Vec<String> = kept
            .iter()
            .map(|&i| taken[i].format("%Y-%m-%d %H").to_string())
            .collect();
        days.sort();
        assert_eq!(
            days,
            [
                "2026-10-31 20", // month: October
                "2026-11-15 20", // week 46 (Sunday)
                "2026-11-22 20", // week 47
                "2026-11-26 20", // day
                "2026-11-27 20",
                "2026-11-28 20",
                "2026-11-29 20", // day, and week 48
                "2026-11-30 20", // day, month: November
                "2026-12-01 20",
                "2026-12-02 20", // day, week 49, month: December
            ]
        );
    }

    #[test]
    fn no_flag_keeps_everything_and_zero_still_keeps_the_newest() {
        assert!(!Policy::default().prunes());
        let taken = [at(2026, 1, 1, 0), at(2026, 1, 3, 0), at(2026, 1, 2, 0)];
        assert_eq!(
            keep(&taken, Policy::default()),
            BTreeSet::from([1]),
            "the newest stays even when no rule keeps it"
        );
        assert!(keep(&[], Policy::default()).is_empty());
    }

    #[test]
    fn fewer_backups_than_the_policy_asks_are_all_kept() {
        let taken = [at(2026, 1, 1, 0), at(2026, 2, 1, 0), at(2026, 3, 1, 0)];
        let kept = keep(
            &taken,
            Policy {
                daily: 30,
                weekly: 0,
                monthly: 0,
            },
        );
        assert_eq!(kept.len(), 3);
    }
}
