//! The inputs the body decoder reads from (`BytesMut`, `Bytes`, `&[u8]`) and the
//! pieces it cuts from each.

use bytes::{Buf, Bytes, BytesMut};

use super::BodyPiece;

/// Input buffers the decoder consumes from the front of, and the pieces it cuts from
/// them.
pub(super) trait Input {
    /// A piece of the body as handed out: a `Bytes` handle or a borrowed slice.
    type Piece;
    fn bytes(&self) -> &[u8];
    fn take(&mut self, n: usize) -> Self::Piece;
    fn skip(&mut self, n: usize);
    fn from_static(bytes: &'static [u8]) -> Self::Piece;
}

impl Input for BytesMut {
    type Piece = Bytes;
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline]
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n).freeze()
    }
    #[inline]
    fn skip(&mut self, n: usize) {
        self.advance(n);
    }
    #[inline]
    fn from_static(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }
}

impl Input for Bytes {
    type Piece = Bytes;
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
    #[inline]
    fn take(&mut self, n: usize) -> Bytes {
        // `slice` is generic, so it can be inlined here, unlike `split_to`.
        let out = self.slice(..n);
        self.advance(n);
        out
    }
    #[inline]
    fn skip(&mut self, n: usize) {
        self.advance(n);
    }
    #[inline]
    fn from_static(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }
}

impl<'a> Input for &'a [u8] {
    type Piece = &'a [u8];
    #[inline]
    fn bytes(&self) -> &[u8] {
        self
    }
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
