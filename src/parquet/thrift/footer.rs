//! The footer (a serialized `FileMetaData`): checked for what the parquet crate would trust
//! while decoding it, and repaired where a writer put a value of the wrong type into an
//! optional field.

use super::spec::{self, Struct, Want, FILE_META_DATA, SCHEMA_ELEMENT};
use super::{malformed, Reader, Result, Type, MAX_DEPTH};

// ---------------------------------------------------------------------------------------------
// The footer

/// Check a serialized `FileMetaData` for what the parquet crate would trust while decoding it:
/// lists and strings longer than the footer, nesting deeper than `MAX_DEPTH`, and a schema whose
/// `num_children` claim more elements than the schema has (the crate reserves that many
/// children before reading them) or nest its groups deeper than `MAX_DEPTH`.
///
/// The parquet crate reads each field of `FileMetaData` and `SchemaElement` as the type the
/// format gives it, whatever type the field is marked with; a field of another type would make
/// it read the footer out of step with this check (a fuzzed footer whose `type_length` was a
/// struct had the crate reserve 3 GB of schema children). Such a field is refused here; the
/// structs of the row groups are held to the same by `repair_footer`.
pub(crate) fn check_footer(footer: &[u8]) -> Result<()> {
    let mut r = Reader::new(footer);
    // One entry per schema element actually present (bounded by the footer's length).
    let mut children: Vec<i32> = Vec::new();
    let mut has_schema = false;
    r.read_struct(|r, id, ty| {
        FILE_META_DATA.checked(id, ty)?;
        if id == 2 && ty == Type::List {
            has_schema = true;
            r.read_list(Type::Struct, |r| {
                let mut n = 0;
                r.read_struct(|r, id, ty| {
                    SCHEMA_ELEMENT.checked(id, ty)?;
                    if id == 5 {
                        n = r.i32_field(ty, "num_children")?;
                        return Ok(true);
                    }
                    if id == 10 {
                        check_logical_type(r)?;
                        return Ok(true);
                    }
                    Ok(false)
                })?;
                children.push(n);
                Ok(())
            })?;
            return Ok(true);
        }
        Ok(false)
    })?;
    if !has_schema {
        return malformed("the footer has no schema");
    }
    check_schema_tree(&children)
}

/// A `SchemaElement`'s `LogicalType` (a union of structs), whose fields the parquet crate also
/// reads as the format types them: a member of another type would put it out of step with this
/// check for the rest of the schema (a fuzzed footer whose `DECIMAL` member was marked a double
/// had the crate read a later element's `num_children` as 206 million, and reserve 1.6 GB).
fn check_logical_type(r: &mut Reader<'_>) -> Result<()> {
    r.read_struct(|r, id, ty| {
        union_member("LogicalType", id, ty)?;
        let Some(member) = spec::logical_type_member(id) else {
            return Ok(false);
        };
        r.read_struct(|r, field, ty| {
            member.checked(field, ty)?;
            if matches!(id, 7 | 8) && field == 2 {
                // TimeUnit: a union of empty structs.
                r.read_struct(|_, unit, ty| union_member("TimeUnit", unit, ty).map(|()| false))?;
                return Ok(true);
            }
            Ok(false)
        })?;
        Ok(true)
    })
}

/// Refuse a member of the union `what` that is not a struct (every member of parquet.thrift's
/// unions is one).
fn union_member(what: &str, id: i16, ty: Type) -> Result<()> {
    if ty == Type::Struct {
        return Ok(());
    }
    malformed(format!(
        "field {id} of a {what} in the footer is a {ty:?} where the format has a struct"
    ))
}

