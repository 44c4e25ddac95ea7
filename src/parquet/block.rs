//! One 2-D block for models (`read_numpy`): the selected numeric columns decoded into a single
//! buffer of rows × columns values, one column after another (a Fortran-order array, each column
//! a contiguous slice of it). A column whose stored values already have the block's type (DOUBLE
//! into float64, FLOAT into float32, INT64 into int64, INT32 into int32) is decoded straight into
//! its slice by colbridge's decoder, each value written once; a narrower number is decoded into
//! the tail of its slice and widened in place; any other numeric column (booleans, a layout only
//! arrow-rs decodes) is decoded on its own, converted into its slice a chunk at a time and freed,
//! so the peak stays near the block plus one column.

use std::mem::{size_of, MaybeUninit};
use std::sync::Arc;

use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray};
use arrow_buffer::{Buffer, NullBuffer};
use arrow_cast::CastOptions;
use arrow_schema::{DataType, Field};
use num_traits::{NumCast, ToPrimitive};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, RowSelection};

use crate::datatype::type_name;
use crate::error::{Error, Result};
use crate::parquet::decode;
use crate::parquet::parallel::{self, context, guarded};
use crate::parquet::plan::Plan;
use crate::parquet::read::{run, Job, ReadOptions};
use crate::parquet::source::Source;
use crate::progress::Progress;

/// The block's value type, as NumPy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockType {
    Float64,
    Float32,
    Int64,
    Int32,
}

impl BlockType {
    pub(crate) fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "float64" | "f8" | "double" => Self::Float64,
            "float32" | "f4" | "single" => Self::Float32,
            "int64" | "i8" => Self::Int64,
            "int32" | "i4" => Self::Int32,
            other => {
                return Err(Error::InvalidInput(format!(
                    "dtype='{other}' is not a block type: use 'float64', 'float32', 'int64' or \
                     'int32'"
                )))
            }
        })
    }

    fn is_float(self) -> bool {
        matches!(self, Self::Float64 | Self::Float32)
    }
}

/// NumPy's name of a block's type.
fn numpy_name(dt: &DataType) -> &'static str {
    match dt {
        DataType::Float64 => "float64",
        DataType::Float32 => "float32",
        DataType::Int64 => "int64",
        _ => "int32",
    }
}

/// What the block does with a null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockNulls {
    /// NaN (float blocks only).
    Nan,
    /// An `InvalidInput` error naming the column.
    Raise,
}

/// The decoded block: `values` holds `rows` values of each of `names`' columns in turn, no nulls.
pub(crate) struct Block {
    pub(crate) values: ArrayRef,
    pub(crate) names: Vec<String>,
    pub(crate) rows: usize,
}

/// Read the columns `options` select into one block of `dtype`.
pub(crate) fn read_block(
    source: &Source,
    meta: &ArrowReaderMetadata,
    options: &ReadOptions,
    progress: &Arc<Progress>,
    dtype: BlockType,
    nulls: BlockNulls,
) -> Result<Block> {
    if nulls == BlockNulls::Nan && !dtype.is_float() {
        return Err(Error::InvalidInput(
            "nulls='nan' needs a float dtype: an integer block has no NaN (pass nulls='raise')"
                .into(),
        ));
    }
    run(source, meta, options, progress, |job, plan| match dtype {
        BlockType::Float64 => decode::<Float64Type>(job, &plan, nulls, f64::NAN),
        BlockType::Float32 => decode::<Float32Type>(job, &plan, nulls, f32::NAN),
        BlockType::Int64 => decode::<Int64Type>(job, &plan, nulls, 0),
        BlockType::Int32 => decode::<Int32Type>(job, &plan, nulls, 0),
    })
}

/// Whether a column of `field`'s type goes into a block of `T`: numbers and booleans, and only
/// integers and booleans into an integer block (a float would be truncated).
fn check_column<T: ArrowPrimitiveType>(field: &Field, what: &str) -> Result<()> {
    let dt = field.data_type();
    let integer_block = !matches!(T::DATA_TYPE, DataType::Float32 | DataType::Float64);
    let fits = dt.is_integer()
        || matches!(dt, DataType::Boolean)
        || (!integer_block
            && matches!(
                dt,
                DataType::Float16 | DataType::Float32 | DataType::Float64
            ));
    if fits {
        return Ok(());
    }
    Err(Error::UnsupportedType(format!(
        "{what} is {}: {} block takes {} columns only",
        type_name(dt),
        if integer_block { "an int" } else { "a float" },
        if integer_block {
            "integer and boolean"
        } else {
            "numeric and boolean"
        },
    )))
}

