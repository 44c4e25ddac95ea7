//! The `c_structs` fuzz target: `ArrowSchema` and `ArrowArray` structures as a foreign producer
//! might hand them over, built field by field from fuzz bytes — format strings (well-formed,
//! truncated or nonsense), names, flags, `n_children`, `n_buffers`, NULL pointers, lengths,
//! offsets, null counts, dictionaries, released structures, children that disagree with their
//! schema — and imported exactly as `__arrow_c_array__`'s capsules are
//! (`ffi::import_pair`, with validation): either refused or safe to use whole.
//!
//! What the C data interface cannot tell a consumer is left true, as a correct producer keeps
//! it: every buffer is 64 KiB (more than any length and offset here need), and the numbers in
//! buffers are small (each word's low byte comes from the input), so an offset or a view points
//! inside its buffer unless the structures around it lie. Everything else may lie.

use std::ffi::{c_char, c_void, CString};
use std::ptr;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ArrayRef;

use super::{use_whole, Input};

/// Bytes in each buffer.
const BUFFER_BYTES: usize = 64 << 10;
/// Words of a buffer filled from the input (the rest stay zero).
const FILLED_WORDS: usize = 80;
/// Deepest nesting generated.
const MAX_DEPTH: usize = 3;

/// Format strings, well-formed and not (the C data interface's spelling); the input may also
/// spell its own (`raw_format`).
#[rustfmt::skip]
const FORMATS: &[&str] = &[
    "n", "b", "c", "C", "s", "S", "i", "I", "l", "L", "e", "f", "g", "z", "Z", "u", "U", "vz",
    "vu", "d:5,2", "d:38,3", "d:76,10,256", "d:9,2,32", "d:18,3,64", "d:0,0", "d:40,2", "w:4",
    "w:0", "w:16", "tdD", "tdm", "tts", "ttm", "ttu", "ttn", "tss:", "tsm:UTC", "tsu:",
    "tsn:+01:00", "tDs", "tDm", "tDu", "tDn", "tiM", "tiD", "tin", "+l", "+L", "+w:2", "+w:0",
    "+s", "+m", "+ud:0,1", "+us:0,1", "+ud:", "+us:5", "+vl", "+vL", "+r", "", "x", "t", "+",
    "d:", "w:", "+w:", "tsx:", "d:5,2,7",
];

/// Everything the structures point to, kept alive until the imported array is dropped. Boxed
/// one by one: the structures hold pointers to each other, which must not move as the lists grow.
#[derive(Default)]
struct Arena {
    strings: Vec<CString>,
    schemas: Vec<Box<[FFI_ArrowSchema]>>,
    schema_lists: Vec<Box<[*mut FFI_ArrowSchema]>>,
    arrays: Vec<Box<[FFI_ArrowArray]>>,
    array_lists: Vec<Box<[*mut FFI_ArrowArray]>>,
    buffers: Vec<Box<[u128]>>,
    buffer_lists: Vec<Box<[*const c_void]>>,
}

/// Run one input through the import.
pub(super) fn c_structs(data: &[u8]) {
    import(data, |imported| use_whole(imported.clone()));
}

/// Build the structures `data` describes, import them and hand what was accepted to `using`;
/// whether it was.
fn import(data: &[u8], using: impl FnOnce(&ArrayRef)) -> bool {
    let mut input = Input { data, pos: 0 };
    let mut arena = Arena::default();
    let (schema, plan) = schema(&mut input, &mut arena, 0);
    let array = array(&mut input, &mut arena, &plan);
    let accepted = match crate::ffi::import_pair(&schema, array, true) {
        Ok((_, imported)) => {
            using(&imported);
            true
        }
        Err(_) => false,
    };
    // The schema and the arena go after the imported array (dropped above), which may point
    // into them.
    drop(schema);
    drop(arena);
    accepted
}

/// What the array built for a schema node should hold (a producer may still disagree).
struct Plan {
    buffers: usize,
    /// Whether the offsets (buffer 1) are 64-bit.
    wide_offsets: bool,
    children: Vec<Plan>,
    dictionary: Option<Box<Plan>>,
}

unsafe extern "C" fn release_schema(schema: *mut FFI_ArrowSchema) {
    // SAFETY: called by the importer with a schema of ours; its memory stays in the arena.
    unsafe { (*schema).release = None };
}

unsafe extern "C" fn release_array(array: *mut FFI_ArrowArray) {
    // SAFETY: called by the importer with an array of ours; its memory stays in the arena.
    unsafe { (*array).release = None };
}

