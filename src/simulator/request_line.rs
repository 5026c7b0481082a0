//! Accepting `ws://host:port?token=…` from every client.
//!
//! Most WebSocket clients turn a URL without a path into the request line `GET /?token=…`, but
//! some (tungstenite among them) send `GET ?token=…`, which the upgrade parser rejects. Clients
//! use both URL forms against the real cloud (`docs/anova-protocol.md` §1.1), so before the upgrade
//! we put the missing `/` back: [`normalise_request_line`] wraps the socket in a
//! [`PrefixedStream`] that replays the corrected start of the request.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The request line of a path-less URL.
const PATHLESS: &[u8] = b"GET ?";

/// A TCP stream with a few bytes to be read before the socket's own.
pub(crate) struct PrefixedStream {
    prefix: Vec<u8>,
    read: usize,
    inner: TcpStream,
}

impl PrefixedStream {
    /// The socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.inner
    }
}

/// Waits for the start of the request and, when it is `GET ?…`, makes it `GET /?…`.
pub(crate) async fn normalise_request_line(mut stream: TcpStream) -> io::Result<PrefixedStream> {
    let mut head = [0u8; PATHLESS.len()];
    loop {
        let n = stream.peek(&mut head).await?;
        if n == 0 || n == head.len() || head[..n] != PATHLESS[..n] {
            break;
        }
        // Only part of `GET ?` has arrived; it will not take long (the caller has a timeout).
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let prefix = if head == PATHLESS {
        let mut method = [0u8; 4];
        stream.read_exact(&mut method).await?;
        b"GET /".to_vec()
    } else {
        Vec::new()
    };
    Ok(PrefixedStream {
        prefix,
        read: 0,
        inner: stream,
    })
}

impl AsyncRead for PrefixedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read < this.prefix.len() {
            let rest = &this.prefix[this.read..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PrefixedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    async fn through(request: &'static [u8]) -> Vec<u8> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut socket = TcpStream::connect(address).await.unwrap();
            // In two pieces, to exercise the partial peek.
            socket.write_all(&request[..2]).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
            socket.write_all(&request[2..]).await.unwrap();
            socket.shutdown().await.unwrap();
        });
        let (stream, _) = listener.accept().await.unwrap();
        let mut stream = normalise_request_line(stream).await.unwrap();
        let mut seen = Vec::new();
        stream.read_to_end(&mut seen).await.unwrap();
        client.await.unwrap();
        seen
    }

    #[tokio::test]
    async fn a_pathless_request_line_gets_its_slash() {
        assert_eq!(
            through(b"GET ?token=x HTTP/1.1\r\n\r\n").await,
            b"GET /?token=x HTTP/1.1\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn other_requests_pass_unchanged() {
        assert_eq!(
            through(b"GET /?token=x HTTP/1.1\r\n\r\n").await,
            b"GET /?token=x HTTP/1.1\r\n\r\n"
        );
        assert_eq!(through(b"POST ?x\r\n").await, b"POST ?x\r\n");
    }
}
