//! Go's `time` as sprig's date functions use it: `time.Time` values with fixed zones, layouts
//! (`Format` and `ParseInLocation`), `Duration.String` and `ParseDuration`; and the sprig
//! functions (`now`, `date`, `dateInZone`, `toDate`, `dateModify`, `duration`, ...).
//!
//! The local zone is UTC, as in the controller's container. IANA zones come from jiff's
//! bundled tz database, for instants from 1970 to 2099.

use std::rc::Rc;

use super::cx::Cx;
use super::error::{FnError, MAX_RENDERED_LEN, check_len, failed};
use super::value::{GoTime, IntTy, Value, Zone, owned};

// Local forms of funcs' helpers: this module comes after `format`, which prints times.
type R<'a> = Result<Value<'a>, FnError>;

fn args<const N: usize>(argv: Vec<Value<'_>>) -> Result<[Value<'_>; N], FnError> {
    argv.try_into()
        .map_err(|_| failed("internal error: wrong argument count"))
}

fn sized<'a>(bytes: Vec<u8>) -> R<'a> {
    check_len(bytes.len() as u128)?;
    Ok(owned(bytes))
}

const NS_PER_SEC: i64 = 1_000_000_000;

/// Largest |Unix seconds| handled: far inside the range where Go's arithmetic is exact
/// (`time.Unix` wraps near `i64::MAX`), and still some billions of years.
const MAX_ABS_UNIX: i64 = 1 << 62;

/// Seconds from 0001-01-01 to 1970-01-01: Go's zero `time.Time` is year 1.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

fn out_of_range() -> FnError {
    FnError::Unsupported("time outside the range this renderer handles".into())
}

impl Zone {
    fn utc() -> Zone {
        Zone {
            name: Rc::from("UTC"),
            offset: 0,
        }
    }
}

impl GoTime {
    fn unix(sec: i64, nsec: u32, zone: Zone) -> Result<GoTime, FnError> {
        if sec.unsigned_abs() > MAX_ABS_UNIX as u64 {
            return Err(out_of_range());
        }
        Ok(GoTime {
            sec,
            nsec,
            zone,
            mono: false,
        })
    }

    /// Go's zero `time.Time`, what `toDate` gives for what it cannot parse.
    fn zero() -> GoTime {
        GoTime {
            sec: ZERO_TIME_UNIX,
            nsec: 0,
            zone: Zone::utc(),
            mono: false,
        }
    }

