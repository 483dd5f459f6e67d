//! `--cert http://...`: served by a tiny HTTP server on 127.0.0.1 in the test itself.

mod common;

use std::net::TcpListener;

use common::*;

#[test]
fn cert_over_http() {
    let (base, _paths, server) = serve_cert(3);
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
