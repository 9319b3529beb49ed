//! Human units written as strings: durations ("250ms"), rates ("120/s"), ratios ("40%").

/// Nanoseconds, the simulator's clock unit.
pub type Nanos = u64;

/// The longest duration accepted anywhere, 100 years of 365.25 days, in nanoseconds.
pub const MAX_NANOS: Nanos = 3_155_760_000_000_000_000;

/// The longest duration accepted anywhere, 100 years of 365.25 days, in seconds.
const MAX_SECS: f64 = 3_155_760_000.0;

/// The highest rate accepted, in events per second.
const MAX_RATE_PER_S: f64 = 1e9;

/// Nanoseconds in one second.
const NS_PER_S: u64 = 1_000_000_000;

/// Unit suffixes and the nanoseconds in one of each.
const UNITS: [(&str, u64); 10] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", NS_PER_S),
    ("m", 60 * NS_PER_S),
    ("min", 60 * NS_PER_S),
    ("h", 3_600 * NS_PER_S),
    ("d", 86_400 * NS_PER_S),
];

/// Error for text that is not a duration.
const EXPECTED_DURATION: &str = r#"expected a duration like "250ms", "1.5s" or "2h""#;
/// Error for a number without a known unit.
const EXPECTED_UNIT: &str = r#"expected a unit (ns, us, ms, s, m or min, h, d) after the number, like "250ms""#;
/// Error for text that is not a rate.
const EXPECTED_RATE: &str = r#"expected a rate like "120/s", "7200/h" or "2/ms""#;
/// Error for text that is not a ratio.
const EXPECTED_RATIO: &str = r#"expected a ratio between 0 and 1, like "0.4" or "40%""#;

/// Nanoseconds in one `unit` ("ms", "h", ...), if it is a known unit.
fn unit_ns(unit: &str) -> Option<u64> {
    UNITS.iter().find(|(name, _)| *name == unit).map(|&(_, ns)| ns)
}

/// `count` units of `unit_ns` nanoseconds each, in seconds, with a single rounding: a
/// division for units below a second, a multiplication otherwise.
fn unit_count_to_secs(count: f64, unit_ns: u64) -> f64 {
    if unit_ns >= NS_PER_S {
        count * (unit_ns / NS_PER_S) as f64
    } else {
        count / (NS_PER_S / unit_ns) as f64
    }
}

/// Split a duration into (number, nanoseconds per unit) terms, largest unit first; empty for a
/// bare zero.
fn duration_terms(text: &str) -> Result<Vec<(f64, u64)>, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(r#"expected a non-negative duration like "250ms""#.to_string());
    }
    if text.is_empty() {
        return Err(EXPECTED_DURATION.to_string());
    }
    if text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return match text.parse::<f64>() {
            Ok(0.0) => Ok(Vec::new()),
            Ok(_) => Err(EXPECTED_UNIT.to_string()),
            Err(_) => Err(EXPECTED_DURATION.to_string()),
        };
    }
    let mut terms: Vec<(f64, u64)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| EXPECTED_DURATION.to_string())?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(EXPECTED_UNIT.to_string());
        }
        let ns = unit_ns(unit).ok_or_else(|| EXPECTED_UNIT.to_string())?;
        if terms.last().is_some_and(|&(_, previous)| ns >= previous) {
            return Err(r#"expected the parts of a compound duration from the largest unit down, like "1h30m""#.to_string());
        }
        terms.push((number, ns));
        rest = rest[unit_len..].trim_start();
    }
    Ok(terms)
}

/// Error for a duration over 100 years.
fn too_long() -> String {
    "expected a duration of at most 100 years".to_string()
}

/// Parse a duration like "250ms", "2h", "1.5s", "10us" (or "µs"), "500ns", "1m" or "1min"
/// (minutes), "1d", "1h30m", or a bare "0"; surrounding whitespace is allowed. Returns
/// nanoseconds, rounded to the nearest. Negative, unit-less (except zero) and non-finite values
/// and durations over 100 years are rejected with a short "expected ..." message.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let total: f64 = duration_terms(text)?.iter().map(|&(count, ns)| count * ns as f64).sum();
    if total > MAX_NANOS as f64 {
        return Err(too_long());
    }
    Ok(total.round() as Nanos)
}