    /// Go's `Time.String()`; refused for a time with a monotonic reading, whose ` m=+...`
    /// suffix (time since the process started) cannot be reproduced.
    pub(super) fn string(&self) -> Result<Vec<u8>, FnError> {
        if self.mono {
            return Err(FnError::Unsupported(
                "printing a time with a monotonic clock reading (now); format it with date".into(),
            ));
        }
        format(self, b"2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// `t.Add(d)`. Go saturates only near its own range limits, which are refused here.
    fn add(&self, d: i64) -> Result<GoTime, FnError> {
        let total =
            i128::from(self.sec) * i128::from(NS_PER_SEC) + i128::from(self.nsec) + i128::from(d);
        let sec = total.div_euclid(i128::from(NS_PER_SEC));
        let nsec = total.rem_euclid(i128::from(NS_PER_SEC)) as u32;
        let sec = i64::try_from(sec).map_err(|_| out_of_range())?;
        let mut t = GoTime::unix(sec, nsec, self.zone.clone())?;
        t.mono = self.mono;
        Ok(t)
    }

    fn in_zone(&self, zone: Zone) -> GoTime {
        // Go's `In` drops the monotonic reading.
        GoTime {
            sec: self.sec,
            nsec: self.nsec,
            zone,
            mono: false,
        }
    }
}

// Calendar arithmetic (proleptic Gregorian, as Go's), on days since 1970-01-01.

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days before the first of `month` in a non-leap year (Go's daysBefore).
fn days_before(month: i64) -> i64 {
    (1..month).map(|m| days_in(m, 2001)).sum()
}

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's layout elements (format.go's `std*` constants).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// `.000` (trailing zeros kept): the digit count (Go keeps 12 bits of it) and separator.
    Frac0(usize, u8),
    /// `.999` (trailing zeros dropped).
    Frac9(usize, u8),
}

fn starts_lower(s: &[u8]) -> bool {
    s.first().is_some_and(u8::is_ascii_lowercase)
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's nextStdChunk: the literal prefix, the element, and the rest of the layout.
fn next_std_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let at = |i: usize, s: &[u8]| layout.get(i..i + s.len()) == Some(s);
    for i in 0..layout.len() {
        let found = |std: Std, len: usize| Some((&layout[..i], Some(std), &layout[i + len..]));
        let chunk = match layout[i] {
            b'J' if at(i, b"Jan") => {
                if at(i, b"January") {
                    found(Std::LongMonth, 7)
                } else if !starts_lower(&layout[i + 3..]) {
                    found(Std::Month, 3)
                } else {
                    None
                }
            }
            b'M' if layout.len() >= i + 3 => {
                if at(i, b"Mon") {
                    if at(i, b"Monday") {
                        found(Std::LongWeekDay, 6)
                    } else if !starts_lower(&layout[i + 3..]) {
                        found(Std::WeekDay, 3)
                    } else if at(i, b"MST") {
                        found(Std::TZ, 3)
                    } else {
                        None
                    }
                } else if at(i, b"MST") {
                    found(Std::TZ, 3)
                } else {
                    None
                }
            }
            b'0' => match layout.get(i + 1) {
                Some(c @ b'1'..=b'6') => {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][usize::from(c - b'1')];
                    found(std, 2)
                }
                Some(b'0') if layout.get(i + 2) == Some(&b'2') => found(Std::ZeroYearDay, 3),
                _ => None,
            },
            b'1' => {
                if layout.get(i + 1) == Some(&b'5') {
                    found(Std::Hour, 2)
                } else {
                    found(Std::NumMonth, 1)
                }
            }
            b'2' => {
                if at(i, b"2006") {
                    found(Std::LongYear, 4)
                } else {
                    found(Std::Day, 1)
                }
            }
            b'_' => {
                if layout.get(i + 1) == Some(&b'2') {
                    if at(i + 1, b"2006") {
                        // `_2006` is a literal `_` and the year.
                        Some((&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]))
                    } else {
                        found(Std::UnderDay, 2)
                    }
                } else if at(i + 1, b"_2") {
                    found(Std::UnderYearDay, 3)
                } else {
                    None
                }
            }
            b'3' => found(Std::Hour12, 1),
            b'4' => found(Std::Minute, 1),
            b'5' => found(Std::Second, 1),
            b'P' if layout.get(i + 1) == Some(&b'M') => found(Std::PM, 2),
            b'p' if layout.get(i + 1) == Some(&b'm') => found(Std::Pm, 2),
            b'-' => {
                if at(i, b"-070000") {
                    found(Std::NumSecondsTz, 7)
                } else if at(i, b"-07:00:00") {
                    found(Std::NumColonSecondsTZ, 9)
                } else if at(i, b"-0700") {
                    found(Std::NumTZ, 5)
                } else if at(i, b"-07:00") {
                    found(Std::NumColonTZ, 6)
                } else if at(i, b"-07") {
                    found(Std::NumShortTZ, 3)
                } else {
                    None
                }
            }
            b'Z' => {
                if at(i, b"Z070000") {
                    found(Std::Iso8601SecondsTZ, 7)
                } else if at(i, b"Z07:00:00") {
                    found(Std::Iso8601ColonSecondsTZ, 9)
                } else if at(i, b"Z0700") {
                    found(Std::Iso8601TZ, 5)
                } else if at(i, b"Z07:00") {
                    found(Std::Iso8601ColonTZ, 6)
                } else if at(i, b"Z07") {
                    found(Std::Iso8601ShortTZ, 3)
                } else {
                    None
                }
            }
            c @ (b'.' | b',') => match layout.get(i + 1) {
                Some(&ch @ (b'0' | b'9')) => {
                    let mut j = i + 1;
                    while layout.get(j) == Some(&ch) {
                        j += 1;
                    }
                    if is_digit(layout, j) {
                        None
                    } else {
                        let n = (j - (i + 1)) & 0xfff;
                        let std = if ch == b'0' {
                            Std::Frac0(n, c)
                        } else {
                            Std::Frac9(n, c)
                        };
                        Some((&layout[..i], Some(std), &layout[j..]))
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(chunk) = chunk {
            return chunk;
        }
    }
    (layout, None, &[])
}

/// Go's appendInt: `x` in decimal, zero-padded to `width` digits, `-` first if negative.
fn append_int(out: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        out.push(b'-');
    }
    let digits = x.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits.as_bytes());
}

/// Go's appendNano.
fn append_nano(out: &mut Vec<u8>, nsec: u32, n: usize, sep: u8, trim: bool) {
    if trim && (n == 0 || nsec == 0) {
        return;
    }
    let start = out.len();
    out.push(sep);
    append_int(out, i64::from(nsec), 9);
    if n < 9 {
        out.truncate(out.len() - 9 + n);
    }
    if trim {
        while out.len() > start && out.last() == Some(&b'0') {
            out.pop();
        }
        if out.len() > start && out.last() == Some(&sep) {
            out.pop();
        }
    }
}

/// Go's `Time.Format`.
pub(super) fn format(t: &GoTime, mut layout: &[u8]) -> Result<Vec<u8>, FnError> {
    let offset = i64::from(t.zone.offset);
    let local = t.sec + offset;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let yday = days - days_from_civil(year, 1, 1) + 1;
    let (hour, min, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let mut out = Vec::with_capacity(layout.len() + 10);
    while !layout.is_empty() {
        let (prefix, std, suffix) = next_std_chunk(layout);
        out.extend_from_slice(prefix);
        let Some(std) = std else { break };
        layout = suffix;
        match std {
            Std::Year => append_int(&mut out, year.abs() % 100, 2),
            Std::LongYear => append_int(&mut out, year, 4),
            Std::Month => out.extend_from_slice(SHORT_MONTHS[month as usize - 1].as_bytes()),
            Std::LongMonth => out.extend_from_slice(LONG_MONTHS[month as usize - 1].as_bytes()),
            Std::NumMonth => append_int(&mut out, month, 0),
            Std::ZeroMonth => append_int(&mut out, month, 2),
            Std::WeekDay => out.extend_from_slice(SHORT_DAYS[weekday].as_bytes()),
            Std::LongWeekDay => out.extend_from_slice(LONG_DAYS[weekday].as_bytes()),
            Std::Day => append_int(&mut out, day, 0),
            Std::UnderDay => {
                if day < 10 {
                    out.push(b' ');
                }
                append_int(&mut out, day, 0);
            }
            Std::ZeroDay => append_int(&mut out, day, 2),
            Std::UnderYearDay => {
                if yday < 100 {
                    out.push(b' ');
                    if yday < 10 {
                        out.push(b' ');
                    }
                }
                append_int(&mut out, yday, 0);
            }
            Std::ZeroYearDay => append_int(&mut out, yday, 3),
            Std::Hour => append_int(&mut out, hour, 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let hr = if hour % 12 == 0 { 12 } else { hour % 12 };
                append_int(&mut out, hr, if std == Std::Hour12 { 0 } else { 2 });
            }
            Std::Minute => append_int(&mut out, min, 0),
            Std::ZeroMinute => append_int(&mut out, min, 2),
            Std::Second => append_int(&mut out, sec, 0),
            Std::ZeroSecond => append_int(&mut out, sec, 2),
            Std::PM => out.extend_from_slice(if hour >= 12 { b"PM" } else { b"AM" }),
            Std::Pm => out.extend_from_slice(if hour >= 12 { b"pm" } else { b"am" }),
            Std::TZ => {
                if !t.zone.name.is_empty() {
                    out.extend_from_slice(t.zone.name.as_bytes());
                } else {
                    let mut zone = offset / 60;
                    if zone < 0 {
                        out.push(b'-');
                        zone = -zone;
                    } else {
                        out.push(b'+');
                    }
                    append_int(&mut out, zone / 60, 2);
                    append_int(&mut out, zone % 60, 2);
                }
            }
            Std::Frac0(n, c) => append_nano(&mut out, t.nsec, n, c, false),
            Std::Frac9(n, c) => append_nano(&mut out, t.nsec, n, c, true),
            zone_std => {
                let iso = matches!(
                    zone_std,
                    Std::Iso8601TZ
                        | Std::Iso8601ColonTZ
                        | Std::Iso8601SecondsTZ
                        | Std::Iso8601ShortTZ
                        | Std::Iso8601ColonSecondsTZ
                );
                if offset == 0 && iso {
                    out.push(b'Z');
                } else {
                    // Go's arithmetic, truncating toward zero: an offset of less than a
                    // minute west prints "+00" and a negative seconds field, as Go does.
                    let mut zone = offset / 60;
                    let mut absoffset = offset;
                    if zone < 0 {
                        out.push(b'-');
                        zone = -zone;
                        absoffset = -absoffset;
                    } else {
                        out.push(b'+');
                    }
                    append_int(&mut out, zone / 60, 2);
                    let colon = matches!(
                        zone_std,
                        Std::Iso8601ColonTZ
                            | Std::NumColonTZ
                            | Std::Iso8601ColonSecondsTZ
                            | Std::NumColonSecondsTZ
                    );
                    if colon {
                        out.push(b':');
                    }
                    if !matches!(zone_std, Std::NumShortTZ | Std::Iso8601ShortTZ) {
                        append_int(&mut out, zone % 60, 2);
                    }
                    let seconds = matches!(
                        zone_std,
                        Std::Iso8601SecondsTZ
                            | Std::NumSecondsTz
                            | Std::NumColonSecondsTZ
                            | Std::Iso8601ColonSecondsTZ
                    );
                    if seconds {
                        if matches!(
                            zone_std,
                            Std::NumColonSecondsTZ | Std::Iso8601ColonSecondsTZ
                        ) {
                            out.push(b':');
                        }
                        append_int(&mut out, absoffset % 60, 2);
                    }
                }
            }
        }
        check_len(out.len() as u128)?;
    }
    check_len(out.len() as u128)?;
    Ok(out)
}

// Parsing (Go's `time.parse`).

/// Why a value did not parse. Go's messages quote the value and layout; these do not, as
/// they may hold item values.
struct ParseError(&'static str);

/// The value did not match the layout (Go: `cannot parse "..." as "..."`).
const BAD: ParseError = ParseError("the value does not match the layout");

/// Go's leadingInt: the leading decimal digits, `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's time.atoi: an optionally signed decimal integer, all of `s`.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (q, rem) = leading_int(s)?;
    if !rem.is_empty() {
        return None;
    }
    let x = q as i64; // Go's int(q), wrapping at 2^63 as Go does.
    Some(if neg { x.wrapping_neg() } else { x })
}

fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit(s, 0) {
        return None;
    }
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

fn cutspace(mut s: &[u8]) -> &[u8] {
    while s.first() == Some(&b' ') {
        s = &s[1..];
    }
    s
}

/// Go's skip: the layout's literal text, where a space matches any run of spaces.
fn skip<'v>(mut value: &'v [u8], mut prefix: &[u8]) -> Option<&'v [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = cutspace(prefix);
            value = cutspace(value);
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

/// Go's lookup: a case-insensitive match of one of `tab` at the start of `val`.
fn lookup<'v>(tab: &[&str], val: &'v [u8]) -> Option<(i64, &'v [u8])> {
    for (i, v) in tab.iter().enumerate() {
        let v = v.as_bytes();
        if val.len() >= v.len() && val[..v.len()].eq_ignore_ascii_case(v) {
            return Some((i as i64, &val[v.len()..]));
        }
    }
    None
}

