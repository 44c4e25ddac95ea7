//! Hand-off work that must happen in Rust (proportional to the data, without the GIL).

pub(crate) mod dlpack;
pub(crate) mod pandas;