fn decode<T: ArrowPrimitiveType>(
    job: &Job<'_>,
    plan: &Plan,
    nulls: BlockNulls,
    nan: T::Native,
) -> Result<Block>
where
    T::Native: NumCast,
{
    let file = job.source.describe();
    let schema = job.meta.schema();
    let what = |root: usize| format!("{file}, column '{}'", schema.field(root).name());
    for &root in &plan.roots {
        check_column::<T>(schema.field(root), &what(root))?;
    }
    let rows = plan.rows;
    let width = std::mem::size_of::<T::Native>();
    let total = rows.checked_mul(plan.roots.len());
    let bytes = total.and_then(|t| t.checked_mul(width));
    let (Some(total), Some(bytes)) = (total, bytes) else {
        return Err(Error::Limit(format!(
            "{file}: {rows} rows of {} columns do not fit in memory",
            plan.roots.len()
        )));
    };
    // The footer's row counts size the block: each column's pages must hold them.
    for &root in &plan.roots {
        job.check_claims(root, &plan.rgs, &what(root))?;
    }
    job.limits.check_decoded(bytes as u64)?;
    let mut values: Vec<T::Native> = Vec::new();
    values.try_reserve_exact(total).map_err(|_| {
        Error::Limit(format!(
            "{file}: cannot allocate {bytes} bytes for {rows} rows × {} columns",
            plan.roots.len()
        ))
    })?;
    let space = &mut values.spare_capacity_mut()[..total];
    crate::alloc::prefer_huge_pages(space);
    let slices: Vec<(usize, &mut [MaybeUninit<T::Native>])> = match rows {
        // `chunks_exact_mut` takes no chunks of 0 values.
        0 => plan.roots.iter().map(|&root| (root, &mut [][..])).collect(),
        _ => plan
            .roots
            .iter()
            .copied()
            .zip(space.chunks_exact_mut(rows))
            .collect(),
    };
    // A task per column, each on its own slice; a column decodes its row groups on up to as
    // many threads again.
    parallel::map(
        slices,
        job.threads,
        Some(&job.progress.cancel),
        |(root, slice)| {
            let what = what(root);
            fill_column::<T>(job, plan, root, slice, nulls, nan, &what)
        },
    )?;
    // SAFETY: every task returned `Ok` (`parallel::map` fails otherwise), and a task's `Ok`
    // means each value of its slice was written; the slices tile the first `total` values, and
    // any bit pattern is a valid `T::Native` (a primitive integer or float).
    unsafe { values.set_len(total) };
    let array: PrimitiveArray<T> = PrimitiveArray::new(Buffer::from_vec(values).into(), None);
    let names = plan
        .roots
        .iter()
        .map(|&root| schema.field(root).name().clone())
        .collect();
    Ok(Block {
        values: Arc::new(array),
        names,
        rows,
    })
}

/// Write column `root`'s `plan.rows` values into `slice`, every one of them on `Ok`: decoded into
/// it by `decode_widened` where it can, else decoded on their own and converted into it a chunk at
/// a time.
fn fill_column<T: ArrowPrimitiveType>(
    job: &Job<'_>,
    plan: &Plan,
    root: usize,
    slice: &mut [MaybeUninit<T::Native>],
    nulls: BlockNulls,
    nan: T::Native,
    what: &str,
) -> Result<()>
where
    T::Native: NumCast,
{
    let decoded = decode_widened::<T>(job, &Rows::of(plan), root, slice, what)?;
    if let Some(validity) = decoded {
        // SAFETY: `decode_into` answered `Some`: it wrote every value of `slice`.
        let written = unsafe { assume_written(slice) };
        return fill_nulls(written, validity.as_ref(), nulls, nan, what);
    }
    // Decoded on its own (another type, or a column colbridge's decoder leaves to arrow-rs),
    // converted into the slice a chunk at a time (so no second whole column), then freed.
    let array = job.decode_column(root, &plan.rgs, &plan.selection, plan.rows, what)?;
    if array.len() != slice.len() {
        return Err(Error::Corrupt(format!(
            "{what}: {} values where the read has {} rows",
            array.len(),
            slice.len()
        )));
    }
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    for (k, part) in slice.chunks_mut(CAST_CHUNK).enumerate() {
        let source = array.slice(k * CAST_CHUNK, part.len());
        let cast =
            arrow_cast::cast_with_options(&source, &T::DATA_TYPE, &options).map_err(|e| {
                Error::InvalidInput(format!(
                    "{what} ({}) does not fit the {} block: {e}",
                    type_name(array.data_type()),
                    numpy_name(&T::DATA_TYPE)
                ))
            })?;
        let cast = cast
            .as_any()
            .downcast_ref::<PrimitiveArray<T>>()
            .ok_or_else(|| Error::Arrow(format!("{what}: the cast gave another type")))?;
        for (slot, value) in part.iter_mut().zip(cast.values().iter()) {
            slot.write(*value);
        }
    }
    // SAFETY: the chunks above tile `slice`, and each chunk's loop wrote each of its values
    // (a cast keeps the length).
    let written = unsafe { assume_written(slice) };
    fill_nulls(written, array.nulls(), nulls, nan, what)
}