fn comma_or_period(b: u8) -> bool {
    b == b'.' || b == b','
}

/// Go's parseNanoseconds: `nbytes` bytes of `value`, the separator first.
fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<i64, ParseError> {
    if !value.first().is_some_and(|&c| comma_or_period(c)) {
        return Err(BAD);
    }
    let nbytes = nbytes.min(10);
    let mut ns = atoi(&value[1..nbytes]).ok_or(BAD)?;
    if ns < 0 {
        return Err(ParseError("fractional second out of range"));
    }
    for _ in nbytes..10 {
        ns *= 10;
    }
    Ok(ns)
}

fn parse_signed_offset(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'-' | b'+')) {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rem)) if rem.len() != value.len() - 1 && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

/// Go's parseTimeZone: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(
            3 + if value.len() == 3 {
                0
            } else {
                parse_signed_offset(&value[3..])
            },
        );
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// A numeric zone offset's sign, hour, minute and second fields, and its length.
type OffsetParts<'v> = (u8, &'v [u8], &'v [u8], &'v [u8], usize);

/// Go's `time.ParseInLocation(layout, value, time.Local)`, Local being UTC.
fn parse(mut layout: &[u8], mut value: &[u8]) -> Result<GoTime, ParseError> {
    let mut am_set = false;
    let mut pm_set = false;
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut z_utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name: &[u8] = b"";
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        value = skip(value, prefix).ok_or(BAD)?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(ParseError("extra text after the layout"));
            }
            break;
        };
        layout = suffix;
        let mut range_err: Option<&'static str> = None;
        let v = value;
        let ok: Option<&[u8]> = match std {
            Std::Year => v.get(..2).and_then(|p| {
                let y = atoi(p)?;
                year = if y >= 69 { y + 1900 } else { y + 2000 };
                Some(&v[2..])
            }),
            Std::LongYear => {
                if v.len() < 4 || !is_digit(v, 0) {
                    None
                } else {
                    atoi(&v[..4]).map(|y| {
                        year = y;
                        &v[4..]
                    })
                }
            }
            Std::Month | Std::LongMonth => {
                let tab: &[&str] = if std == Std::Month {
                    &SHORT_MONTHS
                } else {
                    &LONG_MONTHS
                };
                lookup(tab, v).map(|(m, rest)| {
                    month = m + 1;
                    rest
                })
            }
            Std::NumMonth | Std::ZeroMonth => getnum(v, std == Std::ZeroMonth).map(|(m, rest)| {
                month = m;
                if !(1..=12).contains(&m) {
                    range_err = Some("month out of range");
                }
                rest
            }),
            Std::WeekDay => lookup(&SHORT_DAYS, v).map(|(_, rest)| rest),
            Std::LongWeekDay => lookup(&LONG_DAYS, v).map(|(_, rest)| rest),
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                let v = if std == Std::UnderDay && v.first() == Some(&b' ') {
                    &v[1..]
                } else {
                    v
                };
                getnum(v, std == Std::ZeroDay).map(|(d, rest)| {
                    day = d;
                    rest
                })
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                let mut v = v;
                for _ in 0..2 {
                    if std == Std::UnderYearDay && v.first() == Some(&b' ') {
                        v = &v[1..];
                    }
                }
                getnum3(v, std == Std::ZeroYearDay).map(|(d, rest)| {
                    yday = d;
                    rest
                })
            }
            Std::Hour => {
                let r = getnum(v, false).map(|(h, rest)| {
                    hour = h;
                    rest
                });
                // Go checks the range even when no number was read (hour is then 0).
                if !(0..24).contains(&hour) {
                    range_err = Some("hour out of range");
                }
                r
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let r = getnum(v, std == Std::ZeroHour12).map(|(h, rest)| {
                    hour = h;
                    rest
                });
                if !(0..=12).contains(&hour) {
                    range_err = Some("hour out of range");
                }
                r
            }
            Std::Minute | Std::ZeroMinute => {
                let r = getnum(v, std == Std::ZeroMinute).map(|(m, rest)| {
                    min = m;
                    rest
                });
                if !(0..60).contains(&min) {
                    range_err = Some("minute out of range");
                }
                r
            }
            Std::Second | Std::ZeroSecond => match getnum(v, std == Std::ZeroSecond) {
                None => None,
                Some((s, rest)) => {
                    sec = s;
                    if !(0..60).contains(&s) {
                        range_err = Some("second out of range");
                        Some(rest)
                    } else if rest.len() >= 2 && comma_or_period(rest[0]) && is_digit(rest, 1) {
                        // A fraction the layout does not spell: read it, unless the
                        // layout's next element is a fraction.
                        match next_std_chunk(layout).1 {
                            Some(Std::Frac0(..) | Std::Frac9(..)) => Some(rest),
                            _ => {
                                let mut n = 2;
                                while n < rest.len() && is_digit(rest, n) {
                                    n += 1;
                                }
                                match parse_nanoseconds(rest, n) {
                                    Ok(ns) => {
                                        nsec = ns;
                                        Some(&rest[n..])
                                    }
                                    Err(ParseError(m)) if m != BAD.0 => {
                                        range_err = Some(m);
                                        Some(&rest[n..])
                                    }
                                    Err(_) => None,
                                }
                            }
                        }
                    } else {
                        Some(rest)
                    }
                }
            },
            Std::PM | Std::Pm => v.get(..2).and_then(|p| {
                let (am, pm): (&[u8], &[u8]) = if std == Std::PM {
                    (b"AM", b"PM")
                } else {
                    (b"am", b"pm")
                };
                if p == pm {
                    pm_set = true;
                } else if p == am {
                    am_set = true;
                } else {
                    return None;
                }
                Some(&v[2..])
            }),
            Std::Iso8601TZ
            | Std::Iso8601ShortTZ
            | Std::Iso8601ColonTZ
            | Std::Iso8601SecondsTZ
            | Std::Iso8601ColonSecondsTZ
                if v.first() == Some(&b'Z') =>
            {
                z_utc = true;
                Some(&v[1..])
            }
            Std::Iso8601TZ
            | Std::Iso8601ShortTZ
            | Std::Iso8601ColonTZ
            | Std::Iso8601SecondsTZ
            | Std::Iso8601ColonSecondsTZ
            | Std::NumTZ
            | Std::NumShortTZ
            | Std::NumColonTZ
            | Std::NumSecondsTz
            | Std::NumColonSecondsTZ => {
                // (sign, hour, minute, second) positions and the length used.
                let parts: Option<OffsetParts> = match std {
                    Std::Iso8601ColonTZ | Std::NumColonTZ => (v.len() >= 6 && v[3] == b':')
                        .then(|| (v[0], &v[1..3], &v[4..6], &b"00"[..], 6)),
                    Std::NumShortTZ | Std::Iso8601ShortTZ => {
                        (v.len() >= 3).then(|| (v[0], &v[1..3], &b"00"[..], &b"00"[..], 3))
                    }
                    Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                        (v.len() >= 9 && v[3] == b':' && v[6] == b':')
                            .then(|| (v[0], &v[1..3], &v[4..6], &v[7..9], 9))
                    }
                    Std::Iso8601SecondsTZ | Std::NumSecondsTz => {
                        (v.len() >= 7).then(|| (v[0], &v[1..3], &v[3..5], &v[5..7], 7))
                    }
                    _ => (v.len() >= 5).then(|| (v[0], &v[1..3], &v[3..5], &b"00"[..], 5)),
                };
                parts.and_then(|(sign, h, m, s, len)| {
                    // Go reads all three, then checks ranges, then the sign.
                    let mut failed = false;
                    let mut num = |x: &[u8]| match getnum(x, true) {
                        Some((n, _)) if !failed => n,
                        _ => {
                            failed = true;
                            0
                        }
                    };
                    let (hr, mm, ss) = (num(h), num(m), num(s));
                    if hr > 24 {
                        range_err = Some("time zone offset hour out of range");
                    }
                    if mm > 60 {
                        range_err = Some("time zone offset minute out of range");
                    }
                    if ss > 60 {
                        range_err = Some("time zone offset second out of range");
                    }
                    let off = (hr * 60 + mm) * 60 + ss;
                    let off = match sign {
                        b'+' => off,
                        b'-' => -off,
                        _ => return None,
                    };
                    // Go marks "no offset" with -1, so an offset of -1s is none.
                    zone_offset = (off != -1).then_some(off);
                    if failed { None } else { Some(&v[len..]) }
                })
            }
            Std::TZ => {
                if v.starts_with(b"UTC") {
                    z_utc = true;
                    Some(&v[3..])
                } else {
                    parse_time_zone(v).map(|n| {
                        zone_name = &v[..n];
                        &v[n..]
                    })
                }
            }
            Std::Frac0(n, _) => {
                let ndigit = 1 + n;
                if v.len() < ndigit {
                    None
                } else {
                    match parse_nanoseconds(v, ndigit) {
                        Ok(ns) => {
                            nsec = ns;
                            Some(&v[ndigit..])
                        }
                        Err(ParseError(m)) if m != BAD.0 => {
                            range_err = Some(m);
                            Some(&v[ndigit..])
                        }
                        Err(_) => None,
                    }
                }
            }
            Std::Frac9(..) => {
                if v.len() < 2 || !comma_or_period(v[0]) || !v[1].is_ascii_digit() {
                    Some(v)
                } else {
                    let mut i = 0;
                    while i + 1 < v.len() && v[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    match parse_nanoseconds(v, 1 + i) {
                        Ok(ns) => {
                            nsec = ns;
                            Some(&v[1 + i..])
                        }
                        Err(ParseError(m)) if m != BAD.0 => {
                            range_err = Some(m);
                            Some(&v[1 + i..])
                        }
                        Err(_) => None,
                    }
                }
            }
        };
        if let Some(m) = range_err {
            return Err(ParseError(m));
        }
        value = ok.ok_or(BAD)?;
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut d = 0;
        let mut m = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(ParseError("day-of-year out of range"));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if days_before(m + 1) < yday {
                m += 1;
            }
            d = yday - days_before(m);
        }
        if month >= 0 && month != m {
            return Err(ParseError("day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(ParseError("day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(ParseError("day out of range"));
    }
    // Every field is range-checked by now, so Go's Date does not normalise anything.
    let utc = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    let nsec = nsec as u32;
    let fixed = |name: &[u8], offset: i64| Zone {
        name: Rc::from(String::from_utf8_lossy(name).as_ref()),
        offset: offset as i32,
    };
    let (sec, zone) = if z_utc {
        (utc, Zone::utc())
    } else if let Some(offset) = zone_offset {
        // Local (UTC) if the offset is Local's, else a fixed zone of that offset.
        if offset == 0 && (zone_name.is_empty() || zone_name == b"UTC") {
            (utc, Zone::utc())
        } else {
            (utc - offset, fixed(zone_name, offset))
        }
    } else if !zone_name.is_empty() {
        // An abbreviation Local (UTC) does not know: the clock reading stays UTC and the
        // zone is named so, with GMT+h's offset or none.
        let offset = if zone_name.len() > 3 && zone_name.starts_with(b"GMT") {
            atoi(&zone_name[3..]).unwrap_or(0) * 3600
        } else {
            0
        };
        (utc, fixed(zone_name, offset))
    } else {
        (utc, Zone::utc())
    };
    Ok(GoTime {
        sec,
        nsec,
        zone,
        mono: false,
    })
}

// Durations.

/// Go's `Duration.String`.
pub(super) fn duration_string(d: i64) -> String {
    let mut u = d.unsigned_abs();
    let neg = d < 0;
    let mut buf: Vec<u8> = Vec::with_capacity(32);
    // Built backwards, as Go does, then reversed.
    let frac = |buf: &mut Vec<u8>, mut v: u64, prec: usize| -> u64 {
        let mut print = false;
        for _ in 0..prec {
            let digit = v % 10;
            print = print || digit != 0;
            if print {
                buf.push(b'0' + digit as u8);
            }
            v /= 10;
        }
        if print {
            buf.push(b'.');
        }
        v
    };
    let int = |buf: &mut Vec<u8>, mut v: u64| {
        if v == 0 {
            buf.push(b'0');
        }
        while v > 0 {
            buf.push(b'0' + (v % 10) as u8);
            v /= 10;
        }
    };
    if u < 1_000_000_000 {
        buf.push(b's');
        let prec = match u {
            0 => return "0s".into(),
            1..1_000 => {
                buf.push(b'n');
                0
            }
            1_000..1_000_000 => {
                // "µ" reversed.
                buf.extend_from_slice(&[0xb5, 0xc2]);
                3
            }
            _ => {
                buf.push(b'm');
                6
            }
        };
        u = frac(&mut buf, u, prec);
        int(&mut buf, u);
    } else {
        buf.push(b's');
        u = frac(&mut buf, u, 9);
        int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.push(b'm');
            int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'h');
                int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.push(b'-');
    }
    buf.reverse();
    String::from_utf8_lossy(&buf).into_owned()
}

