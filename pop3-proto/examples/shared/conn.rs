//! A connection that is plain TCP, or TLS on top of it (implicit, or after STLS).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Plain or TLS, server or client side.
pub enum Conn {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS, server side.
    ServerTls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// TLS, client side.
    ClientTls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Between the two, during a handshake.
    Upgrading,
}

impl Conn {
    /// Whether TLS is on.
    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::ServerTls(_) | Conn::ClientTls(_))
    }

    /// Takes the plain stream out for a TLS handshake.
    pub fn take_plain(&mut self) -> io::Result<TcpStream> {
        match std::mem::replace(self, Conn::Upgrading) {
            Conn::Plain(tcp) => Ok(tcp),
            other => {
                *self = other;
                Err(io::Error::other("the connection is not plain TCP"))
            }
        }
    }
}

fn upgrading() -> io::Error {
    io::Error::other("the connection is being upgraded")
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Conn::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

/// Writes every slice, using vectored writes.
pub async fn write_all_vectored(conn: &mut Conn, chunks: &[bytes::Bytes]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut index = 0;
    let mut offset = 0;
    while index < chunks.len() {
        let slices: Vec<io::IoSlice<'_>> = chunks[index..]
            .iter()
            .enumerate()
            .map(|(i, c)| io::IoSlice::new(if i == 0 { &c[offset..] } else { &c[..] }))
            .take(64)
            .collect();
        let mut n = conn.write_vectored(&slices).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while index < chunks.len() && n > 0 {
            let left = chunks[index].len() - offset;
            if n >= left {
                n -= left;
                index += 1;
                offset = 0;
            } else {
                offset += n;
                n = 0;
            }
        }
    }
    conn.flush().await
}
