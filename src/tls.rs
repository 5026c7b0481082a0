//! TLS client configuration, one way for both links (the Anova cloud and an `mqtts://`
//! broker): the one crypto provider compiled in (ring) named explicitly, so nothing depends on
//! a process-wide default provider, and the bundled Mozilla roots, so the runtime image needs
//! no CA store.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// The public web roots (Mozilla's, bundled).
pub fn public_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// A client configuration trusting `roots`, with an optional client certificate chain and key.
pub fn client_config(
    roots: RootCertStore,
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, rustls::Error> {
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
    match client_auth {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key),
        None => Ok(builder.with_no_client_auth()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_ring_and_the_public_roots() {
        let roots = public_roots();
        assert!(roots.len() > 100);
        let config = client_config(roots, None).unwrap();
        assert!(config.alpn_protocols.is_empty());
    }
}