/// The rows a read decodes of each column: its row groups, the filter's selection of their rows,
/// and how many rows that makes.
pub(super) struct Rows<'a> {
    pub(super) rgs: &'a [usize],
    pub(super) selection: &'a Option<RowSelection>,
    pub(super) count: usize,
}

impl<'a> Rows<'a> {
    fn of(plan: &'a Plan) -> Self {
        Rows {
            rgs: &plan.rgs,
            selection: &plan.selection,
            count: plan.rows,
        }
    }
}

/// How an INT32 holding an 8- or 16-bit integer of type `narrow` is read (`as`, wrapping, as
/// pyarrow and arrow-rs read an out-of-range value); `None` for other types.
fn narrowing(narrow: &DataType) -> Option<fn(i32) -> i32> {
    match narrow {
        DataType::Int8 => Some(|v| <i32 as From<i8>>::from(v as i8)),
        DataType::Int16 => Some(|v| <i32 as From<i16>>::from(v as i16)),
        DataType::UInt8 => Some(|v| <i32 as From<u8>>::from(v as u8)),
        DataType::UInt16 => Some(|v| <i32 as From<u16>>::from(v as u16)),
        _ => None,
    }
}

/// An integer column with nulls as pandas' default backend gives it: float64 with NaN, decoded
/// (as the INT32 or INT64 it is stored as) into its float64 buffer and converted in place (one
/// copy, where a conversion after decoding needs the integer column and a new float64 one, or a
/// mask as large as the column). `None` where colbridge's decoder does not take the column.
pub(super) fn ints_with_nulls_as_floats(
    job: &Job<'_>,
    rows: &Rows<'_>,
    root: usize,
    what: &str,
) -> Result<Option<ArrayRef>> {
    let n = rows.count;
    let mut values: Vec<f64> = Vec::new();
    if values.try_reserve_exact(n).is_err() {
        return Ok(None);
    }
    let space = &mut values.spare_capacity_mut()[..n];
    crate::alloc::prefer_huge_pages(space);
    let decoded = decode_widened::<Float64Type>(job, rows, root, space, what)?;
    let Some(validity) = decoded else {
        return Ok(None);
    };
    if validity.as_ref().is_none_or(|v| v.null_count() == 0) {
        // The statistics said nulls and the pages hold none (a writer's mistake or a damaged
        // footer): pandas keeps such a column integer, so the caller decodes it as integers.
        return Ok(None);
    }
    // SAFETY: `decode_into` answered `Some`: it wrote all `n` values.
    let written = unsafe { assume_written(space) };
    fill_nulls(written, validity.as_ref(), BlockNulls::Nan, f64::NAN, what)?;
    // SAFETY: the `n` values were written (above).
    unsafe { values.set_len(n) };
    let array = PrimitiveArray::<Float64Type>::new(Buffer::from_vec(values).into(), validity);
    Ok(Some(Arc::new(array)))
}

/// Decode column `root` into `slice` as `T` where colbridge's decoder takes it and its stored
/// values are `T`'s or narrower numbers (`decode_into`): straight in where they are `T`'s, else
/// widened in place (int64 into float64; int32, uint32 and the 8/16-bit integers stored as INT32
/// into float64, int64 or float32; float32 into float64). The validity, or `None` for the other
/// columns.
fn decode_widened<T: ArrowPrimitiveType>(
    job: &Job<'_>,
    rows: &Rows<'_>,
    root: usize,
    slice: &mut [MaybeUninit<T::Native>],
    what: &str,
) -> Result<Option<Option<NullBuffer>>>
where
    T::Native: NumCast,
{
    let stored = job.meta.schema().field(root).data_type();
    Ok(match (stored, T::DATA_TYPE) {
        (s, t) if *s == t => decode_into::<T, T>(job, rows, root, slice, None, what)?,
        (DataType::Int64, DataType::Float64) => {
            decode_into::<Int64Type, T>(job, rows, root, slice, None, what)?
        }
        (DataType::UInt64, DataType::Float64) => {
            decode_into::<UInt64Type, T>(job, rows, root, slice, None, what)?
        }
        (DataType::Int32, DataType::Float64 | DataType::Int64 | DataType::Float32) => {
            decode_into::<Int32Type, T>(job, rows, root, slice, None, what)?
        }
        (DataType::UInt32, DataType::Float64 | DataType::Int64) => {
            decode_into::<UInt32Type, T>(job, rows, root, slice, None, what)?
        }
        (narrow @ (DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16), _) => {
            let wrap = narrowing(narrow);
            decode_into::<Int32Type, T>(job, rows, root, slice, wrap, what)?
        }
        (DataType::Float32, DataType::Float64) => {
            decode_into::<Float32Type, T>(job, rows, root, slice, None, what)?
        }
        _ => None,
    })
}

