//! The inputs the body decoder reads from (`BytesMut`, `Bytes`, `&[u8]`) and the
//! pieces it cuts from each.

use bytes::{Buf, Bytes, BytesMut};

use super::BodyPiece;

/// Input buffers the decoder consumes from the front of, and the pieces it cuts from
/// them. The `Bytes` and `BytesMut` inputs differ only in how they cut a piece.
pub(super) trait Input: AsRef<[u8]> + Buf {
    /// A piece of the body as handed out: a `Bytes` handle or a borrowed slice.
    type Piece;
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_ref()
    }
    fn take(&mut self, n: usize) -> Self::Piece;
    #[inline]
    fn skip(&mut self, n: usize) {
        self.advance(n);
    }
    fn from_static(bytes: &'static [u8]) -> Self::Piece;
}

impl Input for BytesMut {
    type Piece = Bytes;
    #[inline]
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n).freeze()
    }
    #[inline]
    fn from_static(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }
}

impl Input for Bytes {
    type Piece = Bytes;
    #[inline]
    fn take(&mut self, n: usize) -> Bytes {
        // `slice` is generic, so it can be inlined here, unlike `split_to`.
        let out = self.slice(..n);
        self.advance(n);
        out
    }
    #[inline]
    fn from_static(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }
}

impl<'a> Input for &'a [u8] {
    type Piece = &'a [u8];
    #[inline]
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.split_at(n.min(self.len()));
        *self = tail;
        head
    }
    #[inline]
    fn skip(&mut self, n: usize) {
        *self = self.get(n..).unwrap_or_default();
    }
    #[inline]
    fn from_static(bytes: &'static [u8]) -> &'a [u8] {
        bytes
    }
}

/// What [`BodyDecoder`] hands out, over any input type.
pub(super) enum Piece<P> {
    Data(P),
    End,
    NeedMore,
}

/// The public form of a piece cut from a `Bytes` or `BytesMut` input.
#[inline]
pub(super) fn body_piece(piece: Piece<Bytes>) -> BodyPiece {
    match piece {
        Piece::Data(data) => BodyPiece::Data(data),
        Piece::End => BodyPiece::End,
        Piece::NeedMore => BodyPiece::NeedMore,
    }
}
