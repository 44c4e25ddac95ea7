//! Hand-offs implemented in Python (`colbridge._numpy`, `colbridge._pandas`, `colbridge._polars`,
//! `colbridge._interchange`): the pyclasses expose them as methods and delegate here.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Call `colbridge.<module>.<function>(*args, **kwargs)`.
pub fn call<'py>(
    py: Python<'py>,
    module: &str,
    function: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    py.import(module)?.getattr(function)?.call(args, kwargs)
}
