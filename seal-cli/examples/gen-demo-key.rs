//! Generates the DEMO-ONLY key pair committed in the workspace's `examples/`.
//!
//! The private key is published on purpose, so anything sealed with it is readable by anyone:
//! it exists only so the README's example runs without a cluster. Run once:
//!
//! ```sh
//! cargo run -p seal-cli --example gen-demo-key            # writes examples/demo-{cert,key}.pem
//! cargo run -p seal-cli --example gen-demo-key -- --force  # replaces them
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use rand::TryRng as _;
use shared::keys::{KeySize, generate};

/// Long enough that the README example never meets an expired certificate.
const TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

fn main() -> ExitCode {
    let force = std::env::args().any(|a| a == "--force");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("examples");
    let cert_path = dir.join("demo-cert.pem");
    let key_path = dir.join("demo-key.pem");
    if !force && (cert_path.exists() || key_path.exists()) {
        eprintln!(
            "error: {} already has a demo key; pass --force to replace it",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let mut serial = [0u8; 16];
    if let Err(e) = rand::rngs::SysRng.try_fill_bytes(&mut serial) {
        eprintln!("error: random source: {e}");
        return ExitCode::FAILURE;
    }
    let now = time::OffsetDateTime::now_utc();
    let generated = match generate(
        KeySize::Rsa4096,
        now,
        TTL,
        "DEMO ONLY - public sealed-secrets demo key",
        serial,
    ) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let key_pem = match generated.key.to_pkcs1_pem() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&cert_path, &generated.cert_pem))
        .and_then(|()| std::fs::write(&key_path, key_pem.as_bytes()));
    if let Err(e) = written {
        eprintln!("error: writing to {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {} and {}", cert_path.display(), key_path.display());
    println!("fingerprint {}", generated.key.fingerprint());
    ExitCode::SUCCESS
}