fn schema(input: &mut Input<'_>, arena: &mut Arena, depth: usize) -> (FFI_ArrowSchema, Plan) {
    let choice = input.byte();
    let format = if choice < 0xf0 {
        FORMATS[usize::from(choice) % FORMATS.len()]
            .as_bytes()
            .to_vec()
    } else {
        raw_format(input)
    };
    let plan_buffers = buffers_of(&format);
    let wide_offsets = matches!(format.as_slice(), b"U" | b"Z" | b"+L" | b"+vL");
    let format = arena.string(format);
    let name = match input.byte() % 8 {
        0 => ptr::null(),
        1 => arena.string(vec![0xff, 0xfe]),
        _ => arena.string(b"c".to_vec()),
    };
    let flags = i64::from(input.byte() % 8);
    let wanted = usize::from(input.byte() % 4);
    let wanted = if depth >= MAX_DEPTH { 0 } else { wanted };
    let mut children = Vec::new();
    let mut plans = Vec::new();
    for _ in 0..wanted {
        let (child, plan) = schema(input, arena, depth + 1);
        children.push(arena.schema(child));
        plans.push(plan);
    }
    let shape = input.byte();
    // A count that says more than there are children comes with a NULL pointer for the extra
    // one: the list is as long as the count says (a consumer has no way to see otherwise).
    let n_children = match shape % 16 {
        0 => -1,
        1 => {
            children.push(ptr::null_mut());
            children.len() as i64
        }
        _ => children.len() as i64,
    };
    let children_ptr = if children.is_empty() || shape % 16 == 2 {
        ptr::null_mut()
    } else {
        arena.schema_list(children)
    };
    let (dictionary, dictionary_plan) = if depth < MAX_DEPTH && shape & 0x30 == 0x30 {
        let (dictionary, plan) = schema(input, arena, depth + 1);
        (arena.schema(dictionary), Some(Box::new(plan)))
    } else {
        (ptr::null_mut(), None)
    };
    let released = depth == 0 && shape == 0xff;
    let schema = FFI_ArrowSchema {
        format: if shape % 16 == 3 { ptr::null() } else { format },
        name,
        metadata: ptr::null(),
        flags,
        n_children,
        children: children_ptr,
        dictionary,
        release: (!released).then_some(release_schema as unsafe extern "C" fn(_)),
        private_data: ptr::null_mut(),
    };
    let plan = Plan {
        buffers: plan_buffers,
        wide_offsets,
        children: plans,
        dictionary: dictionary_plan,
    };
    (schema, plan)
}

/// A format the input spells: up to 4 bytes, no NUL, numbers of one digit below 4 (a fixed size
/// the 64 KiB buffers hold whatever the length).
fn raw_format(input: &mut Input<'_>) -> Vec<u8> {
    let n = usize::from(input.byte() % 5);
    (0..n)
        .map(|_| match input.byte() {
            0 => b'?',
            b if b.is_ascii_digit() => b'0' + (b - b'0') % 4,
            b => b,
        })
        .collect()
}

/// The buffers a format's arrays carry, validity included (views: with two data buffers).
fn buffers_of(format: &[u8]) -> usize {
    match format {
        b"n" | b"+r" => 0,
        b"+s" | b"+us:0,1" | b"+us:5" | b"+w:2" | b"+w:0" => 1,
        b"u" | b"U" | b"z" | b"Z" | b"+ud:0,1" | b"+ud:" => 3,
        b"vu" | b"vz" => 5,
        b"+vl" | b"+vL" => 3,
        _ => 2,
    }
}

fn array(input: &mut Input<'_>, arena: &mut Arena, plan: &Plan) -> FFI_ArrowArray {
    let length = i64::from(input.byte() % 65);
    let offset_byte = input.byte();
    let offset = match offset_byte {
        0xff => -1,
        0xfe => i64::MIN,
        b => i64::from(b % 65),
    };
    let null_count = match input.byte() {
        0xff => -1,
        b => i64::from(b % 66),
    };
    let shape = input.byte();
    let n_buffers = if shape.is_multiple_of(8) {
        usize::from(input.byte() % 6)
    } else {
        plan.buffers
    };
    let buffers: Vec<*const c_void> = (0..n_buffers)
        .map(|i| {
            let mode = input.byte();
            if mode.is_multiple_of(8) {
                return ptr::null();
            }
            // 64-bit offsets (and the sizes of view buffers, the last buffer) as 64-bit words.
            let wide = (plan.wide_offsets && i == 1) || mode % 8 == 1;
            arena.buffer(input, wide)
        })
        .collect();
    let mut children: Vec<*mut FFI_ArrowArray> = plan
        .children
        .iter()
        .map(|child| {
            let child = array(input, arena, child);
            arena.array(child)
        })
        .collect();
    let n_children = match shape % 16 {
        3 => {
            children.push(ptr::null_mut());
            children.len() as i64
        }
        5 => -1,
        _ => children.len() as i64,
    };
    let dictionary = match &plan.dictionary {
        Some(dictionary) if shape & 0x40 == 0 => {
            let dictionary = array(input, arena, dictionary);
            arena.array(dictionary)
        }
        _ => ptr::null_mut(),
    };
    let buffers_ptr = if buffers.is_empty() {
        ptr::null_mut()
    } else {
        arena.buffer_list(buffers)
    };
    let children_ptr = if children.is_empty() || shape % 16 == 7 {
        ptr::null_mut()
    } else {
        arena.array_list(children)
    };
    let released = shape == 0xff;
    FFI_ArrowArray {
        length,
        null_count,
        offset,
        n_buffers: n_buffers as i64,
        n_children,
        buffers: buffers_ptr,
        children: children_ptr,
        dictionary,
        release: (!released).then_some(release_array as unsafe extern "C" fn(_)),
        private_data: ptr::null_mut(),
    }
}

