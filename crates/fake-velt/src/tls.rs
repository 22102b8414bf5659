//! HTTPS for the fake: a throwaway certificate authority made at start, and a certificate it
//! signs for `localhost`, `127.0.0.1` and [`crate::REMOTE_NAME`]. The client trusts it only when given the CA's PEM
//! (`--ca-file`), as it would trust a company's private CA, so a test can tell that the file
//! is what made the connection work.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The acceptor for the fake's connections, and the PEM of the CA that signed its certificate.
pub(crate) fn acceptor() -> (TlsAcceptor, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "fake-velt test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA certificate");

    let key = KeyPair::generate().expect("server key");
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        crate::REMOTE_NAME.to_owned(),
    ])
    .expect("server params");
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let leaf = leaf.signed_by(&key, &ca).expect("server certificate");

    let chain = vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // ring, the provider the client uses too, so the workspace builds one crypto library.
    let config = ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate and key");
    (TlsAcceptor::from(Arc::new(config)), ca.pem())
}
