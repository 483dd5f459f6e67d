//! `--cert http://...`: served by a tiny HTTP server on 127.0.0.1 in the test itself.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;

use common::*;

/// Serves `/cert.pem` (200) and anything else (404), for `requests` connections.
fn serve(requests: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let pem = std::fs::read(vector("sealing-cert.pem")).unwrap();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            // Drain the headers.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let (status, body): (&str, &[u8]) = if path == "/cert.pem" {
                ("200 OK", &pem)
            } else {
                ("404 Not Found", b"not found\n")
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, handle)
}

#[test]
fn cert_over_http() {
    let (base, server) = serve(3);
    let input = std::fs::read_to_string(vector(STRICT_INPUT)).unwrap();

    let url = format!("{base}/cert.pem");
    let sealed = seal(&["--cert", &url, "-o", "yaml"])
        .stdin(&input)
        .run()
        .ok();
    assert_eq!(unseal_data(&sealed, &[&key()])["username"], b"app_user");

    let fetched = seal(&["--fetch-cert", "--cert", &url]).run().ok();
    assert_eq!(
        fetched,
        std::fs::read_to_string(vector("sealing-cert.pem")).unwrap()
    );

    let missing = format!("{base}/nope.pem");
    let line = seal(&["--cert", &missing])
        .stdin(&input)
        .run()
        .fails_with(&["cannot fetch"]);
    assert_eq!(
        line,
        format!("error: cannot fetch \"{missing}\": 404 Not Found\n")
    );
    server.join().unwrap();
}

#[test]
fn cert_server_unreachable() {
    // Bind and drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/cert.pem");
    seal(&["--cert", &url])
        .stdin("metadata: {name: s}\nstringData: {a: b}\n")
        .run()
        .fails_with(&["cannot fetch", &format!("{url:?}")]);
    seal(&["--cert", "ftp://example.invalid/cert.pem"])
        .stdin("")
        .run()
        .fails_with(&["unsupported protocol scheme \"ftp\""]);
}
