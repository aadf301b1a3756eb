//! Support code for Hive's stress suite runner, `hive-stress`.
//!
//! Every stress program, the Hive C programs and the Erlang peers alike, prints one line
//!
//! ```text
//! RESULT lang=<hive|erlang> name=<workload> schedulers=<S> key=value ...
//! ```
//!
//! with the keys listed per workload in `shared/bench/baselines.md` (and in [`workload`]).
//! This crate parses those lines ([`ResultLine`]), knows the workloads, their sizes and the
//! issue's targets ([`workload`]), runs programs with a timeout ([`child`]), compiles the
//! Erlang peers ([`erlang`]), makes and records each run for both runners ([`runs`]) and
//! prints the comparison tables and the CSV file ([`report`]); [`tls`] makes the throwaway
//! PKI of the TLS distribution workloads.
//! See `benches/README.md` for the contract the C programs follow.
//!
//! `hive-compare` adds the Go peers (`lang=go`, [`go`]), median [min–max] per language and
//! the ratios ([`compare`]) and SVG charts ([`chart`]).

#![warn(missing_docs)]

pub mod chart;
pub mod child;
pub mod cli;
pub mod compare;
pub mod erlang;
pub mod go;
pub mod probe;
pub mod report;
pub mod runs;
pub mod tls;
pub mod workload;

use std::fmt;

/// One parsed `RESULT lang=.. name=.. schedulers=.. key=value ...` line.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultLine {
    /// Value of `lang=` (`hive`, `erlang`, `go`).
    pub lang: String,
    /// Value of `name=`, the workload.
    pub name: String,
    /// Value of `schedulers=`.
    pub schedulers: u32,
    /// Every other `key=value` pair, in the order printed.
    pub fields: Vec<(String, String)>,
}

/// Why a line is not a well-formed `RESULT` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The line does not start with the word `RESULT`.
    NotAResultLine,
    /// A token is not of the form `key=value` with a non-empty key and value.
    BadToken(String),
    /// A key appears twice.
    DuplicateKey(String),
    /// One of `lang`, `name`, `schedulers` is missing.
    MissingKey(&'static str),
    /// `schedulers=` is not a positive integer.
    BadSchedulers(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotAResultLine => write!(f, "not a RESULT line"),
            ParseError::BadToken(t) => write!(f, "token {t:?} is not key=value"),
            ParseError::DuplicateKey(k) => write!(f, "key {k:?} appears twice"),
            ParseError::MissingKey(k) => write!(f, "RESULT line has no {k}= key"),
            ParseError::BadSchedulers(v) => write!(f, "schedulers={v} is not a positive integer"),
        }
    }
}

impl std::error::Error for ParseError {}

/// True if `line` starts (after leading blanks) with the word `RESULT`.
pub fn is_result_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("RESULT")
}

impl ResultLine {
    /// Parses one line. Tokens are separated by whitespace; each one after `RESULT` must be
    /// `key=value` (the value may itself contain `=`). `lang`, `name` and `schedulers` are
    /// required; keys may not repeat.
    pub fn parse(line: &str) -> Result<ResultLine, ParseError> {
        let mut words = line.split_whitespace();
        if words.next() != Some("RESULT") {
            return Err(ParseError::NotAResultLine);
        }
        let mut lang = None;
        let mut name = None;
        let mut schedulers = None;
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for token in words {
            let (key, value) = match token.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => (k, v),
                _ => return Err(ParseError::BadToken(token.to_string())),
            };
            if !seen.insert(key) {
                return Err(ParseError::DuplicateKey(key.to_string()));
            }
            match key {
                "lang" => lang = Some(value.to_string()),
                "name" => name = Some(value.to_string()),
                "schedulers" => match value.parse::<u32>() {
                    Ok(s) if s > 0 => schedulers = Some(s),
                    _ => return Err(ParseError::BadSchedulers(value.to_string())),
                },
                _ => fields.push((key.to_string(), value.to_string())),
            }
        }
        Ok(ResultLine {
            lang: lang.ok_or(ParseError::MissingKey("lang"))?,
            name: name.ok_or(ParseError::MissingKey("name"))?,
            schedulers: schedulers.ok_or(ParseError::MissingKey("schedulers"))?,
            fields,
        })
    }

    /// The value of `key` among the fields other than `lang`, `name` and `schedulers`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as a number, if present and numeric.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key)?.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// The keys of `required` that this line lacks.
    pub fn missing_keys<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        required
            .iter()
            .copied()
            .filter(|k| self.get(k).is_none())
            .collect()
    }
}

