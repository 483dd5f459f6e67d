//! The Go behaviours that users of the reference depend on, each implemented once for the
//! whole workspace. Pure.

/// Go's `strconv.ParseBool`, which pflag, Go's `flag` package and the reference's environment
/// variables use: `1 t T TRUE true True` and `0 f F FALSE false False`, nothing else.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "invalid boolean {:?} (want true or false)",
            crate::text::escape(s)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_strconv_parses_them() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["yes", "no", "on", "off", "tRUE", "", " true", "2"] {
            assert!(parse_bool(bad).is_err(), "{bad:?}");
        }
    }
}