/// The schema is a depth-first list of elements, each group followed by its `num_children`
/// children: check the counts add up without reading past the list and without nesting deeper
/// than `MAX_DEPTH`.
fn check_schema_tree(children: &[i32]) -> Result<()> {
    if children.is_empty() {
        return malformed("the footer's schema is empty");
    }
    // Children still expected by each open group, innermost last.
    let mut open: Vec<usize> = Vec::new();
    for (i, &n) in children.iter().enumerate() {
        if let Some(parent) = open.last_mut() {
            *parent -= 1;
        } else if i > 0 {
            return malformed(format!(
                "the footer's schema has {} elements but its root group holds only {}",
                children.len(),
                i
            ));
        }
        let n = usize::try_from(n)
            .or_else(|_| malformed(format!("schema element {i} claims {n} children")))?;
        if n > children.len() - i - 1 {
            return malformed(format!(
                "schema element {i} claims {n} children but only {} elements follow",
                children.len() - i - 1
            ));
        }
        if n > 0 || i == 0 {
            open.push(n);
            if open.len() > MAX_DEPTH {
                return malformed(format!(
                    "the schema nests groups more than {MAX_DEPTH} deep"
                ));
            }
        }
        while open.last() == Some(&0) {
            open.pop();
        }
    }
    if !open.is_empty() {
        return malformed("the footer's schema ends inside a group");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Repairing a footer

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn write_field_header(out: &mut Vec<u8>, last: &mut i16, id: i16, ty: Type) {
    let delta = i32::from(id) - i32::from(*last);
    if (1..=15).contains(&delta) {
        out.push(((delta as u8) << 4) | ty.field_nibble());
    } else {
        out.push(ty.field_nibble());
        write_varint(out, ((i64::from(id) << 1) ^ (i64::from(id) >> 63)) as u64);
    }
    *last = id;
}

impl<'a> Reader<'a> {
    /// Copy the struct at the reader into `out`, leaving out the optional fields of `spec` whose
    /// wire type is not the format's and refusing such a required field; `true` if any field
    /// was left out.
    fn rewrite_struct(&mut self, spec: &Struct, out: &mut Vec<u8>) -> Result<bool> {
        self.enter()?;
        let mut changed = false;
        let (mut read_last, mut written_last) = (0i16, 0i16);
        while let Some((id, ty)) = self.field(&mut read_last)? {
            let want = spec.field(id);
            if let Some(f) = want.filter(|f| !f.want.matches(ty)) {
                if !f.optional {
                    return spec::wrong_type(spec, f, ty);
                }
                self.skip(ty)?;
                changed = true;
                continue;
            }
            write_field_header(out, &mut written_last, id, ty);
            match want.map(|f| f.want) {
                Some(Want::Struct(inner)) => changed |= self.rewrite_struct(inner, out)?,
                Some(Want::StructList(inner)) => {
                    let start = self.pos;
                    let (element, count) = self.list_header()?;
                    out.extend_from_slice(&self.data[start..self.pos]);
                    self.enter()?;
                    for _ in 0..count {
                        if element == Type::Struct {
                            changed |= self.rewrite_struct(inner, out)?;
                        } else {
                            let start = self.pos;
                            self.skip(element)?;
                            out.extend_from_slice(&self.data[start..self.pos]);
                        }
                    }
                    self.leave();
                }
                Some(Want::Text) => {
                    let start = self.pos;
                    let text = self.binary()?;
                    match std::str::from_utf8(text) {
                        Ok(_) => out.extend_from_slice(&self.data[start..self.pos]),
                        // Not UTF-8 (a fuzzed key): each invalid sequence replaced by
                        // U+FFFD, as pyarrow prints it (it keeps the raw bytes; an Arrow
                        // schema's metadata here is text).
                        Err(_) => {
                            let lossy = String::from_utf8_lossy(text);
                            write_varint(out, lossy.len() as u64);
                            out.extend_from_slice(lossy.as_bytes());
                            changed = true;
                        }
                    }
                }
                _ => {
                    let start = self.pos;
                    self.skip(ty)?;
                    out.extend_from_slice(&self.data[start..self.pos]);
                }
            }
        }
        out.push(0);
        self.leave();
        Ok(changed)
    }
}

/// The footer checked (`check_footer`, and every struct of its row groups held to the wire
/// types `spec` gives, which the parquet crate reads them as) and, where a writer put a value
/// of the wrong Thrift type into an optional field (Dremio writes a list where
/// `ColumnMetaData.bloom_filter_length` is an i32), the same footer without that field, as
/// pyarrow reads it (Thrift's C++ library skips such fields). Such a required field is refused,
/// as pyarrow refuses the field then missing. A key, value or `created_by` that is not UTF-8
/// (which the crate refuses) gets U+FFFD for each invalid sequence, as pyarrow prints it.
pub(crate) fn repair_footer(footer: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    check_footer(footer)?;
    let mut out = Vec::new();
    out.try_reserve_exact(footer.len())
        .or_else(|_| malformed("cannot reserve memory for the footer"))?;
    let mut r = Reader::new(footer);
    if r.rewrite_struct(&FILE_META_DATA, &mut out)? {
        Ok(std::borrow::Cow::Owned(out))
    } else {
        Ok(std::borrow::Cow::Borrowed(footer))
    }
}

// ---------------------------------------------------------------------------------------------
// Decimals declaring more digits than their bytes hold

/// A fixed-length decimal whose declared precision its bytes cannot hold, lowered by
/// `fit_decimals`: the primitive leaf it is (counted in schema order) and what it declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overdeclared {
    pub(crate) leaf: usize,
    pub(crate) precision: i32,
}

/// The most decimal digits a `len`-byte two's complement integer holds: `floor(log10(2^(8 len
/// - 1) - 1))`, as the parquet crate computes it (no power of two is a power of ten, so the
/// `- 1` never changes the floor).
fn digits_in(len: i32) -> i32 {
    let bits = (i64::from(len.max(1)) * 8 - 1) as f64;
    (bits * std::f64::consts::LOG10_2).floor() as i32
}

/// The footer (already through `repair_footer`) with the precision of every
/// `FIXED_LEN_BYTE_ARRAY` decimal that declares more digits than its length holds lowered to
/// what it holds (in the `precision` field and in the `DECIMAL` logical type), and those
/// columns; `None` where there is none. The parquet crate refuses such a schema outright (a
/// fuzzed file declares 45 digits in 6 bytes); pyarrow reads the values, which the bytes bound,
/// with the declared precision, and the read restores it (`metadata::load_metadata`).
pub(crate) fn fit_decimals(footer: &[u8]) -> Result<Option<(Vec<u8>, Vec<Overdeclared>)>> {
    // Where each lowered precision's varint lies, and its new value.
    let mut edits: Vec<(std::ops::Range<usize>, i32)> = Vec::new();
    let mut found = Vec::new();
    let mut leaf = 0usize;
    let mut r = Reader::new(footer);
    r.read_struct(|r, id, ty| {
        if id != 2 || ty != Type::List {
            return Ok(false);
        }
        r.read_list(Type::Struct, |r| {
            let (mut physical, mut len) = (None, None);
            let mut precisions: Vec<(std::ops::Range<usize>, i32)> = Vec::new();
            r.read_struct(|r, id, ty| match (id, ty) {
                (1, Type::I32) => r.i32().map(|v| physical = Some(v)).map(|()| true),
                (2, Type::I32) => r.i32().map(|v| len = Some(v)).map(|()| true),
                (8, Type::I32) => {
                    let start = r.position();
                    let v = r.i32()?;
                    precisions.push((start..r.position(), v));
                    Ok(true)
                }
                (10, Type::Struct) => {
                    r.read_struct(|r, member, ty| {
                        if member != 5 || ty != Type::Struct {
                            return Ok(false);
                        }
                        r.read_struct(|r, field, ty| {
                            if field != 2 || ty != Type::I32 {
                                return Ok(false);
                            }
                            let start = r.position();
                            let v = r.i32()?;
                            precisions.push((start..r.position(), v));
                            Ok(true)
                        })?;
                        Ok(true)
                    })?;
                    Ok(true)
                }
                _ => Ok(false),
            })?;
            // FIXED_LEN_BYTE_ARRAY is physical type 7.
            if let (Some(7), Some(len)) = (physical, len) {
                let most = digits_in(len);
                let declared = precisions.iter().map(|(_, p)| *p).max();
                if let Some(declared) = declared.filter(|&p| p > most) {
                    found.push(Overdeclared {
                        leaf,
                        precision: declared,
                    });
                    edits.extend(precisions.into_iter().map(|(at, _)| (at, most)));
                }
            }
            if physical.is_some() {
                leaf += 1;
            }
            Ok(())
        })?;
        Ok(true)
    })?;
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|(at, _)| at.start);
    let mut out = Vec::new();
    out.try_reserve_exact(footer.len())
        .or_else(|_| malformed("cannot reserve memory for the footer"))?;
    let mut from = 0;
    for (at, value) in edits {
        out.extend_from_slice(&footer[from..at.start]);
        // Thrift's compact protocol: an i32 is a zigzag varint.
        write_varint(&mut out, ((value << 1) ^ (value >> 31)) as u32 as u64);
        from = at.end;
    }
    out.extend_from_slice(&footer[from..]);
    Ok(Some((out, found)))
}