/// Finds the `RESULT` line for workload `name` in a program's output.
///
/// Returns the first well-formed `RESULT` line whose `name=` is `name`. If there is none,
/// returns the first parse error met on a `RESULT` line, if any (a malformed line may be
/// the one that was meant), and `None` when the output has no `RESULT` line at all.
pub fn find_result(output: &str, name: &str) -> Option<Result<ResultLine, ParseError>> {
    let mut first_error = None;
    for line in output.lines().filter(|l| is_result_line(l)) {
        match ResultLine::parse(line) {
            Ok(r) if r.name == name => return Some(Ok(r)),
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map(Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_ring_line() {
        let r = ResultLine::parse(
            "RESULT lang=erlang name=ring schedulers=2 n=10000 m=1000 seconds=2.712 \
             hops_per_s=3687000 ns_per_hop=271.2 cpu_s=2.75",
        )
        .unwrap();
        assert_eq!(r.lang, "erlang");
        assert_eq!(r.name, "ring");
        assert_eq!(r.schedulers, 2);
        assert_eq!(r.fields.len(), 6);
        assert_eq!(r.fields[0], ("n".to_string(), "10000".to_string()));
        assert_eq!(r.get("m"), Some("1000"));
        assert_eq!(r.get_f64("ns_per_hop"), Some(271.2));
        assert_eq!(r.get("lang"), None, "lang is not among the fields");
        assert_eq!(r.get("nope"), None);
    }

    #[test]
    fn leading_blanks_tabs_and_extra_keys_are_fine() {
        let r = ResultLine::parse("  RESULT\tname=spawn lang=hive  schedulers=1 n=5 extra=a=b")
            .unwrap();
        assert_eq!(r.name, "spawn");
        assert_eq!(r.get("extra"), Some("a=b"));
        assert!(is_result_line("  RESULT lang=hive"));
        assert!(!is_result_line("RESULTS lang=hive"));
        assert!(!is_result_line("# RESULT lang=hive"));
    }

    #[test]
    fn rejects_malformed_lines() {
        use ParseError::*;
        assert_eq!(ResultLine::parse("hello"), Err(NotAResultLine));
        assert_eq!(ResultLine::parse(""), Err(NotAResultLine));
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=1 oops"),
            Err(BadToken("oops".into()))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=1 k="),
            Err(BadToken("k=".into()))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=1 =3"),
            Err(BadToken("=3".into()))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=1 n=1 n=2"),
            Err(DuplicateKey("n".into()))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive schedulers=1"),
            Err(MissingKey("name"))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x"),
            Err(MissingKey("schedulers"))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=0"),
            Err(BadSchedulers("0".into()))
        );
        assert_eq!(
            ResultLine::parse("RESULT lang=hive name=x schedulers=two"),
            Err(BadSchedulers("two".into()))
        );
    }

    #[test]
    fn numbers_and_missing_keys() {
        let r = ResultLine::parse(
            "RESULT lang=hive name=x schedulers=1 a=1e6 b=nan c=text d=-0.5 e=inf",
        )
        .unwrap();
        assert_eq!(r.get_f64("a"), Some(1e6));
        assert_eq!(r.get_f64("b"), None);
        assert_eq!(r.get_f64("c"), None);
        assert_eq!(r.get_f64("d"), Some(-0.5));
        assert_eq!(r.get_f64("e"), None);
        assert_eq!(r.missing_keys(&["a", "z", "c", "y"]), vec!["z", "y"]);
    }

    #[test]
    fn finds_the_line_for_a_workload() {
        let out = "starting\nRESULT lang=hive name=spawn2 schedulers=2 n=1\n\
                   noise RESULT name=spawn\nRESULT lang=hive name=spawn schedulers=2 n=7\n\
                   RESULT lang=hive name=spawn schedulers=2 n=8\n";
        let r = find_result(out, "spawn").unwrap().unwrap();
        assert_eq!(r.get("n"), Some("7"));
        assert_eq!(find_result(out, "ring"), None);
        assert_eq!(find_result("nothing here\n", "ring"), None);
        let bad = "RESULT lang=hive name=ring schedulers=2 n\n";
        assert_eq!(
            find_result(bad, "ring"),
            Some(Err(ParseError::BadToken("n".into())))
        );
        let bad_then_good = "RESULT junk\nRESULT lang=hive name=ring schedulers=2 n=3\n";
        assert_eq!(
            find_result(bad_then_good, "ring")
                .unwrap()
                .unwrap()
                .get("n"),
            Some("3")
        );
    }
}
