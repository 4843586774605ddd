//! TLS for real: a CA made at test time, the fault server over TLS on
//! 127.0.0.1, and the transport's trust, pinning and version rules.

use http::Method;
use std::sync::Arc;
use wharf_runtime::call::{
    CallOptions, ErrorClass, ErrorKind, Integration, IntegrationConfig, OperationMeta, Request,
    ReqwestTransport, ReqwestTransportBuilder, TransportErrorKind,
};
use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, TestCa};

fn api(transport: ReqwestTransportBuilder) -> Integration {
    Integration::builder("tls")
        .config(IntegrationConfig {
            jitter_seed: Some(1),
            ..Default::default()
        })
        .transport(Arc::new(transport.build().unwrap()))
        .build()
        .unwrap()
}

fn get(url: String) -> Request {
    Request::new(OperationMeta::new("get", Method::GET, "/"), url)
}

fn tls_kind(kind: &ErrorKind) -> Option<TransportErrorKind> {
    match kind {
        ErrorKind::Transport { error, .. } => Some(error.kind),
        _ => None,
    }
}

fn sha256(der: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[tokio::test]
async fn trusted_ca_works_and_an_unknown_one_is_a_permanent_failure() {
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let server = FaultServer::new(|_| Fault::ok());
    let https = FaultHttpServer::start_tls(server.clone(), &cert, None)
        .await
        .unwrap();

    let trusting = api(ReqwestTransport::builder().add_root_certificate_der(ca.cert_der.clone()));
    let ok = trusting
        .call(get(https.https_url("/a")), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(ok.status.as_u16(), 200);

    let stranger = api(ReqwestTransport::builder());
    let err = stranger
        .call(get(https.https_url("/b")), CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(tls_kind(&err.kind), Some(TransportErrorKind::Tls), "{err}");
    assert_eq!(
        (err.class(), err.attempts),
        (ErrorClass::Permanent, 1),
        "not retried"
    );
    assert_eq!(server.log().requests.len(), 1, "nothing reached the server");
}

#[tokio::test]
async fn certificate_pinning_accepts_the_pinned_and_rejects_others() {
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let other = ca.issue(&["localhost"]).unwrap();
    let server = FaultServer::new(|_| Fault::ok());
    let https = FaultHttpServer::start_tls(server.clone(), &cert, None)
        .await
        .unwrap();

    let pinned = api(ReqwestTransport::builder()
        .add_root_certificate_der(ca.cert_der.clone())
        .pin_certificate_sha256(sha256(&cert.cert_der)));
    assert!(pinned
        .call(get(https.https_url("/")), CallOptions::default())
        .await
        .is_ok());

    let wrong_pin = api(ReqwestTransport::builder()
        .add_root_certificate_der(ca.cert_der.clone())
        .pin_certificate_sha256(sha256(&other.cert_der)));
    let err = wrong_pin
        .call(get(https.https_url("/")), CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(tls_kind(&err.kind), Some(TransportErrorKind::Tls), "{err}");
    assert!(err.to_string().contains("pinned"), "{err}");
}

#[tokio::test]
async fn public_key_pinning_holds_across_a_renewed_certificate() {
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let renewed = ca.reissue(&["localhost"], &cert.key_pem).unwrap();
    assert_ne!(cert.cert_der, renewed.cert_der);
    assert_eq!(cert.spki_der, renewed.spki_der);
    let other_key = ca.issue(&["localhost"]).unwrap();
    let key_pinned = || {
        api(ReqwestTransport::builder()
            .add_root_certificate_der(ca.cert_der.clone())
            .pin_public_key_sha256(sha256(&cert.spki_der)))
    };
    let cert_pinned = || {
        api(ReqwestTransport::builder()
            .add_root_certificate_der(ca.cert_der.clone())
            .pin_certificate_sha256(sha256(&cert.cert_der)))
    };
    for (served, key_pin_accepts, cert_pin_accepts) in [
        (&cert, true, true),
        // A renewal with the same key: the key pin holds, the certificate
        // pin does not.
        (&renewed, true, false),
        (&other_key, false, false),
    ] {
        let server = FaultServer::new(|_| Fault::ok());
        let https = FaultHttpServer::start_tls(server.clone(), served, None)
            .await
            .unwrap();
        for (client, accepts) in [
            (key_pinned(), key_pin_accepts),
            (cert_pinned(), cert_pin_accepts),
        ] {
            let result = client
                .call(get(https.https_url("/")), CallOptions::default())
                .await;
            match result {
                Ok(_) => assert!(
                    accepts,
                    "a server that should have been refused was accepted"
                ),
                Err(err) => {
                    assert!(!accepts, "{err}");
                    assert_eq!(tls_kind(&err.kind), Some(TransportErrorKind::Tls), "{err}");
                    assert!(err.to_string().contains("pinned"), "{err}");
                }
            }
        }
        let accepted = usize::from(key_pin_accepts) + usize::from(cert_pin_accepts);
        assert_eq!(
            server.log().requests.len(),
            accepted,
            "refused before any request"
        );
    }
}

#[tokio::test]
async fn tls_1_2_servers_are_accepted() {
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["localhost"]).unwrap();
    let server = FaultServer::new(|_| Fault::ok());
    let https = FaultHttpServer::start_tls(server, &cert, Some(&[&rustls::version::TLS12]))
        .await
        .unwrap();
    let client = api(ReqwestTransport::builder().add_root_certificate_der(ca.cert_der.clone()));
    assert!(client
        .call(get(https.https_url("/")), CallOptions::default())
        .await
        .is_ok());
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = TestCa::new().unwrap();
    let cert = ca.issue(&["api.example.test"]).unwrap();
    let server = FaultServer::new(|_| Fault::ok());
    let https = FaultHttpServer::start_tls(server, &cert, None)
        .await
        .unwrap();
    let client = api(ReqwestTransport::builder().add_root_certificate_der(ca.cert_der.clone()));
    let err = client
        .call(get(https.https_url("/")), CallOptions::default())
        .await
        .unwrap_err();
    assert_eq!(tls_kind(&err.kind), Some(TransportErrorKind::Tls), "{err}");
}
