//! Secrets (a webhook URL, a routing key, a password) read from a file or the environment,
//! never printed.

use std::path::{Path, PathBuf};

/// A secret value. `Debug` shows `***`; there is no `Display`. Read it with
/// [`Secret::expose`] where it is sent, and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why a secret could not be read. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set (or not UTF-8).
    #[error("the environment variable {0} is not set")]
    MissingVar(String),
    /// The file could not be read.
    #[error("cannot read the secret file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The value is empty (after trimming whitespace).
    #[error("the secret from {0} is empty")]
    Empty(String),
}

impl Secret {
    /// A secret given in code (from a vault client, say). Prefer [`Secret::from_file`] or
    /// [`Secret::from_env`]: a literal in code ends up in version control.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value of the environment variable `name`, trimmed.
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        let value = std::env::var(name).map_err(|_| SecretError::MissingVar(name.to_owned()))?;
        Self::checked(value, name)
    }

    /// The content of `path`, trimmed (a trailing newline is not part of the secret).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SecretError> {
        let path = path.as_ref();
        let value = std::fs::read_to_string(path).map_err(|source| SecretError::File {
            path: path.to_owned(),
            source,
        })?;
        Self::checked(value, &path.display().to_string())
    }

    fn checked(value: String, from: &str) -> Result<Self, SecretError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(SecretError::Empty(from.to_owned()));
        }
        Ok(Secret(trimmed.to_owned()))
    }

    /// The value, to send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("R0UT1NG-KEY");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
    }

    #[test]
    fn a_file_is_trimmed_and_an_empty_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abc123\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "abc123");
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(
            Secret::from_file(&path),
            Err(SecretError::Empty(_))
        ));
        let err = Secret::from_file(dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(matches!(
            Secret::from_env("ORCHESTRATOR_TELEMETRY_SURELY_UNSET_42"),
            Err(SecretError::MissingVar(_))
        ));
    }
}
