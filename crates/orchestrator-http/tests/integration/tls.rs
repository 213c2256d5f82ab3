//! TLS with certificates generated in the test: an untrusted server fails, a custom CA makes
//! it trusted, and a server demanding a client certificate gets one only when configured.

use std::time::Duration;

use orchestrator_http::{HttpClient, HttpError, TlsError, TlsFiles};
use orchestrator_testkit::pki::TestPki;
use orchestrator_testkit::server::RecordingServer;

fn ok_server(pki: &TestPki, bind: &str, client_auth: bool) -> RecordingServer {
    RecordingServer::start(bind, Some(pki.server_config(client_auth)), |_| {
        (200, "{\"ok\":true}".into())
    })
}

fn client(files: &TlsFiles) -> HttpClient {
    HttpClient::builder()
        .deadline(Duration::from_secs(5))
        .tls(files.load().unwrap())
        .build()
        .unwrap()
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_and_a_custom_ca_fixes_it() {
    let pki = TestPki::new();
    let server = ok_server(&pki, "127.0.0.1:0", false);
    let url = format!("{}/hook", server.url());
    assert!(url.starts_with("https://127.0.0.1:"));
    let err = client(&TlsFiles::new())
        .post_json(&url, b"{}", &[])
        .unwrap_err();
    assert!(matches!(err, HttpError::Tls { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(server.requests().is_empty());

    let trusted = TlsFiles::new().ca("ca", pki.path("ca.pem"));
    let reply = client(&trusted).post_json(&url, b"{\"a\":1}", &[]).unwrap();
    assert_eq!(reply.status, 200);
    let got = server.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"{\"a\":1}");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
}

#[test]
fn https_to_the_ipv6_loopback() {
    let pki = TestPki::new();
    let server = ok_server(&pki, "[::1]:0", false);
    let url = format!("{}/x", server.url());
    assert!(url.starts_with("https://[::1]:"), "{url}");
    let trusted = TlsFiles::new().ca("ca", pki.path("ca.pem"));
    assert_eq!(client(&trusted).get(&url, &[]).unwrap().status, 200);
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = TestPki::new();
    let server = ok_server(&pki, "127.0.0.1:0", true);
    let url = format!("{}/x", server.url());
    let ca_only = TlsFiles::new().ca("ca", pki.path("ca.pem"));
    let err = client(&ca_only).get(&url, &[]).unwrap_err();
    assert!(
        matches!(err, HttpError::Tls { .. } | HttpError::Io { .. }),
        "{err:?}"
    );
    assert!(server.requests().is_empty());

    let with_cert = ca_only
        .client_cert("cert", pki.path("client.pem"))
        .client_key("key", pki.path("client.key"));
    assert_eq!(client(&with_cert).get(&url, &[]).unwrap().status, 200);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn bad_files_name_the_setting_and_the_path() {
    let pki = TestPki::new();
    let missing = TlsFiles::new()
        .ca("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("nope.pem"))
        .load()
        .unwrap_err();
    assert!(matches!(missing, TlsError::Read { .. }));
    let text = missing.to_string();
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_CERTIFICATE") && text.contains("nope.pem"),
        "{text}"
    );

    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let malformed = TlsFiles::new()
        .ca("OTEL_EXPORTER_OTLP_CERTIFICATE", &garbage)
        .load()
        .unwrap_err();
    assert!(
        matches!(malformed, TlsError::Malformed { .. }),
        "{malformed:?}"
    );
    assert!(malformed.to_string().contains("garbage.pem"));

    let half = TlsFiles::new()
        .client_cert(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            pki.path("client.pem"),
        )
        .load()
        .unwrap_err();
    assert!(matches!(half, TlsError::Incomplete { .. }));
    assert!(
        half.to_string()
            .contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
    );

    let key_is_not_a_key = TlsFiles::new()
        .client_cert("cert", pki.path("client.pem"))
        .client_key("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki.path("client.pem"))
        .load()
        .unwrap_err();
    assert!(
        matches!(key_is_not_a_key, TlsError::Malformed { .. }),
        "{key_is_not_a_key:?}"
    );
}
