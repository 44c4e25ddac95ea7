//! Arrow IPC: the file format (Feather v2 is the same) and the stream format, read from a
//! memory mapping without copying and written atomically. The layers, bottom up:
//! - `source`: the file's bytes as one Arrow buffer, a read-only memory mapping by default, which
//!   every decoded array slices and keeps alive;
//! - `framing`: the footer and blocks, or the stream's messages, each located inside the file
//!   and its flatbuffer verified;
//! - `schema`: the schema flatbuffer as an Arrow schema, every field checked;
//! - `layout`: which nodes and buffers of a batch belong to which column, every number checked
//!   against the body;
//! - `transform`: compressed or big-endian columns decompressed / byte-swapped into memory;
//! - `decode`: batches and dictionaries decoded by arrow-ipc with full validation, and which
//!   columns point into the file;
//! - `write`: `write_ipc`.

mod decode;
mod framing;
mod layout;
mod schema;
mod source;
mod transform;
mod write;

use pyo3::prelude::*;

use self::decode::{ReadOptions, Selector};
use self::source::Request;
use crate::error::Error;
use crate::table::PyTable;

impl Selector {
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(i) = obj.extract::<isize>() {
            return Ok(Selector::Index(i));
        }
        obj.extract::<String>().map(Selector::Name).map_err(|_| {
            Error::UnsupportedType(format!(
                "columns are selected by name or position, not {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
            .into()
        })
    }
}

/// Read an Arrow IPC file or stream into a `Table` (see `colbridge.read_ipc`).
#[pyfunction]
#[pyo3(signature = (source, columns = None, memory_map = true, require_zero_copy = false, validate = true))]
fn read_ipc(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    columns: Option<Vec<Bound<'_, PyAny>>>,
    memory_map: bool,
    require_zero_copy: bool,
    validate: bool,
) -> PyResult<PyTable> {
    let request = Request::from_py(source)?;
    let columns = columns
        .map(|cols| {
            cols.iter()
                .map(Selector::from_py)
                .collect::<PyResult<Vec<_>>>()
        })
        .transpose()?;
    let options = ReadOptions {
        columns,
        require_zero_copy,
        validate,
    };
    let table = py.detach(move || {
        let file = request.open(memory_map)?;
        decode::read(&file, &options)
    })?;
    Ok(table)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_ipc, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_ipc, m)?)?;
    Ok(())
}

/// The IPC side of the fuzz targets (`crate::fuzzing`): `data` read as an IPC file or stream
/// with full validation, and every column a read returns used whole.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fuzz_read(data: &[u8]) {
    let file = source::FileBytes {
        bytes: arrow_buffer::Buffer::from(data.to_vec()),
        origin: source::Origin::Memory,
    };
    let options = ReadOptions {
        columns: None,
        require_zero_copy: false,
        validate: true,
    };
    if let Ok(table) = decode::read(&file, &options) {
        for column in &table.columns {
            for chunk in &column.chunks {
                let _ = arrow_cast::cast(chunk, &arrow_schema::DataType::Utf8);
            }
        }
    }
}
