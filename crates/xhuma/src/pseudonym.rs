//! Keyed pseudonyms for NHS numbers (HMAC-SHA256).
//!
//! A plain hash of a 10-digit number with a checksum is reversible by enumeration, so the
//! pseudonym is keyed. The key comes from configuration or is generated once and kept in the
//! data directory; the same key gives the same pseudonym, so audit rows for one patient join
//! up without the NHS number being stored. Cache keys use the same pseudonyms.

use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

const KEY_FILE: &str = "pseudonym.key";

#[derive(Debug, thiserror::Error)]
pub enum PseudonymError {
    #[error("cannot read or create the pseudonym key in {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the pseudonym key file is not 64 hex characters")]
    BadKeyFile,
}

/// Turns NHS numbers into stable, non-reversible identifiers.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: std::sync::Arc<SecretSlice<u8>>,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(..)")
    }
}

impl Pseudonymiser {
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: std::sync::Arc::new(SecretSlice::from(key.to_vec())),
        }
    }

    /// The configured key, or the one kept in `data_dir` (generated on first use, mode 0600).
    pub fn from_config_or_dir(
        configured: Option<&secrecy::SecretString>,
        data_dir: &Path,
    ) -> Result<Self, PseudonymError> {
        if let Some(k) = configured {
            return Ok(Self::new(k.expose_secret().as_bytes()));
        }
        let io = |source| PseudonymError::Io {
            dir: data_dir.display().to_string(),
            source,
        };
        crate::audit::private_dir(data_dir).map_err(io)?;
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = decode_hex(text.trim()).ok_or(PseudonymError::BadKeyFile)?;
                Ok(Self::new(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                write_private(&path, &hex(&key)).map_err(io)?;
                Ok(Self::new(&key))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// 64 lowercase hex characters.
    pub fn pseudonym(&self, nhs_number: &str) -> String {
        // new_from_slice accepts keys of any length for HMAC.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.expose_secret()) else {
            unreachable!("HMAC accepts keys of any length")
        };
        mac.update(nhs_number.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stable_keyed_and_not_the_number() {
        let a = Pseudonymiser::new(b"key-one-key-one-key-one-key-one!");
        let b = Pseudonymiser::new(b"key-two-key-two-key-two-key-two!");
        let p = a.pseudonym("9690937278");
        assert_eq!(p, a.pseudonym("9690937278"));
        assert_ne!(p, b.pseudonym("9690937278"));
        assert_ne!(p, a.pseudonym("9690937286"));
        assert_eq!(p.len(), 64);
        assert!(!p.contains("9690937278"));
    }

    #[test]
    fn generated_key_is_persisted_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Pseudonymiser::from_config_or_dir(None, dir.path()).unwrap();
        let b = Pseudonymiser::from_config_or_dir(None, dir.path()).unwrap();
        assert_eq!(a.pseudonym("9690937278"), b.pseudonym("9690937278"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key file must not be readable by others");
        }
    }

    #[test]
    fn corrupt_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "nope").unwrap();
        assert!(matches!(
            Pseudonymiser::from_config_or_dir(None, dir.path()),
            Err(PseudonymError::BadKeyFile)
        ));
    }
}
