//! The Arrow schema that Arrow writers embed in a Parquet footer (`ARROW:schema`: base64 of an
//! Arrow IPC message holding a `Schema`), decoded with arrow-ipc.
//!
//! arrow-rs applies it as a hint, but drops a timestamp's time zone when the stored unit differs
//! from the hinted one (seconds stored as milliseconds, `coerce_timestamps`) and reports `UTC`;
//! pyarrow keeps the stored zone. `read::adjust_field` uses this schema to do the same.

use arrow_schema::Schema;
use base64::Engine;

/// The embedded schema, or `None` when it is absent or unreadable (the hint is then not applied).
pub fn decode_arrow_schema(encoded: &str) -> Option<Schema> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded.trim()))
        .ok()?;
    // arrow-ipc parses untrusted flatbuffers with verification; a panic is still caught by the
    // caller's guard, but keep this path panic-free too.
    std::panic::catch_unwind(|| arrow_ipc::convert::try_schema_from_ipc_buffer(&bytes).ok())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field, TimeUnit};
    use base64::Engine;

    #[test]
    fn reads_back_an_embedded_schema_with_its_time_zone() {
        let schema = Schema::new(vec![Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Second, Some("Asia/Tokyo".into())),
            true,
        )]);
        let data_gen = arrow_ipc::writer::IpcDataGenerator::default();
        let mut tracker = arrow_ipc::writer::DictionaryTracker::new(true);
        let encoded = data_gen.schema_to_bytes_with_dictionary_tracker(
            &schema,
            &mut tracker,
            &arrow_ipc::writer::IpcWriteOptions::default(),
        );
        let mut framed = vec![0xff, 0xff, 0xff, 0xff];
        framed.extend_from_slice(&(encoded.ipc_message.len() as i32).to_le_bytes());
        framed.extend_from_slice(&encoded.ipc_message);
        let text = base64::engine::general_purpose::STANDARD.encode(framed);
        assert_eq!(decode_arrow_schema(&text), Some(schema));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(decode_arrow_schema("not base64 at all!"), None);
        assert_eq!(decode_arrow_schema("AAAA"), None);
        assert_eq!(decode_arrow_schema(""), None);
    }
}
