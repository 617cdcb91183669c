//! Five-field cron schedules (minute hour day-of-month month day-of-week), in UTC.
//!
//! One implementation for the compiler (which checks `cron "..."` triggers with
//! [`Schedule::parse`]) and the host (which asks [`Schedule::next_after`] when to fire).
//! A field is `*`, a number, a range `a-b`, any of those with a step `/n`, or a list of
//! them separated by commas. Months take `JAN`..`DEC`, weekdays `SUN`..`SAT` (any case);
//! weekday `7` is Sunday like `0`. As in Vixie cron, when both the day of month and the
//! day of week are restricted (neither starts with `*`), a day matches if either does.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    days_restricted: bool,
    weekdays_restricted: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One field's name, bounds and value names (the first name stands for `low`).
struct FieldSpec {
    name: &'static str,
    low: u32,
    high: u32,
    names: &'static [&'static str],
}

const FIELDS: [FieldSpec; 5] = [
    FieldSpec {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
    },
    FieldSpec {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
    },
    FieldSpec {
        name: "day of month",
        low: 1,
        high: 31,
        names: &[],
    },
    FieldSpec {
        name: "month",
        low: 1,
        high: 12,
        names: &MONTHS,
    },
    FieldSpec {
        name: "day of week",
        low: 0,
        high: 7,
        names: &WEEKDAYS,
    },
];

impl FieldSpec {
    fn value(&self, text: &str) -> Result<u32, String> {
        let upper = text.to_ascii_uppercase();
        let named = self
            .names
            .iter()
            .position(|n| *n == upper)
            .map(|i| self.low + i as u32);
        let value = match named {
            Some(v) => v,
            None => text
                .parse::<u32>()
                .map_err(|_| format!("the {} field `{text}` is not a number", self.name))?,
        };
        if value < self.low || value > self.high {
            return Err(format!(
                "{} {value} is outside {}-{}",
                self.name, self.low, self.high
            ));
        }
        Ok(value)
    }

    /// The set of values the field allows, as bits.
    fn parse(&self, field: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => match step.parse::<u32>() {
                    Ok(s) if s > 0 => (range, s),
                    _ => {
                        return Err(format!(
                            "the {} step `{step}` is not a positive number",
                            self.name
                        ))
                    }
                },
                None => (item, 1),
            };
            let (from, to) = if range == "*" {
                (self.low, self.high)
            } else {
                let bounds: Vec<&str> = range.split('-').collect();
                match bounds.as_slice() {
                    [one] => {
                        let v = self.value(one)?;
                        // `5/15` means from 5 to the end in steps of 15.
                        (v, if item.contains('/') { self.high } else { v })
                    }
                    [a, b] => {
                        let (a, b) = (self.value(a)?, self.value(b)?);
                        if a > b {
                            return Err(format!(
                                "the {} range `{range}` runs backwards",
                                self.name
                            ));
                        }
                        (a, b)
                    }
                    _ => return Err(format!("the {} range `{range}` is malformed", self.name)),
                }
            };
            let mut v = from;
            while v <= to {
                bits |= 1 << v;
                v += step;
            }
        }
        Ok(bits)
    }
}

impl Schedule {
    /// Parses a five-field expression; the error says which field is wrong and why.
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let parts: Vec<&str> = expression.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = parts.as_slice() else {
            return Err(format!("expected 5 fields, found {}", parts.len()));
        };
        let mut weekdays = FIELDS[4].parse(weekday)?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & !(1 << 7);
        }
        Ok(Schedule {
            minutes: FIELDS[0].parse(minute)?,
            hours: FIELDS[1].parse(hour)?,
            days: FIELDS[2].parse(day)?,
            months: FIELDS[3].parse(month)?,
            weekdays,
            days_restricted: !day.starts_with('*'),
            weekdays_restricted: !weekday.starts_with('*'),
        })
    }

    /// Whether the schedule fires in the minute that holds `time`.
    pub fn matches(&self, time: DateTime<Utc>) -> bool {
        has(self.minutes, time.minute())
            && has(self.hours, time.hour())
            && has(self.months, time.month())
            && self.day_matches(time.date_naive())
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let day = has(self.days, date.day());
        let weekday = has(self.weekdays, date.weekday().num_days_from_sunday());
        if self.days_restricted && self.weekdays_restricted {
            day || weekday
        } else {
            day && weekday
        }
    }

    /// The first whole minute strictly after `time` that the schedule fires in; `None`
    /// when it never fires (such as `0 0 30 2 *`).
    pub fn next_after(&self, time: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = time.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        // A February 29th that falls on a given weekday can be 28 years away.
        let last_year = start.year() + 29;
        let mut t = start;
        while t.year() <= last_year {
            if !has(self.months, t.month()) {
                let (year, month) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                t = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()?;
                continue;
            }
            if !self.day_matches(t.date_naive()) {
                t = Utc
                    .from_utc_datetime(&t.date_naive().and_hms_opt(0, 0, 0)?)
                    .checked_add_signed(Duration::days(1))?;
                continue;
            }
            if !has(self.hours, t.hour()) {
                t = t.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if !has(self.minutes, t.minute()) {
                t += Duration::minutes(1);
                continue;
            }
            return Some(t);
        }
        None
    }
}

