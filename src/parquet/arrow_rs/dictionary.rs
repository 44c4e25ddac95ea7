//! Dictionary-encoded columns spanning several row groups, where arrow-rs decodes them
//! (encodings `decode` does not handle, more distinct values than the key type holds; `decode`
//! decodes the others itself).
//!
//! Decoded as one batch, arrow-rs re-interns every value when it meets the second row group's
//! dictionary (slow, and several times the output in memory), and orders the dictionary by first
//! appearance rather than as the file stores it. Decoding row group by row group and merging the
//! small dictionaries here (batch by batch: a row group's batches share its dictionary) writes
//! each code once into an exactly sized buffer, and gives the
//! dictionary pyarrow gives: the first row group's values, then each new value as it appears.
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::GenericByteBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, DictionaryArray, GenericByteArray, PrimitiveArray};
use arrow_buffer::ArrowNativeType;
use arrow_schema::DataType;

use super::JoinedNulls;
use crate::error::{Error, Result};
use crate::parquet::byte_dictionary::{dispatch, ByteDictionary};

/// Whether `merge` handles this type (dictionaries of strings or binaries).
pub(crate) fn supported(dt: &DataType) -> bool {
    matches!(dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary))
}

/// One dictionary array from per-row-group pieces of the same dictionary type; `None` when the
/// merged dictionary would not fit the key type (the caller then decodes the column whole).
pub(crate) fn merge(pieces: &[ArrayRef]) -> Result<Option<ArrayRef>> {
    let Some(first) = pieces.first() else {
        return Ok(None);
    };
    let DataType::Dictionary(key, value) = first.data_type() else {
        return Ok(None);
    };
    struct Merge<'a>(&'a [ArrayRef]);
    impl ByteDictionary for Merge<'_> {
        type Out = Result<Option<ArrayRef>>;
        fn visit<K: ArrowDictionaryKeyType, V: ByteArrayType>(self) -> Self::Out
        where
            V::Native: std::hash::Hash + Eq,
        {
            merge_typed::<K, V>(self.0)
        }
    }
    dispatch(key, value, Merge(pieces)).unwrap_or(Ok(None))
}

fn merge_typed<K, V>(pieces: &[ArrayRef]) -> Result<Option<ArrayRef>>
where
    K: ArrowDictionaryKeyType,
    V: ByteArrayType,
    V::Native: std::hash::Hash + Eq,
{
    let dictionaries: Vec<&DictionaryArray<K>> = pieces
        .iter()
        .map(|p| p.as_dictionary_opt::<K>())
        .collect::<Option<_>>()
        .ok_or_else(|| Error::Parquet("row groups decoded to different dictionary types".into()))?;

    // Merged values, in order of first appearance across the pieces' dictionaries.
    let mut index: HashMap<&V::Native, K::Native> = HashMap::new();
    let mut merged: Vec<&V::Native> = Vec::new();
    let mut mappings: Vec<Vec<K::Native>> = Vec::with_capacity(dictionaries.len());
    for (n, d) in dictionaries.iter().enumerate() {
        // Batches of one row group share its dictionary: map it once.
        if n > 0
            && d.values()
                .to_data()
                .ptr_eq(&dictionaries[n - 1].values().to_data())
        {
            let previous = mappings[n - 1].clone();
            mappings.push(previous);
            continue;
        }
        let values: &GenericByteArray<V> = d.values().as_bytes::<V>();
        let mut mapping = Vec::with_capacity(values.len());
        for i in 0..values.len() {
            let value: &V::Native = values.value(i);
            let next = merged.len();
            let code = match index.get(value) {
                Some(&code) => code,
                None => {
                    let Some(code) = K::Native::from_usize(next) else {
                        return Ok(None); // more distinct values than the key type can index
                    };
                    index.insert(value, code);
                    merged.push(value);
                    code
                }
            };
            mapping.push(code);
        }
        mappings.push(mapping);
    }

    let total: usize = dictionaries.iter().map(|d| d.len()).sum();
    let mut keys: Vec<K::Native> = Vec::with_capacity(total);
    let mut nulls = JoinedNulls::new(dictionaries.iter().map(|d| *d as &dyn Array));
    for (d, mapping) in dictionaries.iter().zip(&mappings) {
        let zero = K::Native::default();
        keys.extend(d.keys().values().iter().map(|k| {
            // Null slots may hold any key; keep them in range.
            mapping.get(k.as_usize()).copied().unwrap_or(zero)
        }));
        nulls.push(d);
    }
    let nulls = nulls.finish();
    let bytes: usize = merged.iter().map(|v| AsRef::<[u8]>::as_ref(*v).len()).sum();
    let mut builder = GenericByteBuilder::<V>::with_capacity(merged.len(), bytes);
    for v in &merged {
        builder.append_value(v);
    }
    let values = builder.finish();
    let keys = PrimitiveArray::<K>::new(keys.into(), nulls);
    let out = DictionaryArray::<K>::try_new(keys, Arc::new(values))?;
    Ok(Some(Arc::new(out)))
}
