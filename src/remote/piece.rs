//! What a piece of a response is kept in: pages of its own (an anonymous mapping), given back
//! to the OS the moment the piece is dropped, whichever thread drops it.
//!
//! A piece is filled on an I/O thread and dropped on a decoding thread. From the allocator, a
//! block freed by another thread than the one that took it waits on that thread's list until
//! it next allocates or collects: the decoded pieces of a read stayed resident after it
//! (`benches/s3_read.py`, one column: 1.56-1.87x the output after the read, against 1.11x for
//! the same read of a local file), and purging from the decoding threads did not reach them.

use bytes::Bytes;
use memmap2::MmapMut;

/// A piece being filled: `len` bytes written of the mapping's.
pub(super) struct Piece {
    map: MmapMut,
    len: usize,
}

impl Piece {
    /// Room for `capacity` bytes (the caller bounds it: a piece is at most `PIECE_MAX`).
    pub(super) fn new(capacity: usize) -> std::io::Result<Piece> {
        Ok(Piece {
            map: MmapMut::map_anon(capacity.max(1))?,
            len: 0,
        })
    }

    /// Append the head of `bytes` that fits; how many bytes that was.
    pub(super) fn fill(&mut self, bytes: &[u8]) -> usize {
        let take = bytes.len().min(self.map.len() - self.len);
        self.map[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
        take
    }

    /// The bytes written, owning the mapping (unmapped when the last slice of them goes).
    pub(super) fn freeze(self) -> Bytes {
        let len = self.len;
        Bytes::from_owner(self.map).slice(..len)
    }
}

#[cfg(test)]
mod tests {
    use super::Piece;

    #[test]
    fn fills_up_to_capacity_and_freezes_what_was_written() {
        let mut piece = Piece::new(10).expect("map");
        assert_eq!(piece.fill(b"abcd"), 4);
        assert_eq!(piece.fill(b"efghijklmn"), 6);
        assert_eq!(piece.fill(b"x"), 0);
        let bytes = piece.freeze();
        assert_eq!(&bytes[..], b"abcdefghij");
        let mut short = Piece::new(8).expect("map");
        short.fill(b"xyz");
        assert_eq!(&short.freeze()[..], b"xyz");
    }
}
