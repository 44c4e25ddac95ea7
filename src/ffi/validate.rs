//! Full validation of imported Arrow data, before colbridge hands out any view of it.
//!
//! arrow-rs imports through the C data interface without validating, and producers do not
//! promise valid data either: pyarrow's cheap `Validate()` accepts string_view views past their
//! buffer, decreasing offsets and out-of-range dictionary indices, which only its
//! `ValidateFull()` refuses. Converting such an array reads out of bounds or returns wrong
//! values, so every imported array is validated here as arrow-rs' `validate_full` does (offsets
//! monotonic and in bounds, views in bounds with valid buffer indices, dictionary keys in range,
//! UTF-8, child lengths, null counts, union type ids) and as pyarrow's `ValidateFull` does for
//! decimals (values within their precision), node by node so that an error names the column
//! (`column 'a.item'`) and the violation.
//!
//! Cost (measured in `benches/handoff.py`): nothing that grows with the data for fixed-width
//! columns beyond a popcount of the validity bitmap; one pass over the offsets, views or keys of
//! string, list and dictionary columns, plus one UTF-8 pass over string bytes.

use std::fmt;
use std::panic::AssertUnwindSafe;

use arrow_array::types::{
    Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type, DecimalType,
};
use arrow_array::PrimitiveArray;
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType};

use super::layout::children_of;
use crate::datatype::type_name;
use crate::error::{panic_message, Error, Result};

/// Where in an imported value a problem is: a top-level field's name and the names below it,
/// shown as `column 'a.item'`; an unnamed array is `the imported array`.
#[derive(Debug, Default, Clone)]
pub(crate) struct ColumnPath(Vec<String>);

impl ColumnPath {
    pub(crate) fn new(root: &str) -> Self {
        Self(vec![root.to_string()])
    }

    pub(crate) fn push(&mut self, name: &str) {
        self.0.push(name.to_string());
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }
}

impl fmt::Display for ColumnPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named: Vec<&str> = self
            .0
            .iter()
            .map(String::as_str)
            .filter(|n| !n.is_empty())
            .collect();
        if named.is_empty() {
            f.write_str("the imported array")
        } else {
            write!(f, "column '{}'", named.join("."))
        }
    }
}

/// Validate `data` and everything below it, children first so that a problem is reported at
/// the deepest column it is in.
pub(super) fn validate(data: &ArrayData, path: &mut ColumnPath) -> Result<()> {
    let dt = data.data_type();
    let mut names: Vec<&str> = children_of(dt).into_iter().map(|(n, _)| n).collect();
    if let DataType::Dictionary(..) = dt {
        names.push("dictionary");
    }
    for (child, name) in data.child_data().iter().zip(names) {
        path.push(name);
        validate(child, path)?;
        path.pop();
    }
    if let DataType::Struct(fields) = dt {
        // arrow-rs slices each child to the parent's offset and length when it builds the array.
        let needed = data.offset().saturating_add(data.len());
        for (child, field) in data.child_data().iter().zip(fields.iter()) {
            if child.len() < needed {
                return Err(Error::InvalidInput(format!(
                    "invalid Arrow data in {path} (struct): its field '{}' has {} values, fewer \
                     than the struct's offset {} plus length {}",
                    field.name(),
                    child.len(),
                    data.offset(),
                    data.len()
                )));
            }
        }
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        data.validate_data()?;
        validate_decimals(data)
    }));
    let reason = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(ArrowError::InvalidArgumentError(m))) => m,
        Ok(Err(other)) => other.to_string(),
        Err(payload) => panic_message(payload.as_ref()),
    };
    Err(Error::InvalidInput(format!(
        "invalid Arrow data in {path} ({}): {reason}",
        type_name(dt)
    )))
}

/// Decimal values within their declared precision, as pyarrow's `ValidateFull` requires (arrow-rs'
/// validation does not look): a value with more digits would be printed and converted wrongly.
/// One node; the IPC reader applies it to what it decodes, too.
pub(crate) fn validate_decimals(data: &ArrayData) -> std::result::Result<(), ArrowError> {
    fn check<T: DecimalType>(
        data: &ArrayData,
        precision: u8,
    ) -> std::result::Result<(), ArrowError> {
        PrimitiveArray::<T>::from(data.clone()).validate_decimal_precision(precision)
    }
    match data.data_type() {
        DataType::Decimal32(p, _) => check::<Decimal32Type>(data, *p),
        DataType::Decimal64(p, _) => check::<Decimal64Type>(data, *p),
        DataType::Decimal128(p, _) => check::<Decimal128Type>(data, *p),
        DataType::Decimal256(p, _) => check::<Decimal256Type>(data, *p),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_names_the_column_and_the_fields_below_it() {
        let mut path = ColumnPath::new("");
        assert_eq!(path.to_string(), "the imported array");
        path.push("a");
        path.push("item");
        assert_eq!(path.to_string(), "column 'a.item'");
        path.pop();
        assert_eq!(path.to_string(), "column 'a'");
        assert_eq!(ColumnPath::new("x").to_string(), "column 'x'");
    }
}