/// Parse a duration written as for [`parse_duration`] into seconds, without rounding to whole
/// nanoseconds (used for distribution parameters, so that they print back exactly).
pub(crate) fn parse_duration_secs(text: &str) -> Result<f64, String> {
    let total: f64 = duration_terms(text)?
        .iter()
        .map(|&(count, ns)| unit_count_to_secs(count, ns))
        .sum();
    if total > MAX_SECS {
        return Err(too_long());
    }
    Ok(total)
}

/// Write `secs` seconds as the shortest single-unit duration that `parse_duration_secs` reads
/// back as exactly the same number, preferring a count of at least 1 ("250ms" rather than
/// "0.25s", "1.2ms" rather than "0.0012s").
pub fn format_secs_exact(secs: f64) -> String {
    if secs == 0.0 {
        return "0s".to_string();
    }
    ["d", "h", "min", "s", "ms", "us", "ns"]
        .into_iter()
        .filter_map(|unit| {
            let ns = unit_ns(unit)?;
            let count = if ns >= NS_PER_S {
                secs / (ns / NS_PER_S) as f64
            } else {
                secs * (NS_PER_S / ns) as f64
            };
            let text = format!("{count}{unit}");
            (parse_duration_secs(&text) == Ok(secs)).then_some((text, count < 1.0))
        })
        .min_by_key(|(text, below_one)| (text.len(), *below_one))
        .map_or_else(|| format!("{secs}s"), |(text, _)| text)
}

/// Parse a rate like "120/s", "7200/h", "2/ms", "30/min" (or "30/m"), "1000/d" or "0/s" into
/// events per second. Negative, non-finite and rates over 1e9 per second are rejected.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let (count, unit) = text.trim().split_once('/').ok_or_else(|| EXPECTED_RATE.to_string())?;
    let count: f64 = count.trim().parse().map_err(|_| EXPECTED_RATE.to_string())?;
    let ns = unit_ns(unit.trim()).ok_or_else(|| EXPECTED_RATE.to_string())?;
    if !count.is_finite() {
        return Err(EXPECTED_RATE.to_string());
    }
    if count < 0.0 {
        return Err(r#"expected a non-negative rate like "120/s""#.to_string());
    }
    let per_s = count * NS_PER_S as f64 / ns as f64;
    if per_s > MAX_RATE_PER_S {
        return Err("expected a rate of at most 1e9/s".to_string());
    }
    Ok(per_s)
}

/// Parse a ratio written as a percentage ("40%") or a plain number ("0.4") into a number in
/// [0, 1] (both examples give 0.4).
pub fn parse_ratio(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, divisor) = match text.strip_suffix('%') {
        Some(percent) => (percent.trim_end(), 100.0),
        None => (text, 1.0),
    };
    let value = number.parse::<f64>().map_err(|_| EXPECTED_RATIO.to_string())? / divisor;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(EXPECTED_RATIO.to_string())
    }
}

/// Format nanoseconds for people with 3 significant digits in the largest fitting unit: "0s",
/// "850ns", "12.3us", "1.5ms", "250ms", "45.2s", minutes from 120 s ("12.5m"), hours from 2 h
/// ("3.2h").
pub fn format_duration(ns: Nanos) -> String {
    format_ns(ns as f64)
}

/// Format a duration in seconds, possibly fractional or negative, like [`format_duration`]
/// ("1.5ms", "0.3ns", "-2s"); "n/a" when it is not finite.
pub fn format_duration_f64(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    if seconds < 0.0 {
        return format!("-{}", format_ns(-seconds * NS_PER_S as f64));
    }
    format_ns(seconds * NS_PER_S as f64)
}

/// `x` rounded to 3 significant digits.
fn three_digits(x: f64) -> f64 {
    format!("{x:.2e}").parse().unwrap_or(x)
}

