//! A counting, delaying TCP proxy for the desk comparison (`scripts/desk.sh`).
//!
//! ```text
//! rtproxy --listen 127.0.0.1:6543 --upstream 127.0.0.1:5432 --control 127.0.0.1:6544
//! ```
//!
//! Forwards every connection to the upstream server. Each chunk the client sends is held
//! back until `delay` after it was read, in order, so that every request burst pays the
//! added latency once, as a farther server would make it. A round trip is counted each
//! time a client sends after having received something on that connection (the first
//! send of a connection counts too), so a pipelined burst of messages counts once and a
//! statement that waits for its answer counts each time.
//!
//! The control port answers one line per command, each reply one JSON line:
//! `get` (counters), `reset` (counters to zero, then as `get`), `delay <microseconds>`
//! (the delay for chunks read from then on). Plain threads and blocking sockets: a
//! `std::thread::sleep` wakes within tens of microseconds, where a runtime's timer
//! wheel rounds a 1 ms delay up to its next tick.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Counters and the delay, shared by every connection and the control port.
#[derive(Default)]
struct Shared {
    delay_us: AtomicU64,
    round_trips: AtomicU64,
    client_chunks: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    connections: AtomicU64,
}

impl Shared {
    fn json(&self) -> String {
        format!(
            "{{\"round_trips\":{},\"client_chunks\":{},\"bytes_up\":{},\"bytes_down\":{},\
             \"connections\":{},\"delay_us\":{}}}",
            self.round_trips.load(Ordering::SeqCst),
            self.client_chunks.load(Ordering::SeqCst),
            self.bytes_up.load(Ordering::SeqCst),
            self.bytes_down.load(Ordering::SeqCst),
            self.connections.load(Ordering::SeqCst),
            self.delay_us.load(Ordering::SeqCst),
        )
    }

    fn reset(&self) {
        for counter in [
            &self.round_trips,
            &self.client_chunks,
            &self.bytes_up,
            &self.bytes_down,
            &self.connections,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

fn main() {
    let mut listen = "127.0.0.1:6543".to_owned();
    let mut upstream = "127.0.0.1:5432".to_owned();
    let mut control = "127.0.0.1:6544".to_owned();
    let mut delay_us = 0_u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&flag));
        match flag.as_str() {
            "--listen" => listen = value,
            "--upstream" => upstream = value,
            "--control" => control = value,
            "--delay-us" => delay_us = value.parse().unwrap_or_else(|_| usage(&flag)),
            _ => usage(&flag),
        }
    }
    let shared = Arc::new(Shared::default());
    shared.delay_us.store(delay_us, Ordering::SeqCst);

    let control_listener = TcpListener::bind(&control).unwrap_or_else(|e| fail("control port", e));
    let ctl_shared = Arc::clone(&shared);
    thread::spawn(move || {
        for stream in control_listener.incoming().flatten() {
            let shared = Arc::clone(&ctl_shared);
            thread::spawn(move || serve_control(stream, &shared));
        }
    });

    let listener = TcpListener::bind(&listen).unwrap_or_else(|e| fail("listen port", e));
    eprintln!("rtproxy: {listen} -> {upstream}, control on {control}");
    for client in listener.incoming().flatten() {
        let server = match TcpStream::connect(&upstream) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rtproxy: upstream {upstream}: {e}");
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            if let Err(e) = relay(client, server, shared) {
                eprintln!("rtproxy: connection: {e}");
            }
        });
    }
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "rtproxy: bad argument {flag}\nusage: rtproxy [--listen ADDR] [--upstream ADDR] \
         [--control ADDR] [--delay-us N]"
    );
    std::process::exit(2)
}

fn fail(what: &str, e: std::io::Error) -> ! {
    eprintln!("rtproxy: {what}: {e}");
    std::process::exit(1)
}

fn serve_control(stream: TcpStream, shared: &Shared) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let mut words = line.split_whitespace();
        let reply = match (words.next(), words.next()) {
            (Some("get"), None) => shared.json(),
            (Some("reset"), None) => {
                shared.reset();
                shared.json()
            }
            (Some("delay"), Some(us)) => match us.parse::<u64>() {
                Ok(us) => {
                    shared.delay_us.store(us, Ordering::SeqCst);
                    shared.json()
                }
                Err(_) => "{\"error\":\"delay takes microseconds\"}".to_owned(),
            },
            _ => "{\"error\":\"commands: get, reset, delay <us>\"}".to_owned(),
        };
        if writeln!(out, "{reply}").is_err() {
            return;
        }
    }
}

/// One connection: a reader and a delayed writer for client → server, a plain copy for
/// server → client. Returns when the client side closes.
fn relay(client: TcpStream, server: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    // Set by the server side, cleared by the next client send, which then counts.
    let answered = Arc::new(AtomicBool::new(true));

    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let mut up_in = client.try_clone()?;
    let up_shared = Arc::clone(&shared);
    let up_answered = Arc::clone(&answered);
    let reader = thread::spawn(move || {
        let mut buf = vec![0_u8; 64 * 1024];
        loop {
            let n = match up_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let due =
                Instant::now() + Duration::from_micros(up_shared.delay_us.load(Ordering::SeqCst));
            if up_answered.swap(false, Ordering::SeqCst) {
                up_shared.round_trips.fetch_add(1, Ordering::SeqCst);
            }
            up_shared.client_chunks.fetch_add(1, Ordering::SeqCst);
            up_shared.bytes_up.fetch_add(n as u64, Ordering::SeqCst);
            if tx.send((due, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });

    let mut up_out = server.try_clone()?;
    let writer = thread::spawn(move || {
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if up_out.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = up_out.shutdown(Shutdown::Write);
    });

    let mut down_in = server;
    let mut down_out = client;
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = match down_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        shared.bytes_down.fetch_add(n as u64, Ordering::SeqCst);
        answered.store(true, Ordering::SeqCst);
        if down_out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = down_out.shutdown(Shutdown::Both);
    let _ = down_in.shutdown(Shutdown::Both);
    let _ = reader.join();
    let _ = writer.join();
    Ok(())
}