/// Rows converted at a time by the fallback of `fill_column`.
const CAST_CHUNK: usize = 1 << 16;

/// Decode column `root`, whose stored values are `S`'s bits (no wider than `T`'s), into `slice`
/// and widen them to `T` in place (after `wrap`, which narrows an INT32 holding an 8- or 16-bit
/// integer as pyarrow and arrow-rs read it: an out-of-range value wraps); the validity, or `None`
/// where colbridge's decoder does not take the column (`slice` is then left for the fallback).
fn decode_into<S: ArrowPrimitiveType, T: ArrowPrimitiveType>(
    job: &Job<'_>,
    rows: &Rows<'_>,
    root: usize,
    slice: &mut [MaybeUninit<T::Native>],
    wrap: Option<fn(S::Native) -> S::Native>,
    what: &str,
) -> Result<Option<Option<NullBuffer>>>
where
    S::Native: ToPrimitive,
    T::Native: NumCast,
{
    let (source_width, width) = (size_of::<S::Native>(), size_of::<T::Native>());
    if source_width > width || width % source_width != 0 {
        return Ok(None);
    }
    let Some(column) = decode::Column::plan(
        job.meta.metadata(),
        root,
        rows.rgs,
        rows.count,
        job.threads,
        rows.selection.as_ref(),
        job.limits,
    ) else {
        return Ok(None);
    };
    let files = decode::Files {
        open: &|| job.source.open_with(Some(job.progress.clone())),
        again: &|| {},
    };
    let rows = slice.len();
    let target = slice.as_mut_ptr();
    // The source values take the last `rows * source_width` bytes of the slice: value i of the
    // source lies at or after value i of the target, so converting front to back reads each
    // source value before its bytes are overwritten.
    // SAFETY: the slice holds `rows * width` bytes; the source region starts `rows * (width -
    // source_width)` bytes in (a multiple of `source_width`, so aligned for `S::Native`, the
    // slice being aligned for the wider `T::Native`) and holds exactly `rows` values of `S`.
    let source: &mut [MaybeUninit<S::Native>] = unsafe {
        let start = target
            .cast::<u8>()
            .add(rows * (width - source_width))
            .cast::<MaybeUninit<S::Native>>();
        std::slice::from_raw_parts_mut(start, rows)
    };
    let decoded =
        guarded(what, || decode::read_into::<S>(&column, &files, source)).map_err(context(what))?;
    let Some(validity) = decoded else {
        return Ok(None);
    };
    if source_width == width && S::DATA_TYPE == T::DATA_TYPE && wrap.is_none() {
        return Ok(Some(validity));
    }
    let source = source.as_ptr().cast::<S::Native>();
    for i in 0..rows {
        // SAFETY: `read_into` wrote all `rows` source values; value i is read before target
        // value i is written, and target value i ends at or before source value i + 1 begins
        // (`(i + 1) * width <= rows * (width - source_width) + (i + 1) * source_width`), so no
        // source value is overwritten before it is read. Raw pointers only: no reference to
        // the slice is alive meanwhile.
        unsafe {
            let stored = source.add(i).read();
            let value = wrap.map_or(stored, |wrap| wrap(stored));
            let widened = <T::Native as NumCast>::from(value).ok_or_else(|| {
                Error::InvalidInput(format!("{what}: a value does not fit the block's type"))
            })?;
            target.add(i).cast::<T::Native>().write(widened);
        }
    }
    Ok(Some(validity))
}

/// # Safety
/// Every value of `slice` must have been written.
unsafe fn assume_written<N>(slice: &mut [MaybeUninit<N>]) -> &mut [N] {
    // SAFETY: `MaybeUninit<N>` has `N`'s layout, and the caller vouches that each value is
    // initialised.
    unsafe { &mut *(std::ptr::from_mut(slice) as *mut [N]) }
}

/// Nulls become `nan`, or an error naming the column.
fn fill_nulls<N: Copy>(
    values: &mut [N],
    validity: Option<&NullBuffer>,
    nulls: BlockNulls,
    nan: N,
    what: &str,
) -> Result<()> {
    let Some(validity) = validity.filter(|v| v.null_count() > 0) else {
        return Ok(());
    };
    if nulls == BlockNulls::Raise {
        return Err(Error::InvalidInput(format!(
            "{what} has {} nulls, which the block does not take (nulls='raise')",
            validity.null_count()
        )));
    }
    for (value, valid) in values.iter_mut().zip(validity.iter()) {
        if !valid {
            *value = nan;
        }
    }
    Ok(())
}