/// Go's leadingFraction.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1.0;
    let mut overflow = false;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let c = s[i];
        i += 1;
        if overflow {
            continue;
        }
        if x > (i64::MAX as u64) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > 1 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go's `time.ParseDuration`; the error names the problem, not the (maybe secret) text.
pub(super) fn parse_duration(orig: &[u8]) -> Result<i64, String> {
    let invalid = || "time: invalid duration".to_string();
    let mut s = orig;
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let pl = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = pl != s.len();
        let mut post = false;
        let (mut f, mut scale) = (0u64, 1.0f64);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let pl = s.len();
            let (ff, sc, rest) = leading_fraction(s);
            (f, scale, s) = (ff, sc, rest);
            post = pl != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err("time: missing unit in duration".into());
        }
        let (u, rest) = s.split_at(i);
        s = rest;
        let unit: u64 = match u {
            b"ns" => 1,
            // us, µs (U+00B5) and μs (U+03BC).
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err("time: unknown unit in duration".into()),
        };
        if v > (1 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        // Go's uint64 addition wraps (2^63 + 2^63 is 0, a valid duration).
        d = d.wrapping_add(v);
        if d > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `Duration.Round(time.Second)`.
fn round_second(d: i64) -> i64 {
    let m = NS_PER_SEC;
    let less_than_half = |x: i64| (x as u64).wrapping_add(x as u64) < m as u64;
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if less_than_half(r) {
            return d + r;
        }
        // Go's arithmetic wraps; the comparison catches it.
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        if d1 < d { d1 } else { i64::MIN }
    } else {
        if less_than_half(r) {
            return d - r;
        }
        let d1 = d.wrapping_add(m).wrapping_sub(r);
        if d1 > d { d1 } else { i64::MAX }
    }
}