/// Format a finite, non-negative number of nanoseconds (see [`format_duration`]).
fn format_ns(ns: f64) -> String {
    let rounded = three_digits(ns);
    if rounded == 0.0 {
        return "0s".to_string();
    }
    let (unit, unit_ns) = [
        ("h", 7_200e9, 3_600e9),
        ("m", 120e9, 60e9),
        ("s", 1e9, 1e9),
        ("ms", 1e6, 1e6),
        ("us", 1e3, 1e3),
    ]
    .into_iter()
    .find(|&(_, from, _)| rounded >= from)
    .map_or(("ns", 1.0), |(unit, _, size)| (unit, size));
    format!("{}{unit}", three_digits(ns / unit_ns))
}

/// Nanoseconds as seconds.
pub fn nanos_to_secs(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S as f64
}

/// Seconds as nanoseconds, rounded to the nearest; negative or NaN gives 0 and values beyond
/// the range of [`Nanos`] saturate.
#[inline]
pub fn secs_to_nanos(s: f64) -> Nanos {
    if s > 0.0 {
        let ns = s * NS_PER_S as f64;
        // `ns.round()` without its library call (every sampled duration comes through here):
        // the whole part (saturating), plus one when what was cut is a half or more. Below 2^53
        // the whole part and the difference are exact; above, `ns` is a whole number already.
        let whole = ns as Nanos;
        if ns - whole as f64 >= 0.5 {
            whole.saturating_add(1)
        } else {
            whole
        }
    } else {
        0
    }
}

/// Parse an amount of memory like "2GB", "512MB", "1.5GiB" or "100000B" into bytes: KB, MB, GB
/// and TB are powers of 1000, KiB, MiB, GiB and TiB powers of 1024. At least 1 MB, at most 1 PB.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    const UNITS: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1048576.0),
        ("GiB", 1073741824.0),
        ("TiB", 1099511627776.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    let expected =
        || "expected an amount of memory like \"2GB\", \"512MiB\" (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)".to_string();
    let text = text.trim();
    let (number, scale) = UNITS
        .iter()
        .find_map(|(unit, scale)| text.strip_suffix(unit).map(|n| (n.trim(), *scale)))
        .ok_or_else(expected)?;
    let count: f64 = number.parse().map_err(|_| expected())?;
    let bytes = count * scale;
    if !bytes.is_finite() || !(1e6..=1e15).contains(&bytes) {
        return Err("expected an amount of memory from 1MB to 1000TB".to_string());
    }
    Ok(bytes.round() as u64)
}

