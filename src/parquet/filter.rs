//! Row filters in the pyarrow/pandas DNF form (`[("x", ">", 3), ...]` or a list of such lists):
//! pruning row groups by their statistics, then an exact boolean mask over the rows.

use arrow_arith::boolean::{and_kleene, is_null, not, or_kleene};
use arrow_array::{Array, ArrayRef, BooleanArray, Datum, RecordBatch, Scalar};
use arrow_buffer::{BooleanBuffer, BooleanBufferBuilder};
use arrow_ord::cmp;
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::RowSelection;
use parquet::file::metadata::ParquetMetaData;
use parquet::schema::types::SchemaDescriptor;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::adapters::Adapter;
use crate::array::from_py;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

impl Op {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "in" => Op::In,
            "not in" => Op::NotIn,
            "is null" | "is" => Op::IsNull,
            "is not null" | "is not" => Op::IsNotNull,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown filter operator '{other}'"
                )))
            }
        })
    }
}

/// One `(column, op, value)` term, with its literal(s) converted to the column's type.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub(crate) column: String,
    pub(crate) op: Op,
    /// The literal values (one for comparisons, any number for `in`), of the column's type.
    pub(crate) literals: Option<ArrayRef>,
}

/// An OR of ANDs of terms.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) disjuncts: Vec<Vec<Term>>,
}

fn value_type(dt: &DataType) -> &DataType {
    match dt {
        DataType::Dictionary(_, v) => v,
        other => other,
    }
}

/// What `filters` takes, for the messages that refuse something else.
const DNF: &str = "filters take pyarrow's disjunctive normal form: a list of (column, op, value) \
tuples that must all hold, e.g. [(\"passengers\", \">\", 3)], or a list of such lists of which \
any may hold, e.g. [[(\"a\", \"==\", 1)], [(\"b\", \"<\", 0)]]";

fn parse_term(obj: &Bound<'_, PyAny>, schema: &Schema) -> Result<Term> {
    let bad = || {
        let shown = obj.repr().map(|r| r.to_string()).unwrap_or_default();
        Error::InvalidInput(format!(
            "a filter term must be (column, op, value) or (column, \"is null\"), got {shown}: {DNF}"
        ))
    };
    // `(column, "is null")` is accepted too: the null tests take no value.
    let (column, op, value): (String, String, Bound<'_, PyAny>) = match obj.extract() {
        Ok(triple) => triple,
        Err(_) => {
            let (column, op): (String, String) = obj.extract().map_err(|_| bad())?;
            if !matches!(Op::parse(&op), Ok(Op::IsNull | Op::IsNotNull)) {
                return Err(bad());
            }
            (column, op, obj.py().None().into_bound(obj.py()))
        }
    };
    let op = Op::parse(&op)?;
    let field = schema
        .field_with_name(&column)
        .map_err(|_| Error::InvalidInput(format!("filter on unknown column '{column}'")))?;
    let dt = value_type(field.data_type()).clone();
    let literals = match op {
        Op::IsNull | Op::IsNotNull => None,
        Op::In | Op::NotIn => {
            if value.is_instance_of::<PyString>() {
                return Err(Error::InvalidInput(format!(
                    "'{column}' in ...: the value must be a collection, not a string"
                )));
            }
            Some(literals_of(&value, &column, &dt)?)
        }
        _ => {
            if value.is_none() {
                return Err(Error::InvalidInput(format!(
                    "comparing '{column}' with None: use 'is null' / 'is not null'"
                )));
            }
            let list = PyList::new(obj.py(), [value])?;
            Some(literals_of(list.as_any(), &column, &dt)?)
        }
    };
    Ok(Term {
        column,
        op,
        literals,
    })
}

fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
    )
}

/// The values of a term as an array of its column's type `dt`. For a date, time or timestamp
/// column, ISO 8601 strings (`"2023-11-15"`, `"2023-11-15T08:30:00"`, `"08:30"`) are read as
/// what they spell, as pandas reads them (pyarrow 26 refuses a string there): see
/// `colbridge._filters.temporal_literals`.
fn literals_of(values: &Bound<'_, PyAny>, column: &str, dt: &DataType) -> Result<ArrayRef> {
    let type_name = crate::datatype::type_name(dt);
    let what = |m: String| format!("filter on '{column}' ({type_name}): {m}");
    let items: Vec<Bound<'_, PyAny>> = values.try_iter()?.collect::<PyResult<_>>()?;
    let parsed;
    let values = if is_temporal(dt) && items.iter().any(|v| v.is_instance_of::<PyString>()) {
        let kind = match dt {
            DataType::Date32 | DataType::Date64 => "date",
            DataType::Time32(_) | DataType::Time64(_) => "time",
            _ => "timestamp",
        };
        let tz = match dt {
            DataType::Timestamp(_, tz) => tz.as_deref(),
            _ => None,
        };
        let args = (
            PyList::new(values.py(), items)?,
            column,
            &type_name,
            kind,
            tz,
        );
        parsed = Adapter::TemporalLiterals.call(values.py(), args, None)?;
        &parsed
    } else {
        values
    };
    from_py::array_from_sequence(values, Some(dt.clone())).map_err(|e| match e {
        Error::InvalidInput(m) => Error::InvalidInput(what(m)),
        Error::UnsupportedType(m) => Error::UnsupportedType(what(m)),
        other => other,
    })
}