/// Go's `t.Sub(u)`, saturating as Go does.
fn sub(t: &GoTime, u: &GoTime) -> i64 {
    let d = (i128::from(t.sec) - i128::from(u.sec)) * i128::from(NS_PER_SEC)
        + (i128::from(t.nsec) - i128::from(u.nsec));
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

// The sprig functions.

fn time_of<'v>(v: &'v Value<'_>) -> Option<&'v GoTime> {
    match v {
        Value::Time(t) => Some(t),
        _ => None,
    }
}

/// `time.Now()`, from the caller's clock: in Local (UTC), with a monotonic reading.
fn now_time(cx: &Cx<'_>) -> Result<GoTime, FnError> {
    let now = cx.now()?;
    let mut t = GoTime::unix(now.unix_timestamp(), now.nanosecond(), Zone::utc())?;
    t.mono = true;
    Ok(t)
}

fn time_value<'a>(t: GoTime) -> Value<'a> {
    Value::Time(Rc::new(t))
}

pub(super) fn now<'a>(cx: &Cx<'a>, _: Vec<Value<'a>>) -> R<'a> {
    Ok(time_value(now_time(cx)?))
}

/// A zone `time.LoadLocation` gives: UTC, or an IANA zone.
enum Location {
    Utc,
    Iana(jiff::tz::TimeZone),
}

/// Instants for which IANA zones are rendered: from 1970, as before it tz databases differ
/// by how they are built (backzone), to 2100.
const IANA_UNIX_RANGE: std::ops::Range<i64> = 0..4_102_444_800;

/// Zones whose offsets or abbreviations from 1970 to 2099 differ between the bundled
/// database (tzdata 2026f, rearguard format) and Go on tzdata 2025b, checked at every
/// transition of either: what a controller renders for these depends on its tzdata.
const UNSURE_ZONES: &[&str] = &[
    "Africa/Casablanca",
    "Africa/El_Aaiun",
    "America/Bogota",
    "America/Edmonton",
    "America/Ensenada",
    "America/Havana",
    "America/Inuvik",
    "America/Rainy_River",
    "America/Santa_Isabel",
    "America/Tijuana",
    "America/Vancouver",
    "America/Winnipeg",
    "America/Yellowknife",
    "Asia/Tehran",
    "Canada/Central",
    "Canada/Mountain",
    "Canada/Pacific",
    "Cuba",
    "EET",
    "Europe/Chisinau",
    "Europe/Tiraspol",
    "Iran",
    "MET",
    "Mexico/BajaNorte",
    "WET",
];

/// `time.LoadLocation(zone)`, falling back to UTC where Go fails for sure. IANA names come
/// from jiff's bundled tz database (never the system's), by exact name as Go opens the
/// file; a name not there, which Go might still find, is refused.
fn load_location(zone: &[u8]) -> Result<Location, FnError> {
    if zone.is_empty() || zone == b"UTC" || zone == b"Local" {
        return Ok(Location::Utc);
    }
    // Go rejects these before looking anywhere.
    if zone.windows(2).any(|w| w == b"..") || zone[0] == b'/' || zone[0] == b'\\' {
        return Ok(Location::Utc);
    }
    let unknown = || FnError::Unsupported("a time zone not in the bundled tz database".into());
    let name = std::str::from_utf8(zone).map_err(|_| unknown())?;
    let tz = jiff::tz::TimeZoneDatabase::bundled()
        .get(name)
        .map_err(|_| unknown())?;
    // jiff looks names up without regard to case; Go's file system does not.
    if tz.iana_name() != Some(name) {
        return Err(unknown());
    }
    if UNSURE_ZONES.contains(&name) {
        return Err(FnError::Unsupported(
            "a time zone whose rules differ between tz database versions".into(),
        ));
    }
    Ok(Location::Iana(tz))
}

/// The zone `t.In(loc)` shows at the instant `t`: its abbreviation and offset.
fn zone_at(loc: &Location, t: &GoTime) -> Result<Zone, FnError> {
    match loc {
        Location::Utc => Ok(Zone::utc()),
        Location::Iana(tz) => {
            if !IANA_UNIX_RANGE.contains(&t.sec) {
                return Err(FnError::Unsupported(
                    "a time before 1970 or after 2099 in an IANA time zone".into(),
                ));
            }
            let ts = jiff::Timestamp::from_second(t.sec).map_err(|_| out_of_range())?;
            let info = tz.to_offset_info(ts);
            Ok(Zone {
                name: Rc::from(info.abbreviation()),
                offset: info.offset().seconds(),
            })
        }
    }
}

/// sprig's dateInZone: the date of a `time.Time` or of Unix seconds (`int`, `int64`);
/// anything else is the current time.
fn date_in_zone_of<'a>(cx: &Cx<'a>, layout: &[u8], date: &Value<'a>, zone: &[u8]) -> R<'a> {
    let t = match date {
        Value::Time(t) => (**t).clone(),
        Value::Int(i, IntTy::Int | IntTy::Int64) => GoTime::unix(*i, 0, Zone::utc())?,
        _ => now_time(cx)?,
    };
    let zone = zone_at(&load_location(zone)?, &t)?;
    sized(format(&t.in_zone(zone), layout)?)
}

pub(super) fn date<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [layout, date] = args(argv)?;
    date_in_zone_of(cx, layout.bytes(), &date, b"Local")
}

