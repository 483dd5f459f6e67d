//! Byte layout of one sealed value, without any crypto:
//! `be16(len(rsa)) || rsa || aes-gcm ciphertext with tag`, carried as standard padded base64.

use crate::go;

/// A sealed value split into its two parts.
#[derive(Debug, PartialEq, Eq)]
pub struct Parts<'a> {
    /// The RSA-OAEP wrapped session key.
    pub wrapped_key: &'a [u8],
    /// The AES-256-GCM ciphertext with its 16-byte tag.
    pub sealed: &'a [u8],
}

/// What is wrong with a sealed value's bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// The same words as the reference, so users searching for them land here too.
    #[error("SealedSecret data is too short")]
    TooShort,
    /// Not standard base64.
    #[error("invalid base64")]
    Base64,
}

/// Splits raw bytes into the wrapped key and the sealed payload.
pub fn split(bytes: &[u8]) -> Result<Parts<'_>, WireError> {
    let [hi, lo, rest @ ..] = bytes else {
        return Err(WireError::TooShort);
    };
    let n = usize::from(u16::from_be_bytes([*hi, *lo]));
    if rest.len() < n {
        return Err(WireError::TooShort);
    }
    let (wrapped_key, sealed) = rest.split_at(n);
    Ok(Parts {
        wrapped_key,
        sealed,
    })
}

/// Joins the wrapped key and the sealed payload into raw bytes.
///
/// # Panics
/// Only if the wrapped key is longer than 65,535 bytes, which no RSA key of a supported size
/// produces.
pub fn join(wrapped_key: &[u8], sealed: &[u8]) -> Vec<u8> {
    let n = u16::try_from(wrapped_key.len())
        .expect("RSA ciphertext fits in u16 for keys up to 8192 bits");
    let mut out = Vec::with_capacity(2 + wrapped_key.len() + sealed.len());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(wrapped_key);
    out.extend_from_slice(sealed);
    out
}

/// Encodes as the reference does: standard alphabet, padded, no line breaks.
pub fn encode(bytes: &[u8]) -> String {
    go::base64_encode(bytes)
}

/// Decodes as the reference does, with Go's `base64.StdEncoding.DecodeString`
/// ([`go::base64_decode`]): standard alphabet, padding required, CR and LF skipped (folded
/// YAML), non-zero trailing bits accepted.
pub fn decode(text: &str) -> Result<Vec<u8>, WireError> {
    go::base64_decode(text.as_bytes()).map_err(|_| WireError::Base64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_join_round_trip() {
        let raw = join(&[1, 2, 3], &[4, 5]);
        assert_eq!(raw, [0, 3, 1, 2, 3, 4, 5]);
        let parts = split(&raw).unwrap();
        assert_eq!(parts.wrapped_key, [1, 2, 3]);
        assert_eq!(parts.sealed, [4, 5]);
    }

    #[test]
    fn truncated_input_is_too_short() {
        assert_eq!(split(&[]), Err(WireError::TooShort));
        assert_eq!(split(&[0]), Err(WireError::TooShort));
        assert_eq!(split(&[0, 5, 1, 2]), Err(WireError::TooShort));
        assert_eq!(split(&[0xff, 0xff]), Err(WireError::TooShort));
    }

    #[test]
    fn decode_skips_line_breaks_only() {
        assert_eq!(decode("AQ\r\nID").unwrap(), [1, 2, 3]);
        assert_eq!(decode("AQ ID"), Err(WireError::Base64));
        assert_eq!(decode("AQI"), Err(WireError::Base64));
    }

    /// As Go's decoder, which the reference uses: `AR==` is `AQ==` with a trailing bit set.
    #[test]
    fn decode_accepts_non_zero_trailing_bits() {
        assert_eq!(decode("AR==").unwrap(), [1]);
    }
}