impl Filter {
    /// Parse DNF filters against the file's Arrow schema (GIL held: literals are Python objects).
    /// A single bare term, `("x", ">", 3)`, is read as `[("x", ">", 3)]`.
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>, schema: &Schema) -> Result<Self> {
        if let Ok(text) = obj.cast::<PyString>() {
            return Err(Error::InvalidInput(format!(
                "filters cannot be a string ({}): {DNF}",
                text.repr()?
            )));
        }
        let bare_term = obj.is_instance_of::<PyTuple>()
            && obj
                .get_item(0)
                .is_ok_and(|first| first.is_instance_of::<PyString>());
        if bare_term {
            return Ok(Filter {
                disjuncts: vec![vec![parse_term(obj, schema)?]],
            });
        }
        let outer: Vec<Bound<'_, PyAny>> = obj
            .try_iter()
            .and_then(|it| it.collect())
            .map_err(|_| Error::InvalidInput(DNF.into()))?;
        if outer.is_empty() {
            return Ok(Filter { disjuncts: vec![] });
        }
        let nested = outer[0].is_instance_of::<PyList>();
        let groups: Vec<Vec<Bound<'_, PyAny>>> = if nested {
            outer
                .iter()
                .map(|g| g.try_iter().and_then(|it| it.collect()))
                .collect::<PyResult<_>>()
                .map_err(|e| Error::InvalidInput(e.to_string()))?
        } else {
            vec![outer]
        };
        let disjuncts = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|t| parse_term(t, schema))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Filter { disjuncts })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.disjuncts.is_empty()
    }

    /// Names of the columns the filter reads.
    pub(crate) fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.disjuncts.iter().flatten() {
            if !out.contains(&t.column) {
                out.push(t.column.clone());
            }
        }
        out
    }

    /// The row groups (among `candidates`) whose statistics do not rule the filter out.
    pub(crate) fn prune_row_groups(
        &self,
        candidates: &[usize],
        arrow_schema: &Schema,
        parquet_schema: &SchemaDescriptor,
        metadata: &ParquetMetaData,
    ) -> Result<Vec<usize>> {
        if self.is_empty() || candidates.is_empty() {
            return Ok(candidates.to_vec());
        }
        let groups: Vec<_> = candidates.iter().map(|&i| metadata.row_group(i)).collect();
        let n = groups.len();
        let mut any = BooleanArray::from(vec![false; n]);
        for conj in &self.disjuncts {
            let mut all = BooleanArray::from(vec![true; n]);
            for term in conj {
                let may = term_may_match(term, arrow_schema, parquet_schema, &groups, n)
                    .unwrap_or_else(|_| BooleanArray::from(vec![true; n]));
                all = and_kleene(&all, &may)?;
            }
            any = or_kleene(&any, &all)?;
        }
        Ok(candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| any.value(*i))
            .map(|(_, &rg)| rg)
            .collect())
    }

    /// A row selection over the rows of `rgs` that skips the pages whose statistics (from
    /// the page index, where the file has one) rule the filter out; `None` when nothing can be
    /// skipped.
    pub(crate) fn prune_pages(
        &self,
        rgs: &[usize],
        arrow_schema: &Schema,
        parquet_schema: &SchemaDescriptor,
        metadata: &ParquetMetaData,
    ) -> Result<Option<RowSelection>> {
        if self.is_empty() || rgs.is_empty() {
            return Ok(None);
        }
        let total: usize = rgs
            .iter()
            .map(|&rg| usize::try_from(metadata.row_group(rg).num_rows()).unwrap_or(0))
            .sum();
        let mut any = BooleanBuffer::new_unset(total);
        for conj in &self.disjuncts {
            let mut all = BooleanBuffer::new_set(total);
            for term in conj {
                if let Ok(Some(rows)) =
                    term_page_rows(term, arrow_schema, parquet_schema, metadata, rgs)
                {
                    if rows.len() == total {
                        all = &all & &rows;
                    }
                }
            }
            any = &any | &all;
        }
        if any.count_set_bits() == total {
            return Ok(None);
        }
        Ok(Some(RowSelection::from_filters(&[BooleanArray::new(
            any, None,
        )])))
    }

    /// The exact row mask over a batch holding (at least) the filter's columns.
    pub(crate) fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let n = batch.num_rows();
        let mut any = BooleanArray::from(vec![false; n]);
        for conj in &self.disjuncts {
            let mut all = BooleanArray::from(vec![true; n]);
            for term in conj {
                let col = batch.column_by_name(&term.column).ok_or_else(|| {
                    Error::InvalidInput(format!("filter column '{}' missing", term.column))
                })?;
                all = arrow_arith::boolean::and(&all, &definite(&eval_term(term, col)?))?;
            }
            any = arrow_arith::boolean::or(&any, &all)?;
        }
        Ok(any)
    }
}

