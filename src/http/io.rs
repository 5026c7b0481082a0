//! A connection's socket with a deadline on stalled writes: a client that stops reading its
//! responses holds a connection (and its buffers) only for [`StallGuard::timeout`], not for as
//! long as it likes.
//!
//! Reads are not timed here: hyper's header-read timer covers a silent or trickling client
//! (`listener.rs`), a command body has its own deadline (`rest::command`), and an upgraded
//! stream connection is kept alive by its heartbeat.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner` whose writes fail with `TimedOut` once one of them has made no progress for
/// `timeout`.
pub(super) struct StallGuard<T> {
    inner: T,
    /// How long a write may make no progress.
    timeout: Duration,
    /// Armed while a write is stalled; kept between stalls so a stall allocates nothing.
    timer: Pin<Box<Sleep>>,
    /// The timer is counting a stall that is still going on.
    armed: bool,
}

impl<T> StallGuard<T> {
    /// `inner`, with `timeout` for a stalled write.
    pub(super) fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            timer: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
        }
    }

    /// Passes on what a write returned; a stall arms the timer (once), progress disarms it,
    /// and a stall longer than the timeout is an error.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if result.is_ready() {
            self.armed = false;
            return result;
        }
        if !self.armed {
            self.armed = true;
            self.timer.as_mut().reset(Instant::now() + self.timeout);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_that_stalls_too_long_fails_and_progress_resets_the_clock() {
        // A pipe whose reader takes nothing: the writer fills it, then stalls.
        let (writer, mut reader) = tokio::io::duplex(16);
        let mut guarded = StallGuard::new(writer, Duration::from_secs(10));
        guarded.write_all(&[0; 16]).await.unwrap();

        // Some progress after 9 s: the clock starts again.
        let write = tokio::spawn(async move {
            let result = guarded.write_all(&[1; 32]).await;
            (guarded, result)
        });
        tokio::time::sleep(Duration::from_secs(9)).await;
        let mut first = [0; 16];
        tokio::io::AsyncReadExt::read_exact(&mut reader, &mut first)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert!(
            !write.is_finished(),
            "a write making progress is not cut off"
        );

        // Then nothing for 10 s.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (_, result) = write.await.unwrap();
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
