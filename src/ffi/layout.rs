//! A producer's C structures, checked against their type before arrow-rs reads them.
//!
//! arrow-rs' `from_ffi` trusts every count and pointer of an `ArrowArray`: it asserts on some
//! (a struct's child count), indexes past others (an array with fewer buffers than its type
//! has) and sizes buffers from values it reads (the last string offset, the lengths of view
//! buffers). A released, malformed or lying producer could make it panic or read wild memory,
//! so everything it relies on is checked here first:
//! - the schema: not released, a non-NULL UTF-8 format and name, non-NULL children, nesting
//!   at most [`MAX_DEPTH`] deep, no negative fixed size, decimal precisions within their width,
//!   integer dictionary indices (`CapsuleError`);
//! - the array against the schema's type: not released, a non-negative length and offset, the
//!   buffers and children the type has (no fewer, no more), a dictionary exactly when the type
//!   has one (`CapsuleError`);
//! - the numbers that size memory or change values: the null count against the validity bitmap
//!   (arrow-rs drops a bitmap whose count says 0, silently turning nulls into values), the first
//!   and last offsets of a string or binary array, the lengths of view buffers
//!   (`InvalidInputError`).
//!
//! What no consumer can check: the C data interface carries no buffer sizes, so a buffer shorter
//! than the type and length say is read past its end. The values inside the buffers (every
//! offset, view, dictionary key, UTF-8) are validated after the import, in `validate`.

use std::ffi::CStr;
use std::panic::AssertUnwindSafe;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::types::{
    validate_decimal_precision_and_scale, Decimal128Type, Decimal256Type, Decimal32Type,
    Decimal64Type,
};
use arrow_buffer::bit_chunk_iterator::UnalignedBitChunk;
use arrow_data::{layout, BufferSpec};
use arrow_schema::{DataType, Field};

use super::validate::ColumnPath;
use crate::datatype::type_name;
use crate::error::{panic_message, Error, Result};

/// Types nested deeper than this are refused (arrow-rs converts a schema recursively).
pub(super) const MAX_DEPTH: usize = 64;

/// The field a producer's C schema describes; a released or malformed schema is a
/// `CapsuleError`.
pub(super) fn schema_field(schema: &FFI_ArrowSchema) -> Result<Field> {
    if schema.release.is_none() {
        return Err(Error::Capsule(
            "the ArrowSchema is released (already moved out by another import?)".into(),
        ));
    }
    check_schema(schema, 0)?;
    let field = match std::panic::catch_unwind(AssertUnwindSafe(|| Field::try_from(schema))) {
        Ok(field) => field?,
        Err(payload) => {
            return Err(Error::Capsule(format!(
                "malformed ArrowSchema: {}",
                panic_message(payload.as_ref())
            )))
        }
    };
    check_sizes(field.data_type())?;
    Ok(field)
}

/// The C format accepts types arrow-rs cannot hold: negative fixed sizes (`w:-1`, `+w:-1`),
/// which it would panic on, and decimals of precision 0 or beyond their width.
fn check_sizes(dt: &DataType) -> Result<()> {
    let malformed = |what: String| {
        Error::Capsule(format!(
            "malformed ArrowSchema: {what} in {}",
            type_name(dt)
        ))
    };
    if let DataType::FixedSizeBinary(n) | DataType::FixedSizeList(_, n) = dt {
        if *n < 0 {
            return Err(malformed("negative fixed size".into()));
        }
    }
    let decimal = match dt {
        DataType::Decimal32(p, s) => validate_decimal_precision_and_scale::<Decimal32Type>(*p, *s),
        DataType::Decimal64(p, s) => validate_decimal_precision_and_scale::<Decimal64Type>(*p, *s),
        DataType::Decimal128(p, s) => {
            validate_decimal_precision_and_scale::<Decimal128Type>(*p, *s)
        }
        DataType::Decimal256(p, s) => {
            validate_decimal_precision_and_scale::<Decimal256Type>(*p, *s)
        }
        _ => Ok(()),
    };
    decimal.map_err(|e| malformed(e.to_string()))?;
    if let DataType::Dictionary(key, values) = dt {
        // The C format allows any type as a dictionary's index; arrow-rs reads the keys as
        // integers (a view type there had it read lengths through a NULL pointer: found by the
        // c_structs fuzz target).
        if !key.is_dictionary_key_type() {
            return Err(malformed(format!(
                "a dictionary index of type {}",
                type_name(key)
            )));
        }
        check_sizes(values)?;
    }
    children_of(dt)
        .into_iter()
        .try_for_each(|(_, child)| check_sizes(child))
}

