//! A certificate authority made at test time, for TLS tests (the fault
//! server here, the OAuth server in the OAuth tests): no key or certificate
//! is ever committed.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData,
};

/// A test CA and what it signs.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    /// The CA certificate, DER (to add as a trusted root).
    pub cert_der: Vec<u8>,
    /// The CA certificate, PEM (for servers in other languages).
    pub cert_pem: String,
}

/// A server certificate and its private key.
pub struct ServerCert {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub key_der: Vec<u8>,
    pub key_pem: String,
    /// The public key, as a DER SubjectPublicKeyInfo (what key pins hash).
    pub spki_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Result<TestCa, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "wharf test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            params,
            key,
        })
    }

    /// A certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str]) -> Result<ServerCert, rcgen::Error> {
        self.sign(names, KeyPair::generate()?)
    }

    /// A new certificate for the key of `earlier` (PEM): a renewal.
    pub fn reissue(
        &self,
        names: &[&str],
        earlier_key_pem: &str,
    ) -> Result<ServerCert, rcgen::Error> {
        self.sign(names, KeyPair::from_pem(earlier_key_pem)?)
    }

    fn sign(&self, names: &[&str], key: KeyPair) -> Result<ServerCert, rcgen::Error> {
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(ServerCert {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
            spki_der: key.subject_public_key_info(),
        })
    }
}
