//! Calendar dates as day numbers, so that the engine can count days with plain integers.
//!
//! A [`Date`] is the number of days since 1970-01-01 in the proleptic Gregorian calendar.
//! The conversion is Howard Hinnant's `days_from_civil`, exact for every date we meet.

use std::fmt;

/// A calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// A calendar month, `year * 12 + (month - 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Date {
    /// The date of a year, month (1-12) and day (1-31), or `None` if it does not exist.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m as i32 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// Year, month (1-12) and day (1-31).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    /// Today, in UTC, by the system clock (a clock set before 1970 gives 1970-01-01).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date((secs / 86_400) as i32)
    }

    /// A moment as ISO 8601 in UTC, to the second: `2026-11-29T10:31:20Z` (a clock set
    /// before 1970 gives 1970-01-01T00:00:00Z).
    pub fn timestamp(t: std::time::SystemTime) -> String {
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let day = Date((secs / 86_400) as i32);
        let s = secs % 86_400;
        format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = s[0..4].parse().ok()?;
        let m = s[5..7].parse().ok()?;
        let d = s[8..10].parse().ok()?;
        Date::from_ymd(y, m, d)
    }

    pub fn month(self) -> Month {
        let (y, m, _) = self.ymd();
        Month(y * 12 + m as i32 - 1)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    pub fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        let y: i32 = s[0..4].parse().ok()?;
        let m: i32 = s[5..7].parse().ok()?;
        (1..=12).contains(&m).then_some(Month(y * 12 + m - 1))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// Month of the year, 1-12.
    pub fn number(self) -> u32 {
        (self.0.rem_euclid(12) + 1) as u32
    }

    pub fn first_day(self) -> Date {
        Date::from_ymd(self.year(), self.number(), 1).expect("first of a month exists")
    }

    pub fn days(self) -> u32 {
        days_in_month(self.year(), self.number())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.number())
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_in_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_948_280);
        assert_eq!(Date::timestamp(t), "2026-11-29T10:31:20Z");
        assert_eq!(
            Date::timestamp(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn round_trips_and_known_values() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(Date::parse("2023-03-25").unwrap().to_string(), "2023-03-25");
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_days(1).to_string(),
            "2024-03-01"
        );
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
        for d in -800_000..800_000 {
            let (y, m, dd) = Date(d).ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(Date(d)));
        }
    }

    #[test]
    fn months() {
        let m = Month::parse("2022-12").unwrap();
        assert_eq!(m.to_string(), "2022-12");
        assert_eq!(Month(m.0 + 1).to_string(), "2023-01");
        assert_eq!(Month::parse("2024-02").unwrap().days(), 29);
        assert_eq!(Date::parse("2022-12-31").unwrap().month(), m);
        assert_eq!(Month::parse("2022-13"), None);
    }
}