/// Write `bytes` the way a person reads memory: "1.5 GB", "340 MB", "12 kB" (powers of 1000).
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn durations_parse_to_nanoseconds() {
        let cases: &[(&str, u64)] = &[
            ("250ms", 250 * MS),
            ("2h", 7_200 * S),
            ("1.5s", 1_500 * MS),
            ("10us", 10_000),
            ("10µs", 10_000),
            ("10μs", 10_000),
            ("500ns", 500),
            ("1m", 60 * S),
            ("1min", 60 * S),
            ("1d", 86_400 * S),
            ("0", 0),
            ("0.0", 0),
            ("0s", 0),
            ("1h30m", 5_400 * S),
            ("1h 30min 15s", 5_415 * S),
            ("  7 ms\t", 7 * MS),
            (".5s", 500 * MS),
            ("1.5ns", 2),
            ("1.4ns", 1),
            ("0.1s", 100 * MS),
            ("36525d", MAX_NANOS),
        ];
        for &(text, ns) in cases {
            assert_eq!(parse_duration(text), Ok(ns), "{text:?}");
        }
    }

    #[test]
    fn bad_durations_are_rejected_with_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            ("", "like \"250ms\""),
            ("   ", "like \"250ms\""),
            ("-5ms", "non-negative"),
            ("-0", "non-negative"),
            ("5", "expected a unit"),
            ("1.5", "expected a unit"),
            ("5 parsecs", "expected a unit"),
            ("5MS", "expected a unit"),
            ("ms", "like \"250ms\""),
            ("1.2.3s", "like \"250ms\""),
            (".s", "like \"250ms\""),
            ("NaN", "like \"250ms\""),
            ("inf", "like \"250ms\""),
            ("infs", "like \"250ms\""),
            ("1e3ms", "expected a unit"),
            ("5ms!", "like \"250ms\""),
            ("30m1h", "largest unit"),
            ("1s1s", "largest unit"),
            ("36526d", "at most 100 years"),
            ("1000000000000000000000000h", "at most 100 years"),
            ("😀", "like \"250ms\""),
            ("5µ", "expected a unit"),
        ];
        for &(text, wanted) in cases {
            let why = parse_duration(text).expect_err(text);
            assert!(why.contains(wanted), "{text:?}: {why}");
            assert!(why.starts_with("expected"), "{text:?}: {why}");
        }
    }

    #[test]
    fn durations_in_seconds_agree_with_nanoseconds() {
        for text in ["1.2ms", "2h", "1h30m", "10us", "0", "7d", "0.3ns"] {
            let secs = parse_duration_secs(text).unwrap();
            assert_eq!(secs_to_nanos(secs), parse_duration(text).unwrap(), "{text}");
        }
        assert_eq!(parse_duration_secs("1.2ms"), Ok(1.2 / 1e3));
        assert_eq!(parse_duration_secs("1.5min"), Ok(90.0));
        assert!(parse_duration_secs("36526d").is_err());
    }

    #[test]
    fn exact_formatting_reads_back_bit_for_bit_and_prefers_short_units() {
        assert_eq!(format_secs_exact(0.0012), "1.2ms");
        assert_eq!(format_secs_exact(0.25), "250ms");
        assert_eq!(format_secs_exact(5400.0), "1.5h");
        assert_eq!(format_secs_exact(60.0), "60s");
        assert_eq!(format_secs_exact(86_400.0), "1d");
        assert_eq!(format_secs_exact(7200.0), "2h");
        assert_eq!(format_secs_exact(0.0), "0s");
        assert_eq!(format_secs_exact(1e-9), "1ns");
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..10_000 {
            let secs = 10f64.powf(rng.random_range(-12.0..9.0)) * rng.random::<f64>();
            let text = format_secs_exact(secs);
            assert_eq!(parse_duration_secs(&text), Ok(secs), "{secs} as {text}");
        }
    }

    #[test]
    fn rates_parse_to_events_per_second() {
        let cases: &[(&str, f64)] = &[
            ("120/s", 120.0),
            ("7200/h", 2.0),
            ("2/ms", 2_000.0),
            ("30/min", 0.5),
            ("30/m", 0.5),
            ("8640/d", 0.1),
            ("0/s", 0.0),
            (" 1.5 / s ", 1.5),
            ("1/ns", 1e9),
            ("3/us", 3e6),
        ];
        for &(text, per_s) in cases {
            let got = parse_rate(text).unwrap();
            assert!((got - per_s).abs() <= 1e-12 * per_s, "{text}: {got}");
        }
    }

    #[test]
    fn bad_rates_are_rejected() {
        let cases: &[(&str, &str)] = &[
            ("120", "like \"120/s\""),
            ("120/", "like \"120/s\""),
            ("/s", "like \"120/s\""),
            ("120/year", "like \"120/s\""),
            ("-1/s", "non-negative"),
            ("NaN/s", "like \"120/s\""),
            ("inf/s", "like \"120/s\""),
            ("2/ns", "at most 1e9/s"),
            ("1e10/s", "at most 1e9/s"),
            ("1/s/s", "like \"120/s\""),
        ];
        for &(text, wanted) in cases {
            let why = parse_rate(text).expect_err(text);
            assert!(why.contains(wanted), "{text:?}: {why}");
        }
    }

    #[test]
    fn ratios_accept_percentages_and_fractions_within_zero_to_one() {
        let cases: &[(&str, f64)] = &[
            ("40%", 0.4),
            ("0.4", 0.4),
            (" 40 % ", 0.4),
            ("0", 0.0),
            ("100%", 1.0),
            ("1", 1.0),
            ("0.5%", 0.005),
        ];
        for &(text, ratio) in cases {
            let got = parse_ratio(text).unwrap();
            assert!((got - ratio).abs() <= 1e-15, "{text}: {got}");
        }
        for text in ["40", "101%", "-0.1", "-1%", "NaN", "inf", "", "%", "forty"] {
            let why = parse_ratio(text).expect_err(text);
            assert!(why.contains("between 0 and 1"), "{text:?}: {why}");
        }
    }

    #[test]
    fn durations_format_with_three_significant_digits() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (850, "850ns"),
            (999, "999ns"),
            (1_000, "1us"),
            (12_345, "12.3us"),
            (999_600, "1ms"),
            (1_500_000, "1.5ms"),
            (1_234_567, "1.23ms"),
            (250 * MS, "250ms"),
            (45_240 * MS, "45.2s"),
            (119 * S, "119s"),
            (119_600 * MS, "1.99m"),
            (750 * S, "12.5m"),
            (7_194 * S, "120m"),
            (7_200 * S, "2h"),
            (11_520 * S, "3.2h"),
            (MAX_NANOS, "877000h"),
            (u64::MAX, "5120000h"),
        ];
        for &(ns, text) in cases {
            assert_eq!(format_duration(ns), text, "{ns}");
        }
    }

    #[test]
    fn fractional_seconds_format_like_nanoseconds() {
        assert_eq!(format_duration_f64(0.0015), "1.5ms");
        assert_eq!(format_duration_f64(0.0), "0s");
        assert_eq!(format_duration_f64(0.3e-9), "0.3ns");
        assert_eq!(format_duration_f64(-0.0015), "-1.5ms");
        assert_eq!(format_duration_f64(3.0 * 3600.0 + 900.0), "3.25h");
        assert_eq!(format_duration_f64(f64::NAN), "n/a");
        assert_eq!(format_duration_f64(f64::INFINITY), "n/a");
        assert_eq!(format_duration_f64(f64::NEG_INFINITY), "n/a");
    }

    #[test]
    fn seconds_and_nanoseconds_convert_with_rounding_and_saturation() {
        assert_eq!(nanos_to_secs(1_500_000_000), 1.5);
        assert_eq!(nanos_to_secs(0), 0.0);
        assert_eq!(secs_to_nanos(1.5), 1_500_000_000);
        assert_eq!(secs_to_nanos(1.4e-9), 1);
        assert_eq!(secs_to_nanos(1.6e-9), 2);
        assert_eq!(secs_to_nanos(-1.0), 0);
        assert_eq!(secs_to_nanos(f64::NAN), 0);
        assert_eq!(secs_to_nanos(f64::INFINITY), u64::MAX);
        assert_eq!(secs_to_nanos(1e30), u64::MAX);
    }

    #[test]
    fn seconds_become_the_nanoseconds_rounding_gives_to_the_last_bit() {
        // Halves, the doubles either side of them, whole numbers past 2^53 and 2^63, and the
        // top of the range, against f64::round.
        let mut cases = vec![0.5e-9, 1.5e-9, 2.5e-9, 1e-12, 3e-10, 123.456789];
        for ns in [
            0.5f64,
            1.5,
            2.5,
            1e6 + 0.5,
            4503599627370495.5,
            9007199254740993.0,
            9.3e18,
            1.8e19,
            1.8446744073709552e19,
        ] {
            for x in [ns, f64::from_bits(ns.to_bits() - 1), f64::from_bits(ns.to_bits() + 1)] {
                cases.push(x / 1e9);
            }
        }
        let mut x = 1e-10f64;
        while x < 2e10 {
            cases.push(x);
            x *= 1.0001;
        }
        for s in cases {
            assert_eq!(secs_to_nanos(s), (s * 1e9).round() as Nanos, "{s:e} s");
        }
    }

    #[test]
    fn amounts_of_memory_read_in_decimal_and_binary_units() {
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_bytes(" 1.5 GB "), Ok(1_500_000_000));
        assert!(parse_bytes("2").is_err());
        assert!(parse_bytes("10KB").is_err(), "below 1 MB");
        assert!(parse_bytes("NaNGB").is_err());
    }
}