fn has(bits: u64, value: u32) -> bool {
    bits & (1 << value) != 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn next(expression: &str, from: &str) -> String {
        Schedule::parse(expression)
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .next_after(at(from))
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into())
    }

    #[test]
    fn next_fire_times() {
        let cases = [
            (
                "* * * * *",
                "2025-03-01T10:00:30Z",
                "2025-03-01T10:01:00+00:00",
            ),
            (
                "*/15 * * * *",
                "2025-03-01T10:00:00Z",
                "2025-03-01T10:15:00+00:00",
            ),
            (
                "30 1 * * *",
                "2025-03-01T10:00:00Z",
                "2025-03-02T01:30:00+00:00",
            ),
            (
                "0 9 * * MON-FRI",
                "2025-03-01T10:00:00Z",
                "2025-03-03T09:00:00+00:00",
            ),
            (
                "0 0 1 JAN *",
                "2025-03-01T10:00:00Z",
                "2026-01-01T00:00:00+00:00",
            ),
            (
                "0 0 29 2 *",
                "2025-03-01T10:00:00Z",
                "2028-02-29T00:00:00+00:00",
            ),
            ("0 0 30 2 *", "2025-03-01T10:00:00Z", "never"),
            (
                "5/20 * * * *",
                "2025-03-01T10:30:00Z",
                "2025-03-01T10:45:00+00:00",
            ),
            (
                "0 12 * * 7",
                "2025-03-01T10:00:00Z",
                "2025-03-02T12:00:00+00:00",
            ),
            (
                "0,30 8-9 * * *",
                "2025-03-01T09:30:00Z",
                "2025-03-02T08:00:00+00:00",
            ),
            // Both day fields restricted: either matches (the 15th, or a Monday).
            (
                "0 0 15 * MON",
                "2025-03-01T10:00:00Z",
                "2025-03-03T00:00:00+00:00",
            ),
            (
                "59 23 31 12 *",
                "2025-12-31T23:59:00Z",
                "2026-12-31T23:59:00+00:00",
            ),
        ];
        for (expression, from, expected) in cases {
            assert_eq!(
                next(expression, from),
                expected,
                "{expression} after {from}"
            );
        }
    }

    #[test]
    fn errors_name_the_field() {
        let error = |e: &str| Schedule::parse(e).err().unwrap_or_default();
        assert_eq!(error("* * *"), "expected 5 fields, found 3");
        assert_eq!(error("60 * * * *"), "minute 60 is outside 0-59");
        assert_eq!(
            error("* * * FOO *"),
            "the month field `FOO` is not a number"
        );
        assert_eq!(
            error("*/0 * * * *"),
            "the minute step `0` is not a positive number"
        );
        assert_eq!(error("* 5-2 * * *"), "the hour range `5-2` runs backwards");
        assert_eq!(
            error("* * 1-2-3 * *"),
            "the day of month range `1-2-3` is malformed"
        );
        assert!(Schedule::parse("0 0 * jan-mar sun,sat").is_ok());
    }

    fn field(low: u32, high: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            (low..=high).prop_map(|v| v.to_string()),
            (low..=high, low..=high).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
            (1u32..20).prop_map(|s| format!("*/{s}")),
            (low..=high, low..=high).prop_map(|(a, b)| format!("{a},{b}")),
        ]
    }

    proptest! {
        #[test]
        fn the_next_fire_time_is_later_and_matches(
            fields in (field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 7)),
            seconds in 0i64..4_000_000_000,
        ) {
            let expression = format!("{} {} {} {} {}", fields.0, fields.1, fields.2, fields.3, fields.4);
            let schedule = Schedule::parse(&expression);
            prop_assert!(schedule.is_ok(), "{expression}: {schedule:?}");
            let schedule = schedule.unwrap_or_else(|_| unreachable!());
            let now = Utc.timestamp_opt(seconds, 0).single().unwrap_or_default();
            let next = schedule.next_after(now);
            prop_assert!(next.is_some(), "{expression} never fires after {now}");
            let next = next.unwrap_or_default();
            prop_assert!(next > now);
            prop_assert!(schedule.matches(next), "{expression}: {next}");
            prop_assert_eq!(next.second(), 0);
            // No firing is skipped: no minute in between matches (checked over a day).
            let mut t = now.with_second(0).unwrap_or_default() + Duration::minutes(1);
            while t < next && t < now + Duration::days(1) {
                prop_assert!(!schedule.matches(t), "{expression}: {t} skipped before {next}");
                t += Duration::minutes(1);
            }
        }
    }
}
