//! The Thrift compact protocol, in which Parquet encodes its footer and its page headers, read
//! with every count checked before it is trusted.
//!
//! A footer or a page header is the first thing a hostile file controls. Every length, count
//! and nesting level here is checked against the bytes that remain (each list element and each
//! struct takes at least one byte on the wire) before anything is sized from it, so a lie is a
//! clean error and never an allocation or a recursion that the input alone decides.

use std::fmt;

mod footer;
mod spec;

#[cfg(test)]
use self::footer::check_footer;
pub(crate) use self::footer::{fit_decimals, repair_footer, Overdeclared};

/// Deepest nesting of structs, lists and maps accepted (Parquet's own footer nests 6 deep; a
/// schema's groups are a flat list, not nested Thrift).
const MAX_DEPTH: usize = 64;

/// Why some Thrift bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, Malformed>;

fn malformed<T>(what: impl Into<String>) -> Result<T> {
    Err(Malformed(what.into()))
}

/// The wire types of the compact protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// A boolean field carries its value in its type nibble.
    Bool(bool),
    /// A boolean inside a list or map: one byte each.
    BoolElement,
    Byte,
    I16,
    I32,
    I64,
    Double,
    Binary,
    List,
    Set,
    Map,
    Struct,
    Uuid,
}

impl Type {
    /// The type's nibble in a field header.
    fn field_nibble(self) -> u8 {
        match self {
            Type::Bool(true) => 1,
            Type::Bool(false) | Type::BoolElement => 2,
            Type::Byte => 3,
            Type::I16 => 4,
            Type::I32 => 5,
            Type::I64 => 6,
            Type::Double => 7,
            Type::Binary => 8,
            Type::List => 9,
            Type::Set => 10,
            Type::Map => 11,
            Type::Struct => 12,
            Type::Uuid => 13,
        }
    }

    fn of_field(nibble: u8) -> Result<Type> {
        Ok(match nibble {
            1 => Type::Bool(true),
            2 => Type::Bool(false),
            other => Type::of_element(other)?,
        })
    }

    fn of_element(nibble: u8) -> Result<Type> {
        Ok(match nibble {
            1 | 2 => Type::BoolElement,
            3 => Type::Byte,
            4 => Type::I16,
            5 => Type::I32,
            6 => Type::I64,
            7 => Type::Double,
            8 => Type::Binary,
            9 => Type::List,
            10 => Type::Set,
            11 => Type::Map,
            12 => Type::Struct,
            13 => Type::Uuid,
            other => return malformed(format!("unknown Thrift type {other}")),
        })
    }
}

