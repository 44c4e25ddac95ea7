//! The structs of parquet.thrift that the parquet crate decodes, field by field, as it reads
//! them: for each field it reads, the wire type it reads the field as.
//!
//! The crate reads a field it knows as the type the format gives it, whatever type the field is
//! marked with, and steps over a field it does not know by its marked type. A field marked with
//! another type therefore puts the crate out of step with the bytes (and with `Reader`), and
//! what it reads next is noise it may size an allocation from. These tables are what
//! `footer::repair_footer` and `check_struct` hold a footer or a page header to, so that the crate
//! only ever reads what `Reader` checked. A field the crate does not read is left out: it is
//! stepped over by its marked type on both sides.

use super::{malformed, Reader, Result, Type};

/// What a field holds on the wire.
#[derive(Clone, Copy)]
pub(super) enum Want {
    Bool,
    Byte,
    I16,
    I32,
    I64,
    Double,
    Binary,
    /// A binary the crate decodes as UTF-8 (and refuses otherwise).
    Text,
    /// A list whose elements the crate checks for their type itself.
    List,
    /// A struct whose fields are not looked into here.
    AnyStruct,
    Struct(&'static Struct),
    StructList(&'static Struct),
}

/// A field of a struct: its id, its name in parquet.thrift, what it holds and whether the
/// format allows it absent.
#[derive(Clone, Copy)]
pub(super) struct Field {
    pub(super) id: i16,
    pub(super) name: &'static str,
    pub(super) want: Want,
    pub(super) optional: bool,
}

/// A struct of parquet.thrift: its name and the fields the parquet crate reads.
pub(super) struct Struct {
    pub(super) name: &'static str,
    pub(super) fields: &'static [Field],
}

const fn required(id: i16, name: &'static str, want: Want) -> Field {
    Field {
        id,
        name,
        want,
        optional: false,
    }
}

const fn optional(id: i16, name: &'static str, want: Want) -> Field {
    Field {
        id,
        name,
        want,
        optional: true,
    }
}

impl Struct {
    pub(super) fn field(&self, id: i16) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Field `id` (`None` where the crate does not read it), refused where it is marked with
    /// another wire type than the format's.
    pub(super) fn checked(&self, id: i16, ty: Type) -> Result<Option<&'static Field>> {
        match self.field(id) {
            Some(f) if !f.want.matches(ty) => wrong_type(self, f, ty),
            found => Ok(found),
        }
    }
}

impl Want {
    pub(super) fn name(self) -> &'static str {
        match self {
            Want::Bool => "a bool",
            Want::Byte => "a byte",
            Want::I16 => "an i16",
            Want::I32 => "an i32",
            Want::I64 => "an i64",
            Want::Double => "a double",
            Want::Binary | Want::Text => "a binary",
            Want::List | Want::StructList(_) => "a list",
            Want::AnyStruct | Want::Struct(_) => "a struct",
        }
    }

    pub(super) fn matches(self, ty: Type) -> bool {
        match self {
            Want::Bool => matches!(ty, Type::Bool(_)),
            Want::Byte => ty == Type::Byte,
            Want::I16 => ty == Type::I16,
            Want::I32 => ty == Type::I32,
            Want::I64 => ty == Type::I64,
            Want::Double => ty == Type::Double,
            Want::Binary | Want::Text => ty == Type::Binary,
            Want::List | Want::StructList(_) => ty == Type::List,
            Want::AnyStruct | Want::Struct(_) => ty == Type::Struct,
        }
    }
}

/// The error for field `f` of `of` marked as `ty`.
pub(super) fn wrong_type<T>(of: &Struct, f: &Field, ty: Type) -> Result<T> {
    malformed(format!(
        "field {} ({}) of a {} is a Thrift {ty:?} where the format has {}",
        f.id,
        f.name,
        of.name,
        f.want.name()
    ))
}