pub(super) fn date_in_zone<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [layout, date, zone] = args(argv)?;
    date_in_zone_of(cx, layout.bytes(), &date, zone.bytes())
}

pub(super) fn html_date<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [date] = args(argv)?;
    date_in_zone_of(cx, b"2006-01-02", &date, b"Local")
}

pub(super) fn html_date_in_zone<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [date, zone] = args(argv)?;
    date_in_zone_of(cx, b"2006-01-02", &date, zone.bytes())
}

fn the_time<'v>(v: &'v Value<'_>) -> Result<&'v GoTime, FnError> {
    time_of(v).ok_or_else(|| failed("internal error: not a time"))
}

pub(super) fn date_modify<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, date] = args(argv)?;
    match parse_duration(d.bytes()) {
        Ok(d) => Ok(time_value(the_time(&date)?.add(d)?)),
        Err(_) => Ok(date),
    }
}

pub(super) fn must_date_modify<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, date] = args(argv)?;
    let d = parse_duration(d.bytes()).map_err(FnError::Failed)?;
    Ok(time_value(the_time(&date)?.add(d)?))
}

pub(super) fn to_date<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [layout, value] = args(argv)?;
    Ok(time_value(
        parse(layout.bytes(), value.bytes()).unwrap_or_else(|_| GoTime::zero()),
    ))
}

