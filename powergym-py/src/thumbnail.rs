//! Face thumbnail encryption for Python: `ThumbnailKey` (PowerGym's sealed format) and
//! `open_legacy_thumbnail` (the original system's format, for migration). Conversions
//! only: the formats and their checks live in `powergym_core::face`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use powergym_core::ClientId;
use powergym_core::face;

/// The 256-bit key that seals face thumbnails. Built only from a named encoding; its
/// repr never shows the key.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct ThumbnailKey(pub(crate) face::ThumbnailKey);

#[pymethods]
impl ThumbnailKey {
    /// Parses 64 hex characters, as `openssl rand -hex 32` prints.
    #[staticmethod]
    fn from_hex(text: &str) -> PyResult<Self> {
        face::ThumbnailKey::from_hex(text).map(Self).map_err(to_py)
    }

    /// Parses standard padded base64 of exactly 32 bytes, as `openssl rand -base64 32`
    /// prints.
    #[staticmethod]
    fn from_base64(text: &str) -> PyResult<Self> {
        face::ThumbnailKey::from_base64(text)
            .map(Self)
            .map_err(to_py)
    }

    /// A fresh key from the operating system's randomness.
    #[staticmethod]
    fn generate() -> Self {
        Self(face::ThumbnailKey::generate())
    }

    /// Encrypts a thumbnail (`bytes`, `bytearray` or `memoryview`) for one biometric row
    /// of one client.
    fn seal<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::jpeg)] jpeg: Vec<u8>,
        biometric_id: Uuid,
        client_id: Uuid,
    ) -> Bound<'py, PyBytes> {
        let sealed = self
            .0
            .seal(&jpeg, biometric_id, ClientId::from_uuid(client_id));
        PyBytes::new(py, &sealed)
    }

    /// Decrypts what `seal` produced for the same biometric row and client.
    fn open<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::sealed)] sealed: Vec<u8>,
        biometric_id: Uuid,
        client_id: Uuid,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let plain = self
            .0
            .open(&sealed, biometric_id, ClientId::from_uuid(client_id))
            .map_err(to_py)?;
        Ok(PyBytes::new(py, &plain))
    }

    fn __repr__(&self) -> &'static str {
        "ThumbnailKey(<redacted>)"
    }
}

/// Decrypts a thumbnail the original system stored. 100 000 PBKDF2 rounds per call, so
/// the GIL is released meanwhile.
#[pyfunction]
fn open_legacy_thumbnail<'py>(
    py: Python<'py>,
    stored: &str,
    key_base64: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let plain = py
        .detach(|| face::open_legacy_thumbnail(stored, key_base64))
        .map_err(to_py)?;
    Ok(PyBytes::new(py, &plain))
}

/// Registers the class and the function on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ThumbnailKey>()?;
    m.add_function(wrap_pyfunction!(open_legacy_thumbnail, m)?)?;
    Ok(())
}
