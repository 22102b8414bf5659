//! A forward proxy on 127.0.0.1 that speaks `CONNECT`, as corporate proxies do for HTTPS: it
//! opens a tunnel to the host and port asked for and copies bytes both ways, seeing only
//! encrypted traffic. It records every request line it receives, so a test can prove the
//! client went through it. It tunnels to loopback addresses only (`localhost`, 127.0.0.0/8,
//! ::1) and refuses anything else with 403, so a test can never reach the network through it.
//! It resolves [`crate::REMOTE_NAME`] (under the reserved `.test` domain, which no DNS
//! answers) to 127.0.0.1: the stand-in for a remote server that only the proxy can reach,
//! since a client never proxies a loopback address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

/// A running proxy; stopped when dropped.
pub struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl ConnectProxy {
    /// Starts on 127.0.0.1 and an OS-chosen port.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = runtime
            .block_on(TcpListener::bind(("127.0.0.1", 0)))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("proxy address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        runtime.spawn(serve(listener, Arc::clone(&seen)));
        ConnectProxy {
            addr,
            seen,
            runtime: Some(runtime),
        }
    }

    /// The URL to put in `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request line received, in order (`CONNECT localhost:4431 HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn serve(listener: TcpListener, seen: Arc<Mutex<Vec<String>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            let _ = tunnel(stream, seen).await;
        });
    }
}

/// Serves one client connection: one `CONNECT`, then the tunnel.
async fn tunnel(mut client: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > MAX_HEAD {
            return client
                .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
                .await;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let line = text.lines().next().unwrap_or_default().to_owned();
    seen.lock().unwrap().push(line.clone());
    let mut words = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        return client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\nonly CONNECT is served\n")
            .await;
    };
    if !is_loopback(target) {
        return client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nloopback targets only\n")
            .await;
    }
    let target = match target.rsplit_once(':') {
        Some((host, port)) if host.eq_ignore_ascii_case(crate::REMOTE_NAME) => format!("127.0.0.1:{port}"),
        _ => target.to_owned(),
    };
    let mut upstream = match TcpStream::connect(target).await {
        Ok(s) => s,
        Err(_) => return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await,
    };
    client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await?;
    // Bytes the client sent after the head belong to the tunnel.
    upstream.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Whether `host:port` names this machine.
fn is_loopback(target: &str) -> bool {
    let host = target.rsplit_once(':').map_or(target, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case(crate::REMOTE_NAME)
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_targets_are_tunnelled() {
        for ok in [
            "localhost:443",
            "127.0.0.1:8",
            "127.8.9.1:1",
            "[::1]:443",
            "velt.test:443",
        ] {
            assert!(super::is_loopback(ok), "{ok}");
        }
        for bad in [
            "api.velt.dev:443",
            "10.0.0.1:443",
            "localhost.example.com:443",
            "[2001:db8::1]:443",
        ] {
            assert!(!super::is_loopback(bad), "{bad}");
        }
    }
}
