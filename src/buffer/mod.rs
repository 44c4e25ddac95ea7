//! Arrow buffers and the Python buffer protocol, both ways.
//!
//! - [`view`]: `Buffer`, the read-only, typed PEP 3118 view of one Arrow buffer;
//! - [`export`]: which buffers an array has and how each is typed (the views `Array` hands out);
//! - [`import`]: borrowing a PEP 3118 exporter's memory (NumPy, ...) as an Arrow buffer.
//!
//! The Arrow C data interface (capsules) is `crate::ffi`.

pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod view;

pub(crate) use view::{ElementFormat, PyBuffer};
