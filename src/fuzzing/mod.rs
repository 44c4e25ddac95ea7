//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, `--features fuzzing`) and for
//! replaying what they found (`fuzz/regressions/`, by `cargo test`).
//!
//! colbridge catches the parquet crate's panics at its boundary and reports them as errors, so
//! a panic is not what marks a bug here: the targets install [`abort_on_own_panics`], which
//! aborts on a panic raised in colbridge's own code (a bug: the code promises to check what it
//! indexes) and lets the parquet crate's be caught as they are in production. Memory errors
//! are what AddressSanitizer reports; allocations the input alone decides are what libFuzzer's
//! malloc limit reports.

use std::sync::Arc;

use arrow_array::ffi::FFI_ArrowArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::Buffer;
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Fields, Schema};

mod c_structs;

/// Abort (so that the fuzzer records the input) when a panic comes from colbridge's own
/// sources; leave other panics to the guards that catch them.
pub fn abort_on_own_panics() {
    // The hook before ours is libFuzzer's, which aborts on every panic: call it only for ours,
    // and stay silent for the panics colbridge's guards catch and report as errors.
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Built here, the paths are relative; built as the fuzz crate's path dependency, absolute.
        let own = |file: &str| {
            file.starts_with("src/")
                || file.starts_with(concat!(env!("CARGO_MANIFEST_DIR"), "/src/"))
        };
        if info.location().is_some_and(|l| own(l.file())) {
            default(info);
            std::process::abort();
        }
    }));
}

/// A Parquet footer, or a page header.
pub fn footer(data: &[u8]) {
    crate::parquet::fuzz::footer(data);
}

/// An Arrow IPC file or stream, read with full validation.
pub fn ipc(data: &[u8]) {
    crate::ipc::fuzz_read(data);
}

/// A Parquet file: the first byte picks the reader's settings, the rest is the file.
pub fn read(data: &[u8]) {
    if let Some((&options, file)) = data.split_first() {
        crate::parquet::fuzz::read(options, file);
    }
}

/// `ArrowSchema` and `ArrowArray` structures built field by field from `data`, imported as a
/// foreign producer's capsules are (see `c_structs`).
pub fn c_structs(data: &[u8]) {
    c_structs::c_structs(data);
}

/// An Arrow array built from `data` with buffers of the sizes its type and length imply (what
/// the C data interface requires of a producer) but contents as they come — offsets, views,
/// dictionary keys, UTF-8, null counts, child lengths —, exported through the C data interface
/// and imported back as from a foreign producer: either refused or safe to use whole (cast to
/// strings and written to Parquet).
pub fn import(data: &[u8]) {
    let mut input = Input { data, pos: 0 };
    let Some(array) = arbitrary_array(&mut input, 0) else {
        return;
    };
    let field = Field::new("c", array.data_type().clone(), true);
    let exported = FFI_ArrowArray::new(&array);
    match crate::ffi::import_checked(exported, &field, true) {
        Ok(imported) => use_whole(imported),
        Err(e) => {
            let message = e.to_string();
            // Accepted by the checks, refused by arrow-rs: the checks missed something.
            assert!(
                !message.contains(crate::ffi::MAKE_ARRAY_FAILED),
                "{message}"
            );
        }
    }
}

fn use_whole(array: ArrayRef) {
    // What colbridge's own users do with an import passes through its guards (a panic inside
    // arrow-rs becomes an error); here arrow-rs is called directly, so its panics are caught the
    // same way (the CI run found arrow-rs' Parquet writer panicking on dictionary<utf8_view>).
    // colbridge's own panics still abort through `abort_on_own_panics`.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| use_whole_unguarded(array)));
}

fn use_whole_unguarded(array: ArrayRef) {
    let _ = arrow_cast::cast(&array, &DataType::Utf8);
    let schema = Arc::new(Schema::new(vec![Field::new(
        "c",
        array.data_type().clone(),
        true,
    )]));
    if let Ok(batch) = RecordBatch::try_new(schema.clone(), vec![array]) {
        if let Ok(mut writer) = parquet::arrow::ArrowWriter::try_new(Vec::new(), schema, None) {
            let _ = writer.write(&batch);
            let _ = writer.close();
        }
    }
}

/// Fuzz bytes, read as small numbers; zeros once they run out.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    fn i32(&mut self) -> i32 {
        i32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// Offsets for `n` values: `n + 1` of them, any order and sign, all at most `cap`; the last is
/// what the C data interface sizes the values by.
fn offsets(input: &mut Input<'_>, n: usize, cap: i32) -> Vec<i32> {
    (0..=n)
        .map(|_| {
            let v = input.i32();
            if v < 0 {
                v % (cap + 1) - i32::from(input.byte() % 2)
            } else {
                v % (cap + 1)
            }
        })
        .collect()
}

