//! The RSA floor of `benches/controller.sh`: milliseconds per RSA-4096 OAEP decryption with
//! aws-lc-rs, the controller's own RSA, on one core. Prints one number.
//!
//! The time is this thread's CPU time (Linux: `/proc/thread-self/stat`, 10 ms ticks), as the
//! bench's controller figures are, so that being preempted by the test cluster does not count;
//! elsewhere, wall time.
//!
//! `cargo run --release -p shared --example rsa_floor [SECONDS]` (default 3).

use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = match std::env::args().nth(1) {
        Some(s) => s
            .parse()
            .map_err(|_| format!("not a number of seconds: {s:?}"))?,
        None => 3.0,
    };
    let key = PrivateDecryptingKey::generate(KeySize::Rsa4096)?;
    let public = OaepPublicEncryptingKey::new(key.public_key())?;
    let key = OaepPrivateDecryptingKey::new(key)?;
    let label = b"namespace/name";
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &[7u8; 32],
            &mut wrapped,
            Some(label),
        )?
        .to_vec();
    let mut out = vec![0u8; key.min_output_size()];
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let cpu_start = thread_cpu();
    let mut n = 0u32;
    while n < 10 || start.elapsed() < budget {
        key.decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut out, Some(label))?;
        n += 1;
    }
    let spent = match (cpu_start, thread_cpu()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => start.elapsed(),
    };
    println!("{:.4}", spent.as_secs_f64() * 1e3 / f64::from(n));
    Ok(())
}

/// This thread's user + system CPU time, from `/proc/thread-self/stat` (clock ticks of 10 ms:
/// `USER_HZ` is 100 on Linux).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
