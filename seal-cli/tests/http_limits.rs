//! `--cert http://...` cannot hang or exhaust memory: `--request-timeout` (kubectl's syntax;
//! default 30 s) bounds the whole fetch, and the body is capped at 1 MiB. Every server here
//! is a listener on 127.0.0.1 in the test itself.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n";

/// A server that accepts every connection, then runs `respond` on it and keeps it open until
/// the test ends.
fn server(respond: fn(&mut TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cert.pem", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            respond(&mut stream);
            open.push(stream);
        }
    });
    url
}

/// Accepts the connection and never answers.
fn silent(_: &mut TcpStream) {}

/// Reads the request head, then sends a status line and headers for a 5,000-byte body, ten
/// bytes of it, and stalls.
fn stalled_body(stream: &mut TcpStream) {
    read_head(stream);
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: 5000\r\n\r\n-----BEGIN",
    );
}

fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
}

/// Fails with exactly `error: <expected>` in well under the default 30 s.
#[track_caller]
fn times_out(run: Run, expected: &str) {
    let start = Instant::now();
    let line = run.run().fails_with(&[]);
    let took = start.elapsed();
    assert_eq!(line, format!("error: {expected}\n"));
    assert!(took >= Duration::from_millis(900), "took only {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn silent_server_times_out() {
    let url = server(silent);
    let expected = format!("cannot fetch {url:?}: timed out after 1s (--request-timeout)");
    times_out(
        seal(&["--cert", &url, "--request-timeout", "1s"]).stdin(SECRET),
        &expected,
    );
    // A bare number is seconds; the environment works too; so do the other cert modes.
    times_out(
        seal(&["--cert", &url, "--request-timeout=1"]).stdin(SECRET),
        &expected,
    );
    times_out(
        seal(&["--cert", &url])
            .env("SEALED_SECRETS_REQUEST_TIMEOUT", "1000ms")
            .stdin(SECRET),
        &expected,
    );
    times_out(
        seal(&["--fetch-cert", "--cert", &url, "--request-timeout", "1s"]),
        &expected,
    );
    times_out(
        seal(&[
            "--raw",
            "-n",
            "ns",
            "--name",
            "s",
            "--cert",
            &url,
            "--request-timeout",
            "1s",
        ])
        .stdin("value"),
        &expected,
    );
}

#[test]
fn stalled_body_times_out() {
    let url = server(stalled_body);
    times_out(
        seal(&["--cert", &url, "--request-timeout", "1.5s"]).stdin(SECRET),
        &format!("cannot fetch {url:?}: timed out after 1.5s (--request-timeout)"),
    );
}

#[test]
fn zero_means_the_default_timeout() {
    fn serve_cert(stream: &mut TcpStream) {
        read_head(stream);
        let pem = std::fs::read(vector("sealing-cert.pem")).unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            pem.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&pem);
    }
    let url = server(serve_cert);
    for timeout in ["0", "0s", "30s"] {
        let sealed = seal(&["--cert", &url, "--request-timeout", timeout, "-o", "yaml"])
            .stdin(SECRET)
            .run()
            .ok();
        assert_eq!(unseal_data(&sealed, &[&key()])["a"], b"b", "{timeout}");
    }
}

#[test]
fn bad_request_timeout_is_a_usage_error() {
    let out = seal(&["--cert", &cert(), "--request-timeout", "5x"]).run();
    assert_eq!(out.code(), Some(2), "{}", out.stderr());
    assert_eq!(
        out.stderr(),
        "error: invalid value '5x' for '--request-timeout <DURATION>': unknown unit \"x\" in \
         duration: give a number of seconds, or a number with a unit (e.g. 5s, 1m, 1m30s, 500ms)\n"
    );
    let out = seal(&["--cert", &cert(), "--request-timeout=-1s"]).run();
    assert_eq!(out.code(), Some(2), "{}", out.stderr());
    assert!(
        out.stderr().contains("negative timeout"),
        "{}",
        out.stderr()
    );
}

#[test]
fn body_over_the_certificate_cap() {
    fn endless(stream: &mut TcpStream) {
        read_head(stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'A'; 64 * 1024];
        // 4 MiB, or until the client hangs up.
        for _ in 0..64 {
            if stream.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    let url = server(endless);
    let line = seal(&["--cert", &url, "--request-timeout", "10s"])
        .stdin(SECRET)
        .run()
        .fails_with(&[]);
    assert_eq!(
        line,
        format!("error: cannot fetch {url:?}: larger than 1 MiB, the limit for a certificate\n")
    );
}
