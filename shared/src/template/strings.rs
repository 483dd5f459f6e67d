//! Bytes as Go strings: Go's utf8 decoding and the strings functions templates use.

use super::error::{FnError, check_len};

/// Go's `utf8.DecodeRune`: an invalid or truncated sequence is U+FFFD of width 1; an empty
/// input is U+FFFD of width 0.
pub(super) fn decode_rune(s: &[u8]) -> (u32, usize) {
    match s.first() {
        None => (0xfffd, 0),
        Some(&b) if b < 0x80 => (u32::from(b), 1),
        Some(_) => {
            let head = &s[..s.len().min(4)];
            let valid = match std::str::from_utf8(head) {
                Ok(text) => text,
                Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
            };
            valid
                .chars()
                .next()
                .map_or((0xfffd, 1), |c| (u32::from(c), c.len_utf8()))
        }
    }
}

/// Go's `utf8.DecodeLastRune`.
fn decode_last_rune(s: &[u8]) -> (u32, usize) {
    let Some(&last) = s.last() else {
        return (0xfffd, 0);
    };
    if last < 0x80 {
        return (u32::from(last), 1);
    }
    let end = s.len();
    let limit = end.saturating_sub(4);
    let mut start = end - 1;
    while start > limit && (s[start] & 0xc0) == 0x80 {
        start -= 1;
    }
    let (r, size) = decode_rune(&s[start..end]);
    if start + size != end {
        (0xfffd, 1)
    } else {
        (r, size)
    }
}

pub(super) fn runes(s: &[u8]) -> impl Iterator<Item = (u32, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let (r, width) = decode_rune(s.get(i..)?);
        if width == 0 {
            return None;
        }
        i += width;
        Some((r, width))
    })
}

pub(super) fn push_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{fffd}');
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Go's `unicode.IsSpace` (the same set as Rust's `char::is_whitespace`).
pub(super) fn is_space_rune(r: u32) -> bool {
    char::from_u32(r).is_some_and(char::is_whitespace)
}

/// Go's `strings.TrimSpace`.
pub(super) fn trim_space(s: &[u8]) -> &[u8] {
    let mut start = 0;
    loop {
        let (r, width) = decode_rune(&s[start..]);
        if width == 0 || !is_space_rune(r) {
            break;
        }
        start += width;
    }
    let mut end = s.len();
    while end > start {
        let (r, width) = decode_last_rune(&s[start..end]);
        if !is_space_rune(r) {
            break;
        }
        end -= width;
    }
    &s[start..end]
}

/// Go's `strings.Trim(s, cutset)`.
pub(super) fn trim_cutset<'s>(s: &'s [u8], cutset: &[u8]) -> &'s [u8] {
    if s.is_empty() || cutset.is_empty() {
        return s;
    }
    // A set, not a list: a 1 MiB value against a 1 MiB cutset must not take 10^12 steps.
    let set: std::collections::HashSet<u32> = runes(cutset).map(|(r, _)| r).collect();
    let mut end = s.len();
    while end > 0 {
        let (r, width) = decode_last_rune(&s[..end]);
        if !set.contains(&r) {
            break;
        }
        end -= width;
    }
    let mut start = 0;
    while start < end {
        let (r, width) = decode_rune(&s[start..end]);
        if !set.contains(&r) {
            break;
        }
        start += width;
    }
    &s[start..end]
}

/// Go's `strings.Replace(s, old, new, -1)`.
pub(super) fn replace_all(s: &[u8], old: &[u8], new: &[u8]) -> Result<Vec<u8>, FnError> {
    if old == new || old.len() > s.len() {
        return Ok(s.to_vec());
    }
    let finder = Finder::new(old);
    let count = if old.is_empty() {
        runes(s).count() + 1
    } else {
        let mut count = 0;
        let mut at = 0;
        while let Some(i) = finder.find(&s[at..]) {
            count += 1;
            at += i + old.len();
        }
        count
    };
    let len = s.len() as u128 + count as u128 * new.len() as u128;
    check_len(len.saturating_sub(count as u128 * old.len() as u128))?;
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    for i in 0..count {
        let mut j = start;
        if old.is_empty() {
            if i > 0 {
                j += decode_rune(&s[start..]).1;
            }
        } else {
            j += finder.find(&s[start..]).unwrap_or(s.len() - start);
        }
        out.extend_from_slice(&s[start..j]);
        out.extend_from_slice(new);
        start = (j + old.len()).min(s.len());
    }
    out.extend_from_slice(&s[start..]);
    Ok(out)
}

/// Substring search in linear time (Knuth-Morris-Pratt), so that large values cannot make
/// `contains` or `replace` quadratic.
pub(super) struct Finder<'n> {
    needle: &'n [u8],
    fail: Vec<u32>,
}

impl<'n> Finder<'n> {
    pub(super) fn new(needle: &'n [u8]) -> Self {
        let mut fail = vec![0u32; needle.len()];
        let mut k = 0usize;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1] as usize;
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k as u32;
        }
        Finder { needle, fail }
    }

    pub(super) fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.needle.is_empty() {
            return Some(0);
        }
        let mut k = 0;
        for (i, &b) in hay.iter().enumerate() {
            while k > 0 && b != self.needle[k] {
                k = self.fail[k - 1] as usize;
            }
            if b == self.needle[k] {
                k += 1;
            }
            if k == self.needle.len() {
                return Some(i + 1 - k);
            }
        }
        None
    }
}

/// SHA-1 (FIPS 180-4), for sprig's `sha1sum`.
pub(super) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_and_trimming_like_go() {
        assert_eq!(decode_rune(b"\xe2\x82"), (0xfffd, 1));
        assert_eq!(decode_last_rune("a€".as_bytes()), (u32::from('€'), 3));
        assert_eq!(decode_last_rune(b"a\x82\xac"), (0xfffd, 1));
        assert_eq!(trim_space(b"\xc2\xa0 x \xe3\x80\x80"), b"x");
        assert_eq!(trim_cutset(b"\xff\xffx\xff", b"\xff"), b"x");
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