/// Reads compact-protocol values from a byte slice.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            depth: 0,
        }
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| Malformed("Thrift data ends early".into()))?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return malformed(format!(
                "a Thrift value claims {n} bytes where {} remain",
                self.remaining()
            ));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// An unsigned LEB128 varint.
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        malformed("a Thrift varint longer than 64 bits")
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        let n = self.varint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        i32::try_from(self.i64()?).or_else(|_| malformed("a Thrift i32 out of range"))
    }

    pub(crate) fn i16(&mut self) -> Result<i16> {
        i16::try_from(self.i64()?).or_else(|_| malformed("a Thrift i16 out of range"))
    }

    pub(crate) fn binary(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
        self.bytes(n)
    }

    /// The element type and count of a list or set; the count is at most the bytes left, as
    /// each element takes at least one.
    pub(crate) fn list_header(&mut self) -> Result<(Type, usize)> {
        let b = self.byte()?;
        let short = usize::from(b >> 4);
        let count = if short == 15 {
            usize::try_from(self.varint()?).unwrap_or(usize::MAX)
        } else {
            short
        };
        // An empty list's element type says nothing (some writers leave it 0).
        let element = match (count, b & 0x0f) {
            (0, 0) => Type::Byte,
            (_, nibble) => Type::of_element(nibble)?,
        };
        if count > self.remaining() {
            return malformed(format!(
                "a Thrift list claims {count} elements where {} bytes remain",
                self.remaining()
            ));
        }
        Ok((element, count))
    }

    /// The next field of a struct: `None` at its end. `last` is the previous field's id, which
    /// the compact protocol encodes ids relative to.
    pub(crate) fn field(&mut self, last: &mut i16) -> Result<Option<(i16, Type)>> {
        let b = self.byte()?;
        // A type of 0 ends the struct, whatever the delta (as the Thrift C++ library and the
        // parquet crate read it).
        if b & 0x0f == 0 {
            return Ok(None);
        }
        let delta = i16::from(b >> 4);
        let id = if delta == 0 {
            self.i16()?
        } else {
            last.checked_add(delta)
                .ok_or_else(|| Malformed("a Thrift field id overflows".into()))?
        };
        *last = id;
        Ok(Some((id, Type::of_field(b & 0x0f)?)))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return malformed(format!("Thrift values nested more than {MAX_DEPTH} deep"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Read each field of a struct with `on_field`, which returns `false` for fields it leaves
    /// to be skipped.
    pub(crate) fn read_struct(
        &mut self,
        mut on_field: impl FnMut(&mut Self, i16, Type) -> Result<bool>,
    ) -> Result<()> {
        self.enter()?;
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            if !on_field(self, id, ty)? {
                self.skip(ty)?;
            }
        }
        self.leave();
        Ok(())
    }

    /// Read each element of a list of `want` elements with `on_element`.
    pub(crate) fn read_list(
        &mut self,
        want: Type,
        mut on_element: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let (element, count) = self.list_header()?;
        if element != want && count > 0 {
            return malformed(format!(
                "a Thrift list of {element:?} where {want:?} was expected"
            ));
        }
        self.enter()?;
        for _ in 0..count {
            on_element(self)?;
        }
        self.leave();
        Ok(())
    }

    /// Step over a value of type `ty`.
    pub(crate) fn skip(&mut self, ty: Type) -> Result<()> {
        match ty {
            Type::Bool(_) => {}
            Type::BoolElement | Type::Byte => {
                self.byte()?;
            }
            Type::I16 | Type::I32 | Type::I64 => {
                self.varint()?;
            }
            Type::Double => {
                self.bytes(8)?;
            }
            Type::Uuid => {
                self.bytes(16)?;
            }
            Type::Binary => {
                self.binary()?;
            }
            Type::List | Type::Set => {
                let (element, count) = self.list_header()?;
                crate_steps_over(element, count)?;
                self.enter()?;
                for _ in 0..count {
                    self.skip(element)?;
                }
                self.leave();
            }
            Type::Map => {
                let count = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
                if count > 0 {
                    // Each entry takes at least two bytes.
                    if count > self.remaining() / 2 {
                        return malformed("a Thrift map claims more entries than bytes remain");
                    }
                    let types = self.byte()?;
                    let (key, value) = (
                        Type::of_element(types >> 4)?,
                        Type::of_element(types & 0x0f)?,
                    );
                    crate_steps_over(key, count)?;
                    crate_steps_over(value, count)?;
                    self.enter()?;
                    for _ in 0..count {
                        self.skip(key)?;
                        self.skip(value)?;
                    }
                    self.leave();
                }
            }
            Type::Struct => self.read_struct(|_, _, _| Ok(false))?,
        }
        Ok(())
    }

    /// An i32 field's value, refusing any other wire type.
    pub(crate) fn i32_field(&mut self, ty: Type, name: &str) -> Result<i32> {
        if ty != Type::I32 {
            return malformed(format!("{name} is a Thrift {ty:?}, not an i32"));
        }
        self.i32()
    }
}

/// Refuse `count` booleans in a list, set or map: each takes a byte on the wire, but the
/// parquet crate steps over them as if they took none, and would read the rest of a footer or
/// a page header out of step with `Reader` (a fuzzed footer hid a list of seven booleans in an
/// unknown field; the crate read on from inside it and reserved 20.9 GB of row groups). No
/// structure of parquet.thrift's footer or page headers holds one.
fn crate_steps_over(element: Type, count: usize) -> Result<()> {
    if element == Type::BoolElement && count > 0 {
        return malformed(format!(
            "a Thrift list or map of {count} booleans, which the parquet crate misreads"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Page headers

/// What a page holds (parquet.thrift `PageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageKind {
    Data,
    Index,
    Dictionary,
    DataV2,
}

/// A page header (parquet.thrift `PageHeader`), flattened: the fields of the data, dictionary
/// or v2 header that the page carries. Sizes and counts are checked non-negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageHeader {
    pub(crate) kind: PageKind,
    pub(crate) uncompressed_size: usize,
    pub(crate) compressed_size: usize,
    /// Values (slots, levels included) in the page; for a dictionary page, its entries.
    pub(crate) num_values: usize,
    /// The values' encoding (parquet.thrift `Encoding`).
    pub(crate) encoding: i32,
    /// v1 data pages: the encodings of the definition and repetition levels.
    pub(crate) def_level_encoding: i32,
    pub(crate) rep_level_encoding: i32,
    /// v2 data pages: rows, nulls, the byte lengths of the (never compressed) levels, and
    /// whether the values are compressed.
    pub(crate) num_rows: Option<usize>,
    pub(crate) num_nulls: Option<usize>,
    pub(crate) def_levels_len: usize,
    pub(crate) rep_levels_len: usize,
    pub(crate) is_compressed: bool,
}

fn count(value: i32, what: &str) -> Result<usize> {
    usize::try_from(value)
        .or_else(|_| malformed(format!("negative {what} ({value}) in a page header")))
}

/// Read a page header from the start of `data`: the header and its length in bytes. Every
/// field the parquet crate reads must have the wire type the format gives it (`spec`), as the
/// crate reads the same header from the file when arrow-rs decodes the column.
pub(crate) fn read_page_header(data: &[u8]) -> Result<(PageHeader, usize)> {
    Reader::new(data).check_struct(&spec::PAGE_HEADER)?;
    let mut r = Reader::new(data);
    let mut kind = None;
    let (mut uncompressed, mut compressed) = (None, None);
    let mut header = PageHeader {
        kind: PageKind::Data,
        uncompressed_size: 0,
        compressed_size: 0,
        num_values: 0,
        encoding: 0,
        def_level_encoding: 3,
        rep_level_encoding: 3,
        num_rows: None,
        num_nulls: None,
        def_levels_len: 0,
        rep_levels_len: 0,
        is_compressed: true,
    };
    let mut detail = false;
    r.read_struct(|r, id, ty| {
        match id {
            1 => {
                kind = Some(match r.i32_field(ty, "the page type")? {
                    0 => PageKind::Data,
                    1 => PageKind::Index,
                    2 => PageKind::Dictionary,
                    3 => PageKind::DataV2,
                    other => return malformed(format!("unknown page type {other}")),
                })
            }
            2 => {
                uncompressed = Some(count(
                    r.i32_field(ty, "uncompressed_page_size")?,
                    "page size",
                )?)
            }
            3 => {
                compressed = Some(count(
                    r.i32_field(ty, "compressed_page_size")?,
                    "page size",
                )?)
            }
            // 5: DataPageHeader, 7: DictionaryPageHeader, 8: DataPageHeaderV2.
            5 | 7 | 8 if ty == Type::Struct => {
                detail = true;
                read_page_detail(r, id, &mut header)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    header.kind = kind.ok_or_else(|| Malformed("a page header without a page type".into()))?;
    header.uncompressed_size =
        uncompressed.ok_or_else(|| Malformed("a page header without its size".into()))?;
    header.compressed_size =
        compressed.ok_or_else(|| Malformed("a page header without its compressed size".into()))?;
    if !detail && header.kind != PageKind::Index {
        return malformed(format!(
            "a {:?} page header without its details",
            header.kind
        ));
    }
    Ok((header, r.position()))
}

fn read_page_detail(r: &mut Reader<'_>, which: i16, h: &mut PageHeader) -> Result<()> {
    r.read_struct(|r, id, ty| {
        match (which, id) {
            (5 | 7 | 8, 1) => h.num_values = count(r.i32_field(ty, "num_values")?, "value count")?,
            (5 | 7, 2) | (8, 4) => h.encoding = r.i32_field(ty, "the encoding")?,
            (5, 3) => h.def_level_encoding = r.i32_field(ty, "the level encoding")?,
            (5, 4) => h.rep_level_encoding = r.i32_field(ty, "the level encoding")?,
            (8, 2) => h.num_nulls = Some(count(r.i32_field(ty, "num_nulls")?, "null count")?),
            (8, 3) => h.num_rows = Some(count(r.i32_field(ty, "num_rows")?, "row count")?),
            (8, 5) => h.def_levels_len = count(r.i32_field(ty, "the levels' length")?, "length")?,
            (8, 6) => h.rep_levels_len = count(r.i32_field(ty, "the levels' length")?, "length")?,
            (8, 7) => match ty {
                Type::Bool(b) => h.is_compressed = b,
                _ => return malformed("is_compressed is not a boolean"),
            },
            _ => return Ok(false),
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zigzag(v: i64) -> Vec<u8> {
        varint(((v << 1) ^ (v >> 63)) as u64)
    }

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    /// A field header (short form) followed by a zigzag i32 value.
    fn i32_field(delta: u8, v: i64) -> Vec<u8> {
        let mut out = vec![(delta << 4) | 5];
        out.extend(zigzag(v));
        out
    }

    fn data_page(values: i64, uncompressed: i64, compressed: i64) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend(i32_field(1, 0)); // type DATA_PAGE
        h.extend(i32_field(1, uncompressed));
        h.extend(i32_field(1, compressed));
        h.push((2 << 4) | 12); // field 5: DataPageHeader
        h.extend(i32_field(1, values));
        h.extend(i32_field(1, 0)); // PLAIN
        h.extend(i32_field(1, 3)); // RLE
        h.extend(i32_field(1, 3));
        h.push(0);
        h.push(0);
        h
    }

    #[test]
    fn a_data_page_header_reads_back() {
        let bytes = data_page(100, 800, 500);
        let (h, len) = read_page_header(&bytes).expect("header");
        assert_eq!(len, bytes.len());
        assert_eq!(h.kind, PageKind::Data);
        assert_eq!(
            (h.num_values, h.uncompressed_size, h.compressed_size),
            (100, 800, 500)
        );
        assert_eq!((h.encoding, h.def_level_encoding), (0, 3));
    }

    #[test]
    fn negative_sizes_and_truncations_are_refused() {
        assert!(read_page_header(&data_page(-1, 8, 8)).is_err());
        assert!(read_page_header(&data_page(1, -8, 8)).is_err());
        let bytes = data_page(1, 8, 8);
        for cut in 0..bytes.len() {
            assert!(read_page_header(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn lying_list_lengths_and_deep_nesting_are_refused_before_use() {
        // A list claiming 2^31 i32 elements in a 10-byte input.
        let mut r = Reader::new(&[0xf5, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 0]);
        assert!(r.skip(Type::List).is_err());
        // Structs nested 1000 deep: field 1 of each is a struct.
        let deep = [vec![(1 << 4) | 12; 1000], vec![0; 1000]].concat();
        let mut r = Reader::new(&deep);
        assert!(r.skip(Type::Struct).is_err());
    }

    /// A FileMetaData with just a schema (elements given by their num_children).
    fn footer(children: &[i64]) -> Vec<u8> {
        let mut f = vec![(2 << 4) | 9]; // field 2: list
        if children.len() < 15 {
            f.push(((children.len() as u8) << 4) | 12);
        } else {
            f.push(0xf0 | 12);
            f.extend(varint(children.len() as u64));
        }
        for &n in children {
            f.push((4 << 4) | 8); // field 4: name
            f.extend([1, b'x']);
            if n != -1 {
                f.extend(i32_field(1, n)); // field 5: num_children
            }
            f.push(0);
        }
        f.push(0);
        f
    }

    /// A FileMetaData whose schema is a root, a `FIXED_LEN_BYTE_ARRAY(len)` decimal declaring
    /// `precision` digits (in `precision` and in the `DECIMAL` logical type) and an INT32.
    fn decimal_footer(len: i64, precision: i64) -> Vec<u8> {
        let mut f = vec![(2 << 4) | 9, (3 << 4) | 12]; // field 2: a list of 3 structs
        f.extend([(4 << 4) | 8, 1, b'r']); // root: name
        f.extend(i32_field(1, 2)); // num_children
        f.push(0);
        f.extend(i32_field(1, 7)); // type FIXED_LEN_BYTE_ARRAY
        f.extend(i32_field(1, len)); // type_length
        f.extend([(2 << 4) | 8, 1, b'v']); // name
        f.extend(i32_field(3, 2)); // scale (field 7)
        f.extend(i32_field(1, precision)); // precision (field 8)
        f.push((2 << 4) | 12); // logicalType (field 10)
        f.push((5 << 4) | 12); // DECIMAL
        f.extend(i32_field(1, 2));
        f.extend(i32_field(1, precision));
        f.extend([0, 0, 0]);
        f.extend(i32_field(1, 1)); // type INT32
        f.extend([(3 << 4) | 8, 1, b'i']);
        f.push(0);
        f.push(0);
        f
    }

    /// The precisions a schema's second element states (field 8, then the logical type's).
    fn stated_precisions(footer: &[u8]) -> Vec<i32> {
        let mut out = Vec::new();
        let mut r = Reader::new(footer);
        let mut element = 0;
        r.read_struct(|r, _, _| {
            r.read_list(Type::Struct, |r| {
                element += 1;
                r.read_struct(|r, id, _| match id {
                    8 if element == 2 => r.i32().map(|p| out.push(p)).map(|()| true),
                    10 => {
                        r.read_struct(|r, _, _| {
                            r.read_struct(|r, f, _| match f {
                                2 => r.i32().map(|p| out.push(p)).map(|()| true),
                                _ => Ok(false),
                            })
                            .map(|()| true)
                        })?;
                        Ok(true)
                    }
                    _ => Ok(false),
                })
            })
            .map(|()| true)
        })
        .expect("readable");
        out
    }

    #[test]
    fn decimals_declaring_more_digits_than_their_bytes_hold_are_fitted() {
        // 6 bytes hold 14 digits (2^47 - 1 = 140737488355327); 16 hold 38.
        let overdeclared = decimal_footer(6, 45);
        assert!(check_footer(&overdeclared).is_ok());
        let (fitted, found) = fit_decimals(&overdeclared)
            .expect("readable")
            .expect("fitted");
        assert_eq!(
            found,
            vec![Overdeclared {
                leaf: 0,
                precision: 45
            }]
        );
        assert_eq!(stated_precisions(&fitted), vec![14, 14]);
        assert!(check_footer(&fitted).is_ok());
        assert_eq!(fit_decimals(&fitted).expect("readable"), None);
        // What the bytes hold is left alone.
        assert_eq!(
            fit_decimals(&decimal_footer(6, 14)).expect("readable"),
            None
        );
        assert_eq!(
            fit_decimals(&decimal_footer(16, 38)).expect("readable"),
            None
        );
        let (_, found) = fit_decimals(&decimal_footer(16, 39))
            .expect("readable")
            .expect("fitted");
        assert_eq!(found[0].precision, 39);
        // A varint that shrinks (300 takes two bytes, 14 one) leaves the rest intact.
        let (fitted, _) = fit_decimals(&decimal_footer(6, 300))
            .expect("readable")
            .expect("fitted");
        assert_eq!(fitted.len(), decimal_footer(6, 300).len() - 2);
        assert_eq!(stated_precisions(&fitted), vec![14, 14]);
    }

    #[test]
    fn keys_that_are_not_utf8_get_replacement_characters() {
        let mut f = footer(&[1, -1]);
        f.pop(); // reopen FileMetaData
        f.extend([(3 << 4) | 9, (1 << 4) | 12]); // field 5: a list of one KeyValue
        let key = b"row.me\xff\xfeta";
        f.push((1 << 4) | 8);
        f.extend(varint(key.len() as u64));
        f.extend(key);
        f.push((1 << 4) | 8); // value: valid, kept as it is
        f.extend([2, b'o', b'k']);
        f.extend([0, 0]);
        let repaired = repair_footer(&f).expect("repaired");
        let mut keys = Vec::new();
        let mut r = Reader::new(&repaired);
        r.read_struct(|r, id, _| match id {
            5 => r
                .read_list(Type::Struct, |r| {
                    r.read_struct(|r, _, _| {
                        let text = r.binary()?;
                        keys.push(String::from_utf8(text.to_vec()).expect("UTF-8"));
                        Ok(true)
                    })
                })
                .map(|()| true),
            _ => Ok(false),
        })
        .expect("readable");
        assert_eq!(keys, ["row.me\u{fffd}\u{fffd}ta", "ok"]);
        // A footer whose text is UTF-8 is passed on unchanged.
        let clean = footer(&[1, -1]);
        assert!(matches!(
            repair_footer(&clean),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn schema_trees_must_add_up() {
        assert!(check_footer(&footer(&[2, -1, -1])).is_ok());
        assert!(check_footer(&footer(&[2, 1, -1, -1])).is_ok());
        // 2^31 - 1 children in a three-element schema.
        assert!(check_footer(&footer(&[i32::MAX as i64, -1, -1])).is_err());
        assert!(check_footer(&footer(&[3, -1, -1])).is_err());
        assert!(check_footer(&footer(&[1, -1, -1])).is_err());
        assert!(check_footer(&footer(&[-5, -1])).is_err());
        // A chain of groups 100 deep.
        let mut chain = vec![1i64; 100];
        chain.push(-1);
        assert!(check_footer(&footer(&chain)).is_err());
        let mut shallow = vec![1i64; 20];
        shallow.push(-1);
        assert!(check_footer(&footer(&shallow)).is_ok());
    }

    #[test]
    fn fields_of_another_wire_type_are_refused_where_the_crate_would_misread_them() {
        // Found by the footer fuzz target: a SchemaElement whose type_length (field 2) is a
        // struct; the parquet crate read on as if it were an i32 and reserved 3 GB of children.
        let found =
            include_bytes!("../../fuzz/regressions/footer/oom-schema-element-field-of-wrong-type");
        let err = check_footer(found).expect_err("refused");
        assert!(
            err.to_string()
                .contains("field 2 (type_length) of a SchemaElement"),
            "{err}"
        );
        // The same in a well-formed footer: num_children (field 5) as an i64.
        let mut f = footer(&[1, -1]);
        let at = f
            .iter()
            .position(|&b| b == 0x15)
            .expect("an i32 field header");
        f[at] = 0x16;
        assert!(check_footer(&footer(&[1, -1])).is_ok());
        assert!(check_footer(&f).is_err());
    }

    #[test]
    fn logical_type_members_of_another_wire_type_are_refused() {
        // Found by the footer fuzz campaign: a 79-byte footer whose LogicalType DECIMAL member
        // is marked a double; the crate read on as if it were a struct and reserved 1.6 GB of
        // schema children.
        let found =
            include_bytes!("../../fuzz/regressions/footer/logical-type-member-of-the-wrong-type");
        let err = check_footer(found).expect_err("refused");
        assert!(err.to_string().contains("LogicalType"), "{err}");
    }

    /// `footer(&[1, -1])` (a root and one column) with `row_group`, a RowGroup's fields, as its
    /// one row group.
    fn footer_with_row_group(row_group: &[u8]) -> Vec<u8> {
        let mut f = footer(&[1, -1]);
        f.pop(); // FileMetaData's stop
        f.push((2 << 4) | 9); // field 4: row_groups
        f.push((1 << 4) | 12);
        f.extend(row_group);
        f.push(0);
        f.push(0);
        f
    }

    #[test]
    fn lists_of_booleans_are_refused_as_the_crate_steps_over_them_wrongly() {
        // Found by the footer fuzz campaign: a SchemaElement with an unknown struct field
        // holding a list of seven booleans. The crate stepped over them as if they took no
        // bytes, read on out of step and reserved 20.9 GB of row groups.
        let found =
            include_bytes!("../../fuzz/regressions/footer/row-group-list-sized-by-a-misread-count");
        let err = repair_footer(found).expect_err("refused");
        assert!(err.to_string().contains("booleans"), "{err}");
        // A list of no booleans, and a list of bytes, are stepped over.
        assert!(Reader::new(&[0x02]).skip(Type::List).is_ok());
        assert!(Reader::new(&[0x13, 0x07]).skip(Type::List).is_ok());
        let err = Reader::new(&[0x11, 0x01])
            .skip(Type::List)
            .expect_err("refused");
        assert!(err.to_string().contains("1 booleans"), "{err}");
        // A map of one i32 key to a boolean.
        let err = Reader::new(&[0x01, 0x51, 0x02, 0x01])
            .skip(Type::Map)
            .expect_err("refused");
        assert!(err.to_string().contains("booleans"), "{err}");
    }

    #[test]
    fn row_group_fields_of_another_wire_type_are_refused_or_left_out() {
        // RowGroup { 1: columns = [], 2: total_byte_size = 0, 3: num_rows = 0 }: well formed
        // (the crate then refuses the column count, but reads in step).
        let good = [0x19, 0x0c, 0x16, 0x00, 0x16, 0x00];
        assert!(matches!(
            repair_footer(&footer_with_row_group(&good)),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
        // num_rows, which is required, as a binary: refused, naming the field.
        let bad = [0x19, 0x0c, 0x16, 0x00, 0x18, 0x01, b'x'];
        let err = repair_footer(&footer_with_row_group(&bad)).expect_err("refused");
        assert!(
            err.to_string().contains("field 3 (num_rows) of a RowGroup"),
            "{err}"
        );
        // ordinal (7), which is optional, as a list: left out, as pyarrow leaves it out.
        let mut optional = good.to_vec();
        optional.extend([0x49, 0x15, 0x02]);
        let with_ordinal = footer_with_row_group(&optional);
        let repaired = repair_footer(&with_ordinal).expect("repaired");
        assert_eq!(&*repaired, &footer_with_row_group(&good)[..]);
        // A ColumnChunk's Statistics whose null_count (3) is a binary, deep in the row group.
        let chunk = [
            0x26, 0x00, // 2: file_offset = 0
            0x1c, // 3: meta_data
            0xcc, // 12: statistics
            0x38, 0x01, b'x', // 3: null_count, as a binary
            0x00, 0x00, 0x00,
        ];
        let mut nested = vec![0x19, 0x1c];
        nested.extend(chunk);
        nested.extend([0x16, 0x00, 0x16, 0x00]);
        let with_statistics = footer_with_row_group(&nested);
        let repaired = repair_footer(&with_statistics).expect("repaired");
        assert!(matches!(repaired, std::borrow::Cow::Owned(_)));
        assert!(!repaired.windows(3).any(|w| w == [0x38, 0x01, b'x']));
        // What was repaired needs no more repair.
        assert!(matches!(
            repair_footer(&repaired),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn page_header_fields_of_another_wire_type_are_refused() {
        let good = data_page(1, 8, 8);
        assert!(read_page_header(&good).is_ok());
        // The DataPageHeader (field 5) marked as a binary.
        let mut bad = good.clone();
        let at = bad
            .iter()
            .position(|&b| b == (2 << 4) | 12)
            .expect("field 5");
        bad[at] = (2 << 4) | 8;
        let err = read_page_header(&bad).expect_err("refused");
        assert!(err.to_string().contains("data_page_header"), "{err}");
        // Statistics in the data page header whose max (1) is an i32.
        let mut stats = good.clone();
        let end = stats.len() - 2; // before the DataPageHeader's stop
        stats.splice(end..end, [0x1c, 0x15, 0x02, 0x00]);
        let err = read_page_header(&stats).expect_err("refused");
        assert!(
            err.to_string().contains("field 1 (max) of a Statistics"),
            "{err}"
        );
    }
}