/// Null (unknown) results count as "does not match" for rows.
fn definite(mask: &BooleanArray) -> BooleanArray {
    if mask.null_count() == 0 {
        return mask.clone();
    }
    let values = mask.values()
        & &mask
            .nulls()
            .map(|n| n.inner().clone())
            .unwrap_or_else(|| arrow_buffer::BooleanBuffer::new_set(mask.len()));
    BooleanArray::new(values, None)
}

/// Null (unknown) results count as "may match" for statistics.
fn possible(mask: &BooleanArray) -> BooleanArray {
    match mask.nulls() {
        None => mask.clone(),
        Some(n) => BooleanArray::new(mask.values() | &!n.inner(), None),
    }
}

fn compare(op: Op, left: &dyn Datum, right: &dyn Datum) -> Result<BooleanArray> {
    Ok(match op {
        Op::Eq => cmp::eq(left, right)?,
        Op::Ne => cmp::neq(left, right)?,
        Op::Lt => cmp::lt(left, right)?,
        Op::Le => cmp::lt_eq(left, right)?,
        Op::Gt => cmp::gt(left, right)?,
        Op::Ge => cmp::gt_eq(left, right)?,
        _ => return Err(Error::InvalidInput("not a comparison".into())),
    })
}

fn scalar_at(values: &ArrayRef, i: usize, dt: &DataType) -> Result<Scalar<ArrayRef>> {
    let one = values.slice(i, 1);
    let one = if one.data_type() == dt {
        one
    } else {
        arrow_cast::cast(&one, dt)?
    };
    Ok(Scalar::new(one))
}

fn eval_term(term: &Term, col: &ArrayRef) -> Result<BooleanArray> {
    let col = match col.data_type() {
        DataType::Dictionary(_, v) => arrow_cast::cast(col, v)?,
        _ => col.clone(),
    };
    let dt = col.data_type().clone();
    match term.op {
        Op::IsNull => Ok(is_null(&col)?),
        Op::IsNotNull => Ok(not(&is_null(&col)?)?),
        Op::In | Op::NotIn => {
            let lits = term
                .literals
                .as_ref()
                .ok_or_else(|| Error::InvalidInput("missing values".into()))?;
            let mut hit = BooleanArray::from(vec![false; col.len()]);
            for i in 0..lits.len() {
                if lits.is_valid(i) {
                    hit = arrow_arith::boolean::or(
                        &hit,
                        &definite(&cmp::eq(&col, &scalar_at(lits, i, &dt)?)?),
                    )?;
                }
            }
            if term.op == Op::NotIn {
                // pyarrow and pandas (`~isin`): a null is "not in" the values.
                hit = not(&hit)?;
            }
            Ok(hit)
        }
        op => {
            let lits = term
                .literals
                .as_ref()
                .ok_or_else(|| Error::InvalidInput("missing value".into()))?;
            compare(op, &col, &scalar_at(lits, 0, &dt)?)
        }
    }
}

/// Min/max/null-count statistics of some units (row groups or pages) of one column.
struct UnitStats {
    mins: ArrayRef,
    maxes: ArrayRef,
    null_counts: Option<arrow_array::UInt64Array>,
    n: usize,
}