fn arbitrary_array(input: &mut Input<'_>, depth: usize) -> Option<ArrayData> {
    let kind = input.byte() % if depth < 3 { 11 } else { 6 };
    let len = usize::from(input.byte() % 40);
    let offset = usize::from(input.byte() % 5);
    let slots = len + offset;
    let validity = (input.byte() % 2 == 1).then(|| Buffer::from(input.bytes(slots.div_ceil(8))));
    let null_count = validity.as_ref().map(|v| {
        let counted = (offset..slots)
            .filter(|&i| v.as_slice()[i / 8] & (1 << (i % 8)) == 0)
            .count();
        // Sometimes the count a producer states is not the bitmap's.
        if input.byte().is_multiple_of(7) {
            counted.saturating_sub(1)
        } else {
            counted
        }
    });
    let fixed = |input: &mut Input<'_>, dt: DataType, width: usize| {
        (dt, vec![Buffer::from(input.bytes(slots * width))], vec![])
    };
    let (data_type, buffers, children): (DataType, Vec<Buffer>, Vec<ArrayData>) = match kind {
        0 => fixed(input, DataType::Int32, 4),
        1 => fixed(input, DataType::Int64, 8),
        2 => (
            DataType::Boolean,
            vec![Buffer::from(input.bytes(slots.div_ceil(8)))],
            vec![],
        ),
        3 => fixed(input, DataType::Decimal128(4, 2), 16),
        4 | 5 => {
            let offsets = offsets(input, slots, 64);
            // Values for the largest offset: the array may be used with a shorter length (a
            // dictionary's values), and the C data interface sizes the values by the offset at
            // the end of the length used; a shorter buffer would be the producer's lie, which no
            // consumer can detect (the interface carries no buffer sizes).
            let largest = offsets.iter().copied().max().unwrap_or(0);
            let size = usize::try_from(largest).unwrap_or(0);
            let values = input.bytes(size);
            let dt = if kind == 4 {
                DataType::Utf8
            } else {
                DataType::Binary
            };
            (
                dt,
                vec![Buffer::from_vec(offsets), Buffer::from(values)],
                vec![],
            )
        }
        6 => {
            let views = input.bytes(slots * 16);
            let n = usize::from(input.byte() % 3);
            let mut buffers = vec![Buffer::from(views)];
            for _ in 0..n {
                let size = usize::from(input.byte() % 64);
                buffers.push(Buffer::from(input.bytes(size)));
            }
            (DataType::Utf8View, buffers, vec![])
        }
        7 => {
            let offsets = offsets(input, slots, 48);
            let child_len = usize::try_from(*offsets.last()?).unwrap_or(0);
            let child = arbitrary_child(input, depth, child_len)?;
            let dt = DataType::List(Arc::new(Field::new(
                "item",
                child.data_type().clone(),
                true,
            )));
            (dt, vec![Buffer::from_vec(offsets)], vec![child])
        }
        8 => {
            // A child may be shorter than the struct: the consumer must notice.
            let short = usize::from(input.byte() % 3);
            let a = arbitrary_child(input, depth, slots.saturating_sub(short))?;
            let b = arbitrary_child(input, depth, slots)?;
            let fields = Fields::from(vec![
                Field::new("a", a.data_type().clone(), true),
                Field::new("b", b.data_type().clone(), true),
            ]);
            (DataType::Struct(fields), vec![], vec![a, b])
        }
        9 => {
            let size = usize::from(input.byte() % 8);
            let dictionary = arbitrary_child(input, depth, size)?;
            let keys = input.bytes(slots);
            let dt = DataType::Dictionary(
                Box::new(DataType::Int8),
                Box::new(dictionary.data_type().clone()),
            );
            (dt, vec![Buffer::from(keys)], vec![dictionary])
        }
        _ => {
            let child = arbitrary_child(input, depth, slots * 2)?;
            let dt = DataType::FixedSizeList(
                Arc::new(Field::new("item", child.data_type().clone(), true)),
                2,
            );
            (dt, vec![], vec![child])
        }
    };
    let builder = ArrayData::builder(data_type)
        .len(len)
        .offset(offset)
        .null_count(null_count.unwrap_or(0))
        .null_bit_buffer(validity)
        .buffers(buffers)
        .child_data(children);
    // SAFETY: every buffer has the size the type, length and offset imply (the last offset for
    // variable-size values), which is all the C data interface lets a consumer assume; the
    // contents are arbitrary on purpose: the import must find what is wrong in them.
    Some(unsafe { builder.build_unchecked() })
}

/// A child array of exactly `len` slots (its own offset 0).
fn arbitrary_child(input: &mut Input<'_>, depth: usize, len: usize) -> Option<ArrayData> {
    let child = arbitrary_array(input, depth + 1)?;
    if child.offset() == 0 && slices_to(&child, len) {
        return Some(child.slice(0, len));
    }
    // Rebuild at the wanted length: fixed-width children only, filled from the input.
    let bytes = input.bytes(len * 4);
    let data = ArrayData::builder(DataType::Int32)
        .len(len)
        .buffers(vec![Buffer::from(bytes)]);
    // SAFETY: `len` int32 values in a buffer of `len * 4` bytes; no validity.
    Some(unsafe { data.build_unchecked() })
}

/// Whether `data.slice(0, len)` holds: arrow-rs slices a struct's children too, and the
/// generator makes structs with children too short on purpose (for the import's checks).
fn slices_to(data: &ArrayData, len: usize) -> bool {
    data.len() >= len
        && (!matches!(data.data_type(), DataType::Struct(_))
            || data.child_data().iter().all(|c| slices_to(c, len)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every input the fuzzers found (`fuzz/regressions/<target>/`) still reads or fails
    /// cleanly.
    #[test]
    fn fuzz_regressions_replay_cleanly() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join("regressions");
        type Target = fn(&[u8]);
        let targets: [(&str, Target); 5] = [
            ("footer", super::footer),
            ("c_structs", super::c_structs),
            ("read", super::read),
            ("import", super::import),
            ("ipc", super::ipc),
        ];
        for (target, run) in targets {
            let folder = root.join(target);
            let entries = std::fs::read_dir(&folder).expect("a regressions folder per target");
            let mut replayed = 0;
            for entry in entries {
                let path = entry.expect("a listable folder").path();
                let data = std::fs::read(&path).expect("readable regression file");
                run(&data);
                replayed += 1;
            }
            assert!(replayed > 0, "no regressions kept in {}", folder.display());
        }
    }
}