impl Reader<'_> {
    /// Step over the struct at the reader, refusing any field of `spec` marked with another
    /// wire type than the format's (for what cannot be repaired: a page header is read by the
    /// parquet crate from the file itself).
    pub(super) fn check_struct(&mut self, spec: &Struct) -> Result<()> {
        self.read_struct(|r, id, ty| {
            let Some(f) = spec.checked(id, ty)? else {
                return Ok(false);
            };
            match f.want {
                Want::Struct(inner) => r.check_struct(inner)?,
                Want::StructList(inner) => r.read_list(Type::Struct, |r| r.check_struct(inner))?,
                _ => return Ok(false),
            }
            Ok(true)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The footer

/// `FileMetaData` (fields 8 and 9, encryption, are stepped over: the crate is built without it).
pub(super) const FILE_META_DATA: Struct = Struct {
    name: "FileMetaData",
    fields: &[
        required(1, "version", Want::I32),
        required(2, "schema", Want::List),
        required(3, "num_rows", Want::I64),
        required(4, "row_groups", Want::StructList(&ROW_GROUP)),
        optional(5, "key_value_metadata", Want::StructList(&KEY_VALUE)),
        optional(6, "created_by", Want::Text),
        optional(7, "column_orders", Want::StructList(&COLUMN_ORDER)),
    ],
};

/// `SchemaElement` (its `LogicalType`, a union, is checked by `footer::check_logical_type`).
pub(super) const SCHEMA_ELEMENT: Struct = Struct {
    name: "SchemaElement",
    fields: &[
        optional(1, "type", Want::I32),
        optional(2, "type_length", Want::I32),
        optional(3, "repetition_type", Want::I32),
        required(4, "name", Want::Binary),
        optional(5, "num_children", Want::I32),
        optional(6, "converted_type", Want::I32),
        optional(7, "scale", Want::I32),
        optional(8, "precision", Want::I32),
        optional(9, "field_id", Want::I32),
        optional(10, "logicalType", Want::AnyStruct),
    ],
};

const KEY_VALUE: Struct = Struct {
    name: "KeyValue",
    fields: &[
        required(1, "key", Want::Text),
        optional(2, "value", Want::Text),
    ],
};

/// `ColumnOrder`, a union: its one member the crate reads must be a struct.
const COLUMN_ORDER: Struct = Struct {
    name: "ColumnOrder",
    fields: &[required(1, "TYPE_ORDER", Want::AnyStruct)],
};

const ROW_GROUP: Struct = Struct {
    name: "RowGroup",
    fields: &[
        required(1, "columns", Want::StructList(&COLUMN_CHUNK)),
        required(2, "total_byte_size", Want::I64),
        required(3, "num_rows", Want::I64),
        optional(4, "sorting_columns", Want::StructList(&SORTING_COLUMN)),
        optional(5, "file_offset", Want::I64),
        optional(7, "ordinal", Want::I16),
    ],
};

const SORTING_COLUMN: Struct = Struct {
    name: "SortingColumn",
    fields: &[
        required(1, "column_idx", Want::I32),
        required(2, "descending", Want::Bool),
        required(3, "nulls_first", Want::Bool),
    ],
};

/// `ColumnChunk` (fields 8 and 9, encryption, are stepped over).
const COLUMN_CHUNK: Struct = Struct {
    name: "ColumnChunk",
    fields: &[
        optional(1, "file_path", Want::Binary),
        required(2, "file_offset", Want::I64),
        optional(3, "meta_data", Want::Struct(&COLUMN_META_DATA)),
        optional(4, "offset_index_offset", Want::I64),
        optional(5, "offset_index_length", Want::I32),
        optional(6, "column_index_offset", Want::I64),
        optional(7, "column_index_length", Want::I32),
    ],
};

/// `ColumnMetaData` (fields 3 and 8, `path_in_schema` and `key_value_metadata`, are stepped
/// over).
const COLUMN_META_DATA: Struct = Struct {
    name: "ColumnMetaData",
    fields: &[
        required(1, "type", Want::I32),
        required(2, "encodings", Want::List),
        required(4, "codec", Want::I32),
        required(5, "num_values", Want::I64),
        required(6, "total_uncompressed_size", Want::I64),
        required(7, "total_compressed_size", Want::I64),
        required(9, "data_page_offset", Want::I64),
        optional(10, "index_page_offset", Want::I64),
        optional(11, "dictionary_page_offset", Want::I64),
        optional(12, "statistics", Want::Struct(&STATISTICS)),
        optional(13, "encoding_stats", Want::StructList(&PAGE_ENCODING_STATS)),
        optional(14, "bloom_filter_offset", Want::I64),
        optional(15, "bloom_filter_length", Want::I32),
        optional(16, "size_statistics", Want::Struct(&SIZE_STATISTICS)),
        optional(
            17,
            "geospatial_statistics",
            Want::Struct(&GEOSPATIAL_STATISTICS),
        ),
    ],
};

/// `Statistics`, in a column chunk's metadata and in a data page's header.
const STATISTICS: Struct = Struct {
    name: "Statistics",
    fields: &[
        optional(1, "max", Want::Binary),
        optional(2, "min", Want::Binary),
        optional(3, "null_count", Want::I64),
        optional(4, "distinct_count", Want::I64),
        optional(5, "max_value", Want::Binary),
        optional(6, "min_value", Want::Binary),
        optional(7, "is_max_value_exact", Want::Bool),
        optional(8, "is_min_value_exact", Want::Bool),
    ],
};

const PAGE_ENCODING_STATS: Struct = Struct {
    name: "PageEncodingStats",
    fields: &[
        required(1, "page_type", Want::I32),
        required(2, "encoding", Want::I32),
        required(3, "count", Want::I32),
    ],
};

const SIZE_STATISTICS: Struct = Struct {
    name: "SizeStatistics",
    fields: &[
        optional(1, "unencoded_byte_array_data_bytes", Want::I64),
        optional(2, "repetition_level_histogram", Want::List),
        optional(3, "definition_level_histogram", Want::List),
    ],
};

const GEOSPATIAL_STATISTICS: Struct = Struct {
    name: "GeospatialStatistics",
    fields: &[
        optional(1, "bbox", Want::Struct(&BOUNDING_BOX)),
        optional(2, "geospatial_types", Want::List),
    ],
};

const BOUNDING_BOX: Struct = Struct {
    name: "BoundingBox",
    fields: &[
        required(1, "xmin", Want::Double),
        required(2, "xmax", Want::Double),
        required(3, "ymin", Want::Double),
        required(4, "ymax", Want::Double),
        optional(5, "zmin", Want::Double),
        optional(6, "zmax", Want::Double),
        optional(7, "mmin", Want::Double),
        optional(8, "mmax", Want::Double),
    ],
};

// ---------------------------------------------------------------------------------------------
// Page headers

/// `PageHeader`, as the crate reads it from the file when arrow-rs decodes a column.
pub(super) const PAGE_HEADER: Struct = Struct {
    name: "PageHeader",
    fields: &[
        required(1, "type", Want::I32),
        required(2, "uncompressed_page_size", Want::I32),
        required(3, "compressed_page_size", Want::I32),
        optional(4, "crc", Want::I32),
        optional(5, "data_page_header", Want::Struct(&DATA_PAGE_HEADER)),
        optional(6, "index_page_header", Want::AnyStruct),
        optional(
            7,
            "dictionary_page_header",
            Want::Struct(&DICTIONARY_PAGE_HEADER),
        ),
        optional(8, "data_page_header_v2", Want::Struct(&DATA_PAGE_HEADER_V2)),
    ],
};

const DATA_PAGE_HEADER: Struct = Struct {
    name: "DataPageHeader",
    fields: &[
        required(1, "num_values", Want::I32),
        required(2, "encoding", Want::I32),
        required(3, "definition_level_encoding", Want::I32),
        required(4, "repetition_level_encoding", Want::I32),
        optional(5, "statistics", Want::Struct(&STATISTICS)),
    ],
};

const DICTIONARY_PAGE_HEADER: Struct = Struct {
    name: "DictionaryPageHeader",
    fields: &[
        required(1, "num_values", Want::I32),
        required(2, "encoding", Want::I32),
        optional(3, "is_sorted", Want::Bool),
    ],
};

const DATA_PAGE_HEADER_V2: Struct = Struct {
    name: "DataPageHeaderV2",
    fields: &[
        required(1, "num_values", Want::I32),
        required(2, "num_nulls", Want::I32),
        required(3, "num_rows", Want::I32),
        required(4, "encoding", Want::I32),
        required(5, "definition_levels_byte_length", Want::I32),
        required(6, "repetition_levels_byte_length", Want::I32),
        optional(7, "is_compressed", Want::Bool),
        optional(8, "statistics", Want::Struct(&STATISTICS)),
    ],
};

// ---------------------------------------------------------------------------------------------
// The members of `LogicalType` that have fields

const DECIMAL_TYPE: Struct = Struct {
    name: "DecimalType",
    fields: &[
        required(1, "scale", Want::I32),
        required(2, "precision", Want::I32),
    ],
};

/// `TimeType` and `TimestampType` (`unit`, a union, is checked by `footer::check_logical_type`).
const TIME_TYPE: Struct = Struct {
    name: "TimeType",
    fields: &[
        required(1, "isAdjustedToUTC", Want::Bool),
        required(2, "unit", Want::AnyStruct),
    ],
};

const INT_TYPE: Struct = Struct {
    name: "IntType",
    fields: &[
        required(1, "bitWidth", Want::Byte),
        required(2, "isSigned", Want::Bool),
    ],
};

const VARIANT_TYPE: Struct = Struct {
    name: "VariantType",
    fields: &[optional(1, "specification_version", Want::Byte)],
};

const GEOMETRY_TYPE: Struct = Struct {
    name: "GeometryType",
    fields: &[optional(1, "crs", Want::Binary)],
};

const GEOGRAPHY_TYPE: Struct = Struct {
    name: "GeographyType",
    fields: &[
        optional(1, "crs", Want::Binary),
        optional(2, "algorithm", Want::I32),
    ],
};

/// The struct of `LogicalType`'s member `id`, where it has fields the crate reads.
pub(super) fn logical_type_member(id: i16) -> Option<&'static Struct> {
    Some(match id {
        5 => &DECIMAL_TYPE,
        7 | 8 => &TIME_TYPE,
        10 => &INT_TYPE,
        16 => &VARIANT_TYPE,
        17 => &GEOMETRY_TYPE,
        18 => &GEOGRAPHY_TYPE,
        _ => return None,
    })
}
