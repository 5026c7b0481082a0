//! mosquitto, started by the soak on a free port and restarted (without persistence, so every
//! retained message is gone) as a fault.

use anyhow::{bail, Context};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running mosquitto.
pub(crate) struct Mosquitto {
    binary: PathBuf,
    conf: PathBuf,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    child: Option<Child>,
}

fn binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file())
        .context("the soak needs mosquitto (apt-get install mosquitto)")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Mosquitto {
    /// Starts mosquitto on a free port; its config lives in `dir`.
    pub(crate) fn start(dir: &Path) -> anyhow::Result<Self> {
        let binary = binary()?;
        for _ in 0..5 {
            let port = free_port()?;
            let conf = dir.join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!(
                    "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                     max_queued_messages 10000\n"
                ),
            )?;
            let mut broker = Self {
                binary: binary.clone(),
                conf,
                port,
                child: None,
            };
            if broker.spawn().is_ok() {
                return Ok(broker);
            }
        }
        bail!("mosquitto did not start")
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let mut child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run mosquitto")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..300 {
            if let Ok(Some(_)) = child.try_wait() {
                bail!("mosquitto exited (port {} taken?)", self.port);
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        bail!("mosquitto did not listen on {}", self.port)
    }

    /// Kills the broker (every client sees its connection drop).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub(crate) fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let mut last = None;
        for _ in 0..50 {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("mosquitto did not restart")))
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}
