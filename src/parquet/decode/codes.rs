//! Dictionary columns of strings or binaries decoded into one code per row, the row groups'
//! dictionaries merged as they are met (pyarrow's category order: the first row group's
//! dictionary, then each new value in the order it appears).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::types::{ArrowDictionaryKeyType, ByteArrayType};
use arrow_array::{ArrayRef, DictionaryArray, GenericByteArray, PrimitiveArray};
use arrow_buffer::{ArrowNativeType, Buffer, OffsetBuffer, ScalarBuffer};
use parquet::basic::Encoding;

use crate::parquet::decode::column::{Column, Files};
use crate::parquet::decode::encoding::dictionary::Dictionary;
use crate::parquet::decode::halt::{corrupt, Halt, Step};
use crate::parquet::decode::sink::{Sink, Validity};
use crate::parquet::pages::{Page, PageReader};
use crate::parquet::source::Handle;

/// Writes dictionary codes into a buffer of one code per row, merging the row groups'
/// dictionaries into one.
struct Codes<K: ArrowDictionaryKeyType> {
    codes: Vec<K::Native>,
    validity: Validity,
    /// The merged dictionary's characters and end offsets.
    merged: Vec<u8>,
    ends: Vec<usize>,
    index: HashMap<Box<[u8]>, K::Native>,
    /// The current row group's dictionary index → merged code.
    mapping: Vec<K::Native>,
}

impl<K: ArrowDictionaryKeyType> Codes<K> {
    fn code_of(&mut self, bytes: &[u8]) -> Step<K::Native> {
        if let Some(&code) = self.index.get(bytes) {
            return Ok(code);
        }
        // More distinct values than the key type can index: arrow-rs decides what to do.
        let code = K::Native::from_usize(self.index.len()).ok_or(Halt::Fallback)?;
        self.merged.extend_from_slice(bytes);
        self.ends.push(self.merged.len());
        self.index.insert(bytes.into(), code);
        Ok(code)
    }
}

impl<K: ArrowDictionaryKeyType> Sink for Codes<K> {
    fn dictionary(&mut self, dictionary: &Dictionary) -> Step {
        let mut mapping = std::mem::take(&mut self.mapping);
        mapping.clear();
        for entry in dictionary.entries() {
            mapping.push(self.code_of(entry)?);
        }
        self.mapping = mapping;
        Ok(())
    }
    #[inline]
    fn null(&mut self) -> Step {
        self.codes.push(K::Native::default());
        self.validity.null();
        Ok(())
    }
    #[inline]
    fn value(&mut self, bytes: &[u8]) -> Step {
        let code = self.code_of(bytes)?;
        self.codes.push(code);
        self.validity.valid();
        Ok(())
    }
    #[inline]
    fn entry(&mut self, _dictionary: &Dictionary, index: u32) -> Step {
        let code = *self.mapping.get(index as usize).ok_or_else(|| {
            corrupt(format!(
                "dictionary index {index} out of range (the dictionary has {} values)",
                self.mapping.len()
            ))
        })?;
        self.codes.push(code);
        self.validity.valid();
        Ok(())
    }
}

/// How many distinct values the dictionary pages that open the column's chunks hold together,
/// counted up to `cap` (more stops the count): the fewest entries the merged dictionary will
/// have (a chunk whose writer fell back to plain pages adds values of its own), so the codes
/// can start at a width that holds them instead of being decoded again in a wider one.
/// Dictionary pages only are read, through `handle`; `None` where one cannot be read (the
/// decode proper then reports what is wrong).
pub(crate) fn dictionary_floor(column: &Column<'_>, handle: &Handle, cap: usize) -> Option<usize> {
    let mut seen: HashSet<Box<[u8]>> = HashSet::new();
    for &rg in column.row_groups {
        let mut pages =
            PageReader::new(handle, column.meta, rg, column.leaf, column.limits).ok()?;
        let Some(Page::Dictionary {
            buf,
            num_values,
            encoding: Encoding::PLAIN | Encoding::PLAIN_DICTIONARY,
        }) = pages.next_page().ok()?
        else {
            continue;
        };
        let dictionary = Dictionary::parse(buf, num_values, column.width).ok()?;
        for entry in dictionary.entries() {
            if seen.len() > cap {
                return Some(seen.len());
            }
            if !seen.contains(entry) {
                seen.insert(entry.into());
            }
        }
    }
    Some(seen.len())
}

pub(super) fn read<K: ArrowDictionaryKeyType, V: ByteArrayType>(
    column: &Column<'_>,
    files: &Files<'_>,
) -> Step<ArrayRef> {
    let mut codes = Vec::new();
    // The row count was checked against the pages where it is out of proportion to the file's
    // bytes (`read`); reserving can still fail, and then the column is left to arrow-rs.
    codes
        .try_reserve_exact(column.rows)
        .map_err(|_| Halt::Fallback)?;
    crate::alloc::prefer_huge_pages(codes.spare_capacity_mut());
    let mut sink = Codes::<K> {
        codes,
        validity: Validity::new(column.max_def > 0, column.rows),
        merged: Vec::new(),
        ends: Vec::new(),
        index: HashMap::new(),
        mapping: Vec::new(),
    };
    column.walk(&Arc::new((files.open)()?), &mut sink)?;
    let Codes {
        codes,
        validity,
        merged,
        ends,
        ..
    } = sink;
    let offsets = std::iter::once(0)
        .chain(ends)
        .map(V::Offset::from_usize)
        .collect::<Option<Vec<_>>>()
        .ok_or(Halt::Fallback)?;
    // Validates the offsets and, for strings, UTF-8.
    let values = GenericByteArray::<V>::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(merged),
        None,
    )
    .map_err(|e| corrupt(format!("invalid dictionary values: {e}")))?;
    let keys = PrimitiveArray::<K>::new(codes.into(), validity.finish());
    let array = DictionaryArray::<K>::try_new(keys, Arc::new(values))
        .map_err(|e| corrupt(format!("invalid dictionary: {e}")))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_array::{Array, DictionaryArray, StringArray};
    use arrow_schema::DataType;

    use crate::parquet::decode::testing::{decode, props, strings};

    #[test]
    fn dictionaries_of_several_row_groups_merge_in_first_seen_order() {
        let values = strings(20_000);
        let plain = StringArray::from(values.clone());
        let dict: DictionaryArray<Int32Type> = values.iter().map(|v| v.as_deref()).collect();
        for p in [
            props().build(),
            props().set_dictionary_page_size_limit(600).build(),
        ] {
            let (out, _, _) = decode(Arc::new(dict.clone()), p).expect("handled");
            let out = out.as_dictionary::<Int32Type>();
            let decoded = arrow_cast::cast(out, &DataType::Utf8).expect("cast");
            assert_eq!(decoded.as_ref(), &plain as &dyn Array);
            // Each distinct value once, first appearances first.
            let mut seen = std::collections::HashSet::new();
            let first_seen: Vec<&str> = values
                .iter()
                .flatten()
                .map(|s| s.as_str())
                .filter(|s| seen.insert(*s))
                .collect();
            let merged: Vec<&str> = out.values().as_string::<i32>().iter().flatten().collect();
            assert_eq!(merged, first_seen);
            assert_eq!(out.keys().values().len(), values.len());
        }
    }
}
