//! TLS material from files: a custom CA (beside the system's roots) and a client certificate
//! with its key, checked when loaded so a bad file is an error at start-up, naming the file
//! and the setting it came from.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS files cannot be used. Names the setting (an `OTEL_*` variable, say) and the path.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("{name}={path}: cannot read the file: {source}")]
    Read {
        /// The setting.
        name: Cow<'static, str>,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no usable PEM certificate or key.
    #[error("{name}={path}: {reason}")]
    Malformed {
        /// The setting.
        name: Cow<'static, str>,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A client certificate without its key, or a key without its certificate.
    #[error("{present} is set but {missing} is not: a client certificate needs both")]
    Incomplete {
        /// The setting that is set.
        present: Cow<'static, str>,
        /// The one that is missing.
        missing: Cow<'static, str>,
    },
    /// reqwest refused the material.
    #[error("the TLS material was refused: {0}")]
    Refused(String),
}

/// Where the TLS material is, and what to call each file in errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct TlsFiles {
    ca: Option<(Cow<'static, str>, PathBuf)>,
    client_cert: Option<(Cow<'static, str>, PathBuf)>,
    client_key: Option<(Cow<'static, str>, PathBuf)>,
}

impl TlsFiles {
    /// No files: the system's roots only, no client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// PEM certificates trusted beside the system's roots; `name` is what errors call it.
    pub fn ca(mut self, name: impl Into<Cow<'static, str>>, path: impl Into<PathBuf>) -> Self {
        self.ca = Some((name.into(), path.into()));
        self
    }

    /// The PEM client certificate (chain) for mutual TLS.
    pub fn client_cert(
        mut self,
        name: impl Into<Cow<'static, str>>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some((name.into(), path.into()));
        self
    }

    /// The PEM private key of the client certificate.
    pub fn client_key(
        mut self,
        name: impl Into<Cow<'static, str>>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.client_key = Some((name.into(), path.into()));
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }

    /// Reads and checks the files.
    pub fn load(&self) -> Result<TlsMaterial, TlsError> {
        let ca = match &self.ca {
            Some((name, path)) => {
                let pem = read(name, path)?;
                certificates(name, path, &pem)?;
                Some(pem)
            }
            None => None,
        };
        let identity = match (&self.client_cert, &self.client_key) {
            (None, None) => None,
            (Some((present, _)), None) => {
                return Err(TlsError::Incomplete {
                    present: present.clone(),
                    missing: "the client key".into(),
                });
            }
            (None, Some((present, _))) => {
                return Err(TlsError::Incomplete {
                    present: present.clone(),
                    missing: "the client certificate".into(),
                });
            }
            (Some((cert_name, cert_path)), Some((key_name, key_path))) => {
                let cert = read(cert_name, cert_path)?;
                certificates(cert_name, cert_path, &cert)?;
                let key = read(key_name, key_path)?;
                PrivateKeyDer::from_pem_slice(&key).map_err(|e| TlsError::Malformed {
                    name: key_name.clone(),
                    path: key_path.clone(),
                    reason: format!("no PEM private key: {e}"),
                })?;
                Some((cert, key))
            }
        };
        Ok(TlsMaterial { ca, identity })
    }
}

#[allow(clippy::ptr_arg)] // the Cow is cloned into the error, borrowed or owned as given
fn read(name: &Cow<'static, str>, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        name: name.clone(),
        path: path.to_owned(),
        source,
    })
}

#[allow(clippy::ptr_arg)]
fn certificates(name: &Cow<'static, str>, path: &Path, pem: &[u8]) -> Result<usize, TlsError> {
    let malformed = |reason: String| TlsError::Malformed {
        name: name.clone(),
        path: path.to_owned(),
        reason,
    };
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| malformed(format!("malformed PEM: {e}")))?;
        count += 1;
    }
    if count == 0 {
        return Err(malformed("no PEM certificate in the file".to_owned()));
    }
    Ok(count)
}

/// Loaded, checked TLS material (see [`TlsFiles::load`]). The default is none: the system's
/// roots, no client certificate.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsMaterial {
    ca: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca.as_ref().map(|pem| pem.len()))
            .field("client_identity", &self.identity.as_ref().map(|_| "***"))
            .finish()
    }
}

impl TlsMaterial {
    /// The custom CA certificates, PEM.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca.as_deref()
    }

    /// The client certificate and key, PEM.
    pub fn identity_pem(&self) -> Option<(&[u8], &[u8])> {
        self.identity
            .as_ref()
            .map(|(cert, key)| (cert.as_slice(), key.as_slice()))
    }

    /// Adds the CA (beside the system's roots) and the client certificate to a reqwest
    /// client (the OTLP/HTTP exporter's, or this crate's).
    pub fn configure(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, TlsError> {
        let refused = |e: reqwest::Error| TlsError::Refused(e.to_string());
        if let Some(ca) = &self.ca {
            for cert in reqwest::Certificate::from_pem_bundle(ca).map_err(refused)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some((cert, key)) = &self.identity {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(refused)?);
        }
        Ok(builder)
    }
}