pub(super) fn must_to_date<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [layout, value] = args(argv)?;
    match parse(layout.bytes(), value.bytes()) {
        Ok(t) => Ok(time_value(t)),
        Err(ParseError(why)) => Err(FnError::Failed(format!("parsing time: {why}"))),
    }
}

pub(super) fn unix_epoch<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [date] = args(argv)?;
    sized(the_time(&date)?.sec.to_string().into_bytes())
}

/// Go's strconv.ParseInt(s, 10, 64) as sprig's duration uses it: out of range saturates,
/// bad syntax is 0 (the error is ignored).
fn parse_int10(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    let mut n: i128 = 0;
    for &c in digits {
        n = (n * 10 + i128::from(c - b'0')).min(1 << 64);
    }
    let n = if neg { -n } else { n };
    n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

pub(super) fn duration<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sec] = args(argv)?;
    // sprig's type switch has `string` and `int64` only: an `int` is 0.
    let n = match &sec {
        Value::Str(s) => parse_int10(s),
        Value::Int(i, IntTy::Int64) => *i,
        _ => 0,
    };
    sized(duration_string(n.wrapping_mul(NS_PER_SEC)).into_bytes())
}

pub(super) fn duration_round<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d] = args(argv)?;
    let d = match &d {
        Value::Str(s) => parse_duration(s).unwrap_or(0),
        Value::Int(i, IntTy::Int64) => *i,
        Value::Time(t) => sub(&now_time(cx)?, t),
        _ => 0,
    };
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const MONTH: u64 = 30 * DAY;
    const YEAR: u64 = 365 * DAY;
    let s = [
        (YEAR, "y"),
        (MONTH, "mo"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
    ]
    .iter()
    .find(|(unit, _)| u > *unit)
    .map_or_else(
        || "0s".to_string(),
        |(unit, name)| format!("{}{name}", u / unit),
    );
    sized(s.into_bytes())
}

pub(super) fn ago<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [date] = args(argv)?;
    let now = now_time(cx)?;
    let t = match &date {
        Value::Time(t) => (**t).clone(),
        Value::Int(i, IntTy::Int | IntTy::Int64) => GoTime::unix(*i, 0, Zone::utc())?,
        _ => now.clone(),
    };
    sized(duration_string(round_second(sub(&now, &t))).into_bytes())
}

/// The bytes `{{ t }}` prints: Go's `Time.String()`.
pub(super) fn print_time(t: &GoTime, out: &mut Vec<u8>) -> Result<(), FnError> {
    out.extend_from_slice(&t.string()?);
    if out.len() > MAX_RENDERED_LEN {
        return Err(FnError::TooLarge);
    }
    Ok(())
}
