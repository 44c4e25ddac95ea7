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
/// as pyarrow refuses the field then missing.
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