/// Which units may hold rows matching `term` (unknown statistics: "may").
fn may_match(term: &Term, stats: &UnitStats) -> Result<BooleanArray> {
    let n = stats.n;
    let all_true = || BooleanArray::from(vec![true; n]);
    let mins = unwrap_dictionary(stats.mins.clone())?;
    let maxes = unwrap_dictionary(stats.maxes.clone())?;
    let dt = mins.data_type().clone();
    let lits = term.literals.as_ref();
    let range = |op: Op, i: usize| -> Result<BooleanArray> {
        let lit = scalar_at(
            lits.ok_or_else(|| Error::InvalidInput("missing value".into()))?,
            i,
            &dt,
        )?;
        Ok(possible(&match op {
            Op::Eq => and_kleene(&cmp::lt_eq(&mins, &lit)?, &cmp::gt_eq(&maxes, &lit)?)?,
            Op::Lt => cmp::lt(&mins, &lit)?,
            Op::Le => cmp::lt_eq(&mins, &lit)?,
            Op::Gt => cmp::gt(&maxes, &lit)?,
            Op::Ge => cmp::gt_eq(&maxes, &lit)?,
            _ => all_true(),
        }))
    };
    match term.op {
        Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge => range(term.op, 0),
        Op::In => {
            let lits = lits.ok_or_else(|| Error::InvalidInput("missing values".into()))?;
            let mut any = BooleanArray::from(vec![false; n]);
            for i in 0..lits.len() {
                if lits.is_valid(i) {
                    any = arrow_arith::boolean::or(&any, &range(Op::Eq, i)?)?;
                }
            }
            Ok(any)
        }
        Op::IsNull => match &stats.null_counts {
            Some(nulls) => {
                let zero = arrow_array::UInt64Array::new_scalar(0);
                Ok(possible(&cmp::gt(nulls, &zero)?))
            }
            None => Ok(all_true()),
        },
        Op::Ne | Op::NotIn | Op::IsNotNull => Ok(all_true()),
    }
}

fn term_may_match(
    term: &Term,
    arrow_schema: &Schema,
    parquet_schema: &SchemaDescriptor,
    groups: &[&parquet::file::metadata::RowGroupMetaData],
    n: usize,
) -> Result<BooleanArray> {
    let conv = StatisticsConverter::try_new(&term.column, arrow_schema, parquet_schema)?;
    if conv.parquet_column_index().is_none() {
        return Ok(BooleanArray::from(vec![true; n]));
    }
    let stats = UnitStats {
        mins: conv.row_group_mins(groups.iter().copied())?,
        maxes: conv.row_group_maxes(groups.iter().copied())?,
        null_counts: conv.row_group_null_counts(groups.iter().copied()).ok(),
        n,
    };
    may_match(term, &stats)
}

/// Per-row "may match" of one term, from the page index of its column (`None` without one):
/// rows of pages whose statistics rule the term out are `false`.
fn term_page_rows(
    term: &Term,
    arrow_schema: &Schema,
    parquet_schema: &SchemaDescriptor,
    metadata: &ParquetMetaData,
    rgs: &[usize],
) -> Result<Option<BooleanBuffer>> {
    let (Some(column_index), Some(offset_index)) =
        (metadata.column_index(), metadata.offset_index())
    else {
        return Ok(None);
    };
    let conv = StatisticsConverter::try_new(&term.column, arrow_schema, parquet_schema)?;
    let Some(leaf) = conv.parquet_column_index() else {
        return Ok(None);
    };
    // Row ranges of every page of the column, in row-group order.
    let mut page_rows: Vec<usize> = Vec::new();
    for &rg in rgs {
        let rows = usize::try_from(metadata.row_group(rg).num_rows()).unwrap_or(0);
        let Some(locations) = offset_index.get(rg).and_then(|cols| cols.get(leaf)) else {
            return Ok(None);
        };
        let starts: Vec<usize> = locations
            .page_locations()
            .iter()
            .map(|p| usize::try_from(p.first_row_index).unwrap_or(0))
            .collect();
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(rows);
            page_rows.push(end.saturating_sub(start));
        }
    }
    let n = page_rows.len();
    let stats = UnitStats {
        mins: conv.data_page_mins(column_index, offset_index, rgs.iter())?,
        maxes: conv.data_page_maxes(column_index, offset_index, rgs.iter())?,
        null_counts: conv
            .data_page_null_counts(column_index, offset_index, rgs.iter())
            .ok(),
        n,
    };
    if stats.mins.len() != n || stats.maxes.len() != n {
        return Ok(None);
    }
    let may = may_match(term, &stats)?;
    let mut rows = BooleanBufferBuilder::new(page_rows.iter().sum());
    for (k, &len) in page_rows.iter().enumerate() {
        rows.append_n(len, may.value(k));
    }
    Ok(Some(rows.finish()))
}

fn unwrap_dictionary(a: ArrayRef) -> Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Dictionary(_, v) => arrow_cast::cast(&a, v)?,
        _ => a,
    })
}
