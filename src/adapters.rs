//! Hand-offs implemented in Python (`colbridge._numpy`, `_pandas`, `_polars`, `_interchange`,
//! `_repr`, `_filters`, `_sources`): the pyclasses expose them as methods and delegate here. Each
//! target is named once, in [`Adapter::target`], and resolved once per process; a test imports
//! every target.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// A Python function a pyclass method delegates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adapter {
    ArrayHtml,
    SchemaHtml,
    TableHtml,
    ParquetFileHtml,
    ArrayToNumpy,
    ChunkedToNumpy,
    DunderArray,
    PandasSeries,
    PandasDataFrame,
    PolarsSeries,
    PolarsDataFrame,
    InterchangeDataFrame,
    TemporalLiterals,
    SingleFile,
    RangedFile,
}

impl Adapter {
    pub(crate) const ALL: [Adapter; 15] = [
        Adapter::ArrayHtml,
        Adapter::SchemaHtml,
        Adapter::TableHtml,
        Adapter::ParquetFileHtml,
        Adapter::ArrayToNumpy,
        Adapter::ChunkedToNumpy,
        Adapter::DunderArray,
        Adapter::PandasSeries,
        Adapter::PandasDataFrame,
        Adapter::PolarsSeries,
        Adapter::PolarsDataFrame,
        Adapter::InterchangeDataFrame,
        Adapter::TemporalLiterals,
        Adapter::SingleFile,
        Adapter::RangedFile,
    ];

    /// `(module, function)`.
    pub(crate) const fn target(self) -> (&'static str, &'static str) {
        match self {
            Adapter::ArrayHtml => ("colbridge._repr", "array_html"),
            Adapter::SchemaHtml => ("colbridge._repr", "schema_html"),
            Adapter::TableHtml => ("colbridge._repr", "table_html"),
            Adapter::ParquetFileHtml => ("colbridge._repr", "parquet_file_html"),
            Adapter::ArrayToNumpy => ("colbridge._numpy", "array_to_numpy"),
            Adapter::ChunkedToNumpy => ("colbridge._numpy", "chunked_to_numpy"),
            Adapter::DunderArray => ("colbridge._numpy", "dunder_array"),
            Adapter::PandasSeries => ("colbridge._pandas", "to_series"),
            Adapter::PandasDataFrame => ("colbridge._pandas", "to_dataframe"),
            Adapter::PolarsSeries => ("colbridge._polars", "to_series"),
            Adapter::PolarsDataFrame => ("colbridge._polars", "to_dataframe"),
            Adapter::InterchangeDataFrame => ("colbridge._interchange", "DataFrame"),
            Adapter::TemporalLiterals => ("colbridge._filters", "temporal_literals"),
            Adapter::SingleFile => ("colbridge._sources", "single_file"),
            Adapter::RangedFile => ("colbridge._sources", "ranged_file"),
        }
    }

    /// The Python function, imported on first use and kept for the life of the process (the
    /// modules import their heavy dependencies lazily, inside the functions).
    fn function<'py>(self, py: Python<'py>) -> PyResult<&'py Bound<'py, PyAny>> {
        static FUNCTIONS: [PyOnceLock<Py<PyAny>>; Adapter::ALL.len()] =
            [const { PyOnceLock::new() }; Adapter::ALL.len()];
        let function = FUNCTIONS[self as usize].get_or_try_init(py, || {
            let (module, function) = self.target();
            Ok::<_, PyErr>(py.import(module)?.getattr(function)?.unbind())
        })?;
        Ok(function.bind(py))
    }

    /// Call the function with `args` and `kwargs`.
    pub(crate) fn call<'py>(
        self,
        py: Python<'py>,
        args: impl pyo3::call::PyCallArgs<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.function(py)?.call(args, kwargs)
    }
}

/// Every adapter's `(module, function)`, for the test that imports each one.
#[pyfunction]
pub(crate) fn _adapter_targets() -> Vec<(&'static str, &'static str)> {
    Adapter::ALL.iter().map(|a| a.target()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_adapter_once_in_declaration_order() {
        for (i, adapter) in Adapter::ALL.iter().enumerate() {
            assert_eq!(*adapter as usize, i, "{adapter:?}");
        }
    }
}
