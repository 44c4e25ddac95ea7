//! Dictionary types of strings or binaries, dispatched to code generic over their Arrow key and
//! value types (colbridge's dictionary decoder and the merge of arrow-rs' dictionaries share it).

use arrow_array::types::*;
use arrow_schema::DataType;

/// Code generic over a dictionary's key type `K` and byte value type `V`.
pub(crate) trait ByteDictionary {
    type Out;
    fn visit<K: ArrowDictionaryKeyType, V: ByteArrayType>(self) -> Self::Out
    where
        V::Native: std::hash::Hash + Eq;
}

/// Run `visitor` with the Arrow types of `dictionary<key, value>`; `None` unless the key is an
/// integer and the value a string or binary type.
pub(crate) fn dispatch<T: ByteDictionary>(
    key: &DataType,
    value: &DataType,
    visitor: T,
) -> Option<T::Out> {
    macro_rules! by_value {
        ($k:ty) => {
            match value {
                DataType::Utf8 => Some(visitor.visit::<$k, GenericStringType<i32>>()),
                DataType::LargeUtf8 => Some(visitor.visit::<$k, GenericStringType<i64>>()),
                DataType::Binary => Some(visitor.visit::<$k, GenericBinaryType<i32>>()),
                DataType::LargeBinary => Some(visitor.visit::<$k, GenericBinaryType<i64>>()),
                _ => None,
            }
        };
    }
    match key {
        DataType::Int8 => by_value!(Int8Type),
        DataType::Int16 => by_value!(Int16Type),
        DataType::Int32 => by_value!(Int32Type),
        DataType::Int64 => by_value!(Int64Type),
        DataType::UInt8 => by_value!(UInt8Type),
        DataType::UInt16 => by_value!(UInt16Type),
        DataType::UInt32 => by_value!(UInt32Type),
        DataType::UInt64 => by_value!(UInt64Type),
        _ => None,
    }
}