impl Arena {
    fn string(&mut self, mut bytes: Vec<u8>) -> *const c_char {
        bytes.retain(|&b| b != 0);
        let string = CString::new(bytes).unwrap_or_default();
        let pointer = string.as_ptr();
        self.strings.push(string);
        pointer
    }

    fn schema(&mut self, schema: FFI_ArrowSchema) -> *mut FFI_ArrowSchema {
        keep(&mut self.schemas, Box::new([schema]))
    }

    fn schema_list(&mut self, list: Vec<*mut FFI_ArrowSchema>) -> *mut *mut FFI_ArrowSchema {
        keep(&mut self.schema_lists, list.into_boxed_slice())
    }

    fn array(&mut self, array: FFI_ArrowArray) -> *mut FFI_ArrowArray {
        keep(&mut self.arrays, Box::new([array]))
    }

    fn array_list(&mut self, list: Vec<*mut FFI_ArrowArray>) -> *mut *mut FFI_ArrowArray {
        keep(&mut self.array_lists, list.into_boxed_slice())
    }

    fn buffer_list(&mut self, list: Vec<*const c_void>) -> *mut *const c_void {
        keep(&mut self.buffer_lists, list.into_boxed_slice())
    }

    /// A 64 KiB buffer (16-byte aligned) whose first words take their low byte from the input:
    /// 32-bit words, or 64-bit ones where `wide`.
    fn buffer(&mut self, input: &mut Input<'_>, wide: bool) -> *const c_void {
        let mut words = vec![0u128; BUFFER_BYTES / 16].into_boxed_slice();
        let step = if wide { 8 } else { 4 };
        {
            // SAFETY: the boxed slice is BUFFER_BYTES long, viewed as bytes while we fill it.
            let bytes = unsafe {
                std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), BUFFER_BYTES)
            };
            for word in bytes.chunks_exact_mut(step).take(FILLED_WORDS) {
                word[0] = input.byte();
            }
        }
        let pointer = words.as_ptr().cast::<c_void>();
        self.buffers.push(words);
        pointer
    }
}

/// Keep `items` in `store` (where they never move again) and point to the first.
fn keep<T>(store: &mut Vec<Box<[T]>>, mut items: Box<[T]>) -> *mut T {
    let pointer = items.as_mut_ptr();
    store.push(items);
    pointer
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;

    use super::import;

    /// An int32 array of 10 values (1..=10), no validity, as the input spells it.
    fn int32_input() -> Vec<u8> {
        // Schema: format "i", name "c", nullable, no children, plain shape.
        let mut data = vec![6, 2, 2, 0, 4];
        // Array: length 10, offset 0, null count 0, the buffers its type has: a NULL validity
        // bitmap, then values in 32-bit words.
        data.extend([10, 0, 0, 1, 8, 2]);
        data.extend(1..=10);
        data
    }

    #[test]
    fn the_input_spells_structures_the_import_accepts() {
        let mut values = None;
        let accepted = import(&int32_input(), |array| {
            values = Some(array.as_primitive::<Int32Type>().values().to_vec());
        });
        assert!(accepted);
        assert_eq!(values, Some((1..=10).collect::<Vec<i32>>()));
    }

    #[test]
    fn and_structures_it_refuses() {
        let mut released = int32_input();
        released[4] = 0xff;
        assert!(!import(&released, |_| ()), "a released schema");
        let mut null_format = int32_input();
        null_format[4] = 3;
        assert!(!import(&null_format, |_| ()), "a NULL format");
        let mut one_buffer = int32_input();
        one_buffer[8] = 0; // n_buffers from the next byte: 1 % 6
        assert!(!import(&one_buffer, |_| ()), "one buffer for a type of two");
        let mut negative_offset = int32_input();
        negative_offset[6] = 0xff;
        assert!(!import(&negative_offset, |_| ()), "a negative offset");
    }
}