fn check_schema(schema: &FFI_ArrowSchema, depth: usize) -> Result<()> {
    let malformed = |what: &str| Error::Capsule(format!("malformed ArrowSchema: {what}"));
    if depth > MAX_DEPTH {
        return Err(malformed(&format!(
            "types nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if schema.format.is_null() {
        return Err(malformed(
            "NULL format (a released or uninitialised schema)",
        ));
    }
    // SAFETY: a non-NULL format is a NUL-terminated string owned by the schema (C data
    // interface), alive while we borrow the schema.
    let format = unsafe { CStr::from_ptr(schema.format) };
    let format = format
        .to_str()
        .map_err(|_| malformed("the format is not UTF-8"))?;
    if !schema.name.is_null() {
        // SAFETY: as for the format.
        let name = unsafe { CStr::from_ptr(schema.name) };
        name.to_str()
            .map_err(|_| malformed("a name is not UTF-8"))?;
    }
    let n = child_count(schema.n_children, schema.children.is_null())
        .map_err(|what| malformed(&what))?;
    // arrow-rs takes the children these formats have for granted (it asserts on them).
    let needed = match format {
        "+l" | "+L" | "+vl" | "+vL" | "+m" => Some(1),
        "+r" => Some(2),
        f if f.starts_with("+w:") => Some(1),
        _ => None,
    };
    if let Some(needed) = needed.filter(|&k| k != n) {
        return Err(malformed(&format!(
            "the format {format:?} has {needed} child type(s), the schema {n}"
        )));
    }
    for i in 0..n {
        // SAFETY: `children` is non-NULL and holds `n_children` pointers (checked above, and
        // required by the C data interface), each a valid schema owned by this one, or NULL.
        let child = unsafe { (*schema.children.add(i)).as_ref() };
        let child = child.ok_or_else(|| malformed(&format!("child {i} is NULL")))?;
        check_schema(child, depth + 1)?;
    }
    // SAFETY: a non-NULL dictionary points to a valid schema owned by this one.
    if let Some(dictionary) = unsafe { schema.dictionary.as_ref() } {
        check_schema(dictionary, depth + 1)?;
    }
    Ok(())
}

/// `n_children` as a count, refusing a negative count and a NULL `children` for a positive one.
fn child_count(n_children: i64, children_is_null: bool) -> std::result::Result<usize, String> {
    let n = usize::try_from(n_children)
        .map_err(|_| format!("negative number of children ({n_children})"))?;
    if n > 0 && children_is_null {
        return Err(format!("{n} children but a NULL children pointer"));
    }
    Ok(n)
}

/// Check a producer's array (moved to us, not yet imported) against `data_type`, the type of
/// its schema. `path` names the column in errors.
///
/// Polars exports the null type with one NULL validity buffer, which arrow-rs refuses; that
/// empty slot is dropped here (`n_buffers` set to 0).
pub(super) fn check_array(
    array: &mut FFI_ArrowArray,
    data_type: &DataType,
    path: &mut ColumnPath,
) -> Result<()> {
    if array.is_released() {
        return Err(Error::Capsule(
            "the ArrowArray is released (already moved out by another import?)".into(),
        ));
    }
    check_node(array, data_type, path)
}

fn check_node(array: &mut FFI_ArrowArray, dt: &DataType, path: &mut ColumnPath) -> Result<()> {
    let malformed = |path: &ColumnPath, what: String| {
        Error::Capsule(format!(
            "malformed ArrowArray for {path} ({}): {what}",
            type_name(dt)
        ))
    };
    let invalid = |path: &ColumnPath, what: String| {
        Error::InvalidInput(format!(
            "invalid Arrow data in {path} ({}): {what}",
            type_name(dt)
        ))
    };
    let (Ok(len), Ok(offset)) = (usize::try_from(array.length), usize::try_from(array.offset))
    else {
        return Err(malformed(
            path,
            format!(
                "negative length ({}) or offset ({})",
                array.length, array.offset
            ),
        ));
    };
    let spec = layout(dt);
    // arrow-rs sizes each buffer as (offset + length + 1) elements of its widest kind; that must
    // not overflow.
    let widest = spec
        .buffers
        .iter()
        .map(|b| match b {
            BufferSpec::FixedWidth { byte_width, .. } => *byte_width,
            _ => 1,
        })
        .max()
        .unwrap_or(1);
    let end = len
        .checked_add(offset)
        .filter(|end| {
            end.checked_add(1)
                .and_then(|n| n.checked_mul(widest))
                .is_some_and(|bytes| bytes <= isize::MAX as usize)
        })
        .ok_or_else(|| {
            malformed(
                path,
                format!("length {len} and offset {offset} overflow the address space"),
            )
        })?;

    // Buffers: the validity slot (when the type has one), the type's own, and for views the
    // variadic data buffers plus their lengths.
    let nulls_slot = usize::from(spec.can_contain_null_mask);
    let fixed = nulls_slot + spec.buffers.len();
    let n_buffers = usize::try_from(array.n_buffers)
        .map_err(|_| malformed(path, format!("negative n_buffers ({})", array.n_buffers)))?;
    if n_buffers > 0 && array.buffers.is_null() {
        return Err(malformed(
            path,
            format!("{n_buffers} buffers but a NULL buffers pointer"),
        ));
    }
    if *dt == DataType::Null && n_buffers == 1 && buffer(array, 0).is_null() {
        array.n_buffers = 0;
    } else if spec.variadic && n_buffers < fixed + 1 {
        return Err(malformed(
            path,
            format!(
                "{n_buffers} buffers where the type has at least {}",
                fixed + 1
            ),
        ));
    } else if !spec.variadic && n_buffers != fixed {
        return Err(malformed(
            path,
            format!("{n_buffers} buffers where the type has {fixed}"),
        ));
    }

    if nulls_slot == 1 {
        let claimed = array.null_count;
        if claimed < -1 || claimed > array.length {
            return Err(invalid(
                path,
                format!("null count {claimed} for {len} values"),
            ));
        }
        let validity = buffer(array, 0);
        if validity.is_null() && claimed > 0 {
            return Err(invalid(
                path,
                format!("null count {claimed} but no validity bitmap"),
            ));
        }
        if !validity.is_null() && claimed >= 0 {
            // SAFETY: the C data interface requires a validity bitmap of at least
            // offset + length bits; `end` was checked not to overflow.
            let bits =
                unsafe { std::slice::from_raw_parts(validity.cast::<u8>(), end.div_ceil(8)) };
            let actual = len - UnalignedBitChunk::new(bits, offset, len).count_ones();
            if actual as i64 != claimed {
                return Err(invalid(
                    path,
                    format!("null count {claimed} but the validity bitmap has {actual} nulls"),
                ));
            }
        }
    }

    match dt {
        DataType::Utf8 | DataType::Binary if len > 0 => {
            check_offsets::<i32>(array, offset, len).map_err(|what| invalid(path, what))?
        }
        DataType::LargeUtf8 | DataType::LargeBinary if len > 0 => {
            check_offsets::<i64>(array, offset, len).map_err(|what| invalid(path, what))?
        }
        DataType::Utf8View | DataType::BinaryView => {
            check_view_buffer_lengths(array, n_buffers, fixed)
                .map_err(|what| invalid(path, what))?
        }
        _ => {}
    }

    let children = children_of(dt);
    let n = child_count(array.n_children, array.children.is_null())
        .map_err(|what| malformed(path, what))?;
    if n != children.len() {
        return Err(malformed(
            path,
            format!("{n} children where the type has {}", children.len()),
        ));
    }
    for (i, (name, child_type)) in children.into_iter().enumerate() {
        // SAFETY: `children` is non-NULL and holds `n_children` pointers (checked above), each a
        // valid array owned by this one (moved to us with it), or NULL.
        let child = unsafe { (*array.children.add(i)).as_mut() };
        let child = child.ok_or_else(|| malformed(path, format!("child {i} is NULL")))?;
        path.push(name);
        check_node(child, child_type, path)?;
        path.pop();
    }

    // SAFETY: a non-NULL dictionary is a valid array owned by this one.
    let dictionary = unsafe { array.dictionary.as_mut() };
    match (dt, dictionary) {
        (DataType::Dictionary(_, value_type), Some(values)) => {
            path.push("dictionary");
            check_node(values, value_type, path)?;
            path.pop();
        }
        (DataType::Dictionary(..), None) => {
            return Err(malformed(path, "no dictionary array".into()));
        }
        (_, Some(_)) => {
            return Err(malformed(
                path,
                "a dictionary array for a type without one".into(),
            ));
        }
        (_, None) => {}
    }
    Ok(())
}

/// Buffer `i` of an array whose `buffers` holds more than `i` pointers (checked by the caller).
fn buffer(array: &FFI_ArrowArray, i: usize) -> *const u8 {
    // SAFETY: `buffers` is non-NULL and holds `n_buffers > i` pointers (checked by the caller);
    // the pointer array need not be aligned, hence the unaligned read.
    unsafe { std::ptr::read_unaligned(array.buffers.add(i)) }.cast::<u8>()
}

/// The offsets arrow-rs reads to size a string or binary array's data: the first and last of
/// the array's range must be non-negative and in order (the rest are validated after import).
fn check_offsets<O: Into<i64> + Copy>(
    array: &FFI_ArrowArray,
    offset: usize,
    len: usize,
) -> std::result::Result<(), String> {
    let offsets = buffer(array, 1).cast::<O>();
    if offsets.is_null() {
        return Err("NULL offsets buffer".into());
    }
    // SAFETY: the C data interface requires offset + length + 1 offsets; `offset + len` was
    // checked not to overflow. Producers need not align, hence the unaligned reads.
    let (first, last) = unsafe {
        (
            std::ptr::read_unaligned(offsets.add(offset)).into(),
            std::ptr::read_unaligned(offsets.add(offset + len)).into(),
        )
    };
    if first < 0 || last < first {
        return Err(format!(
            "offsets run from {first} to {last} (negative or decreasing)"
        ));
    }
    Ok(())
}

/// The lengths of a view array's data buffers (its last buffer) must be non-negative: arrow-rs
/// sizes those buffers from them.
fn check_view_buffer_lengths(
    array: &FFI_ArrowArray,
    n_buffers: usize,
    fixed: usize,
) -> std::result::Result<(), String> {
    let n_data = n_buffers - fixed - 1;
    if n_data == 0 {
        return Ok(());
    }
    let lengths = buffer(array, n_buffers - 1).cast::<i64>();
    if lengths.is_null() {
        return Err(format!(
            "{n_data} data buffers but a NULL buffer of their lengths"
        ));
    }
    for i in 0..n_data {
        // SAFETY: the last buffer of a view array holds one length per data buffer (C data
        // interface); read unaligned as producers need not align it.
        let length = unsafe { std::ptr::read_unaligned(lengths.add(i)) };
        if length < 0 {
            return Err(format!("data buffer {i} has a negative length ({length})"));
        }
    }
    Ok(())
}

/// The name and type of each child array `dt` has in the C data interface.
pub(super) fn children_of(dt: &DataType) -> Vec<(&str, &DataType)> {
    match dt {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::Map(f, _) => vec![(f.name().as_str(), f.data_type())],
        DataType::Struct(fields) => fields
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect(),
        DataType::Union(fields, _) => fields
            .iter()
            .map(|(_, f)| (f.name().as_str(), f.data_type()))
            .collect(),
        DataType::RunEndEncoded(run_ends, values) => vec![
            (run_ends.name().as_str(), run_ends.data_type()),
            (values.name().as_str(), values.data_type()),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, Int64Array, StringArray};
    use arrow_buffer::Buffer;
    use arrow_data::ArrayData;

    use super::*;

    fn check(array: &mut FFI_ArrowArray, dt: &DataType) -> Result<()> {
        check_array(array, dt, &mut ColumnPath::new("x"))
    }

    #[test]
    fn a_well_formed_export_passes() {
        let strings = StringArray::from(vec![Some("a"), None, Some("ccc")]);
        let mut array = FFI_ArrowArray::new(&strings.to_data());
        assert!(check(&mut array, &DataType::Utf8).is_ok());
    }

    #[test]
    fn schemas_arrow_rs_would_assert_on_are_refused_first() {
        let refused = |schema: FFI_ArrowSchema, why: &str| {
            let err = schema_field(&schema).expect_err(why);
            let message = err.to_string();
            // Refused by the check, not by a panic inside arrow-rs caught afterwards.
            assert!(!message.contains("assertion"), "{why}: {message}");
            message
        };
        for format in ["+l", "+L", "+vl", "+m", "+w:2", "+r"] {
            let schema = FFI_ArrowSchema::try_new(format, vec![], None).expect("a schema");
            let message = refused(schema, format);
            assert!(message.contains("child type"), "{format}: {message}");
        }
        let view_keys = FFI_ArrowSchema::try_new(
            "vu",
            vec![],
            Some(FFI_ArrowSchema::try_new("n", vec![], None).expect("a schema")),
        )
        .expect("a schema");
        let message = refused(view_keys, "a dictionary indexed by strings");
        assert!(message.contains("dictionary index"), "{message}");
    }

    #[test]
    fn a_schema_array_mismatch_is_a_capsule_error() {
        let ints = Int64Array::from(vec![1, 2]);
        let mut array = FFI_ArrowArray::new(&ints.to_data());
        let err = check(&mut array, &DataType::Utf8).expect_err("int64 buffers for a string");
        assert!(matches!(err, Error::Capsule(m) if m.contains("2 buffers where the type has 3")));
        let mut array = FFI_ArrowArray::new(&ints.to_data());
        array.length = -1;
        let err = check(&mut array, &DataType::Int64).expect_err("negative length");
        assert!(matches!(err, Error::Capsule(m) if m.contains("negative length")));
    }

    #[test]
    fn a_null_count_that_lies_is_invalid_input() {
        let ints = Int64Array::from(vec![Some(1), None, Some(3)]);
        let mut array = FFI_ArrowArray::new(&ints.to_data());
        array.null_count = 0;
        let err = check(&mut array, &DataType::Int64).expect_err("count 0 with one null");
        assert!(matches!(err, Error::InvalidInput(m)
            if m.contains("column 'x'") && m.contains("validity bitmap has 1 nulls")));
    }

    #[test]
    fn a_negative_last_string_offset_is_invalid_input() {
        // arrow-rs would size the data buffer from the last offset read as unsigned: 2^64 - 1.
        let offsets = Buffer::from_slice_ref([0i32, 2, -1]);
        let data = Buffer::from_slice_ref(b"ab");
        // SAFETY: deliberately invalid, only exported and checked, never read as an array.
        let data = unsafe {
            ArrayData::builder(DataType::Utf8)
                .len(2)
                .add_buffer(offsets)
                .add_buffer(data)
                .build_unchecked()
        };
        let mut array = FFI_ArrowArray::new(&data);
        let err = check(&mut array, &DataType::Utf8).expect_err("last offset -1");
        assert!(matches!(err, Error::InvalidInput(m) if m.contains("offsets run from 0 to -1")));
    }
}
