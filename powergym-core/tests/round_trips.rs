//! Round trips per desk use case on PostgreSQL, counted by a TCP proxy between the gym
//! and the server: a round trip is a burst of bytes from the client that follows an
//! answer from the server (or opens the connection). Each use case is run once to
//! prepare its statements, then measured in steady state on a second record.
//!
//! The count covers the call alone: it runs on this test's single-threaded runtime, so
//! the pool's release check (a lone Sync sqlx sends when the connection goes back, after
//! the call has returned) cannot start before the window closes; the test then waits for
//! that check before the next call, so it is never counted in the next window either.
//! A check at checkout (a connection pinged although it was used a moment ago) would be.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::faces::face;
use common::world::{NOW, client, dec, pay, plan, sale, sold_and_paid, world};
use powergym_core::domain::consent::ConsentInput;
use powergym_core::face::Identification;
use powergym_core::{
    CheckInOutcome, DocumentType, DurationUnit, FaceCheckIn, FixedClock, Gym, GymOptions,
    PoolSettings, ProductInput,
};

/// Counts client round trips through a local TCP proxy.
struct Proxy {
    port: u16,
    armed: Arc<AtomicBool>,
    trips: Arc<AtomicU64>,
    /// Release checks seen ([`is_release_check`]), armed or not.
    pings: Arc<AtomicU64>,
}

/// sqlx's ping: a Sync message and nothing else.
const LONE_SYNC: [u8; 5] = [b'S', 0, 0, 0, 4];

/// Whether a round trip is the check sqlx makes when a connection goes back to the pool:
/// its ping, after the ROLLBACK it queues for a transaction dropped uncommitted.
fn is_release_check(bytes: &[u8]) -> bool {
    let rollback = b"ROLLBACK";
    bytes == LONE_SYNC
        || (bytes.ends_with(&LONE_SYNC)
            && bytes.first() == Some(&b'Q')
            && bytes.windows(rollback.len()).any(|w| w == rollback))
}

impl Proxy {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let trips = Arc::new(AtomicU64::new(0));
        let pings = Arc::new(AtomicU64::new(0));
        let (a, t, p) = (armed.clone(), trips.clone(), pings.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(&upstream).unwrap();
                client.set_nodelay(true).unwrap();
                server.set_nodelay(true).unwrap();
                // Whether the server spoke since the client last did: the client's next
                // bytes open a new round trip.
                let answered = Arc::new(AtomicBool::new(true));
                {
                    let (mut from, mut to) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let (answered, a, t, p) = (answered.clone(), a.clone(), t.clone(), p.clone());
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            // Counted before forwarding: the answer cannot come first.
                            if answered.swap(false, Ordering::SeqCst) {
                                if a.load(Ordering::SeqCst) {
                                    t.fetch_add(1, Ordering::SeqCst);
                                }
                                if is_release_check(&buf[..n]) {
                                    p.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Write);
                    });
                }
                {
                    let (mut from, mut to) = (server, client);
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            answered.store(true, Ordering::SeqCst);
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Write);
                    });
                }
            }
        });
        Self {
            port,
            armed,
            trips,
            pings,
        }
    }

    /// Round trips `call` makes, once its connection is back in the pool.
    async fn count<T>(&self, call: impl std::future::Future<Output = T>) -> (u64, T) {
        self.trips.store(0, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
        let out = call.await;
        // No await between the call's end and here: the release check has not started.
        self.armed.store(false, Ordering::SeqCst);
        let trips = self.trips.load(Ordering::SeqCst);
        let pings = self.pings.load(Ordering::SeqCst);
        if trips > 0 {
            // Wait (bounded, so a bug cannot hang the suite) for the release check of the
            // connection the call used last.
            for _ in 0..10_000 {
                if self.pings.load(Ordering::SeqCst) > pings {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(
                self.pings.load(Ordering::SeqCst) > pings,
                "the connection never went back to the pool"
            );
        }
        (trips, out)
    }
}

#[tokio::test]
async fn desk_use_cases_make_their_floor_of_round_trips() {
    postgres_only!();
    let w = world().await;
    let monthly = plan(&w, "monthly", "90000", DurationUnit::Month, 1).await;
    // Members with paid subscriptions: one to prepare each path, one to measure it.
    let numbers = ["1020304001", "1020304002", "1020304003", "1020304004"];
    let mut members = Vec::new();
    for n in numbers {
        let c = client(&w, n).await;
        sold_and_paid(&w, c, &monthly, None).await;
        members.push(c);
    }
    for (i, m) in members[2..].iter().enumerate() {
        w.gym
            .record_biometric_consent(
                &w.desk,
                *m,
                ConsentInput {
                    purpose: "face check-in at the front desk".into(),
                    guardian: None,
                },
            )
            .await
            .unwrap();
        w.gym
            .enroll_face(&w.desk, *m, &face(100 + i as u64), None)
            .await
            .unwrap();
    }
    let mut unpaid = Vec::new();
    for n in ["1020304005", "1020304006"] {
        let c = client(&w, n).await;
        let sub = w
            .gym
            .create_subscription(&w.desk, sale(c, &monthly, None))
            .await
            .unwrap();
        unpaid.push(sub.id);
    }
    let product = w
        .gym
        .create_product(
            &w.admin,
            ProductInput {
                name: "Water".into(),
                description: None,
                capacity_value: dec("600"),
                unit_type: "ml".into(),
                price: dec("2500"),
                currency: None,
                photo_url: None,
                min_stock: None,
                max_stock: None,
            },
        )
        .await
        .unwrap();
    w.gym
        .add_stock(&w.admin, product.id, dec("10"), None)
        .await
        .unwrap();

    // The same database through the proxy: two connections, one for the face cache's
    // notifications and one the calls share (so every statement is prepared on it),
    // and the pool's defaults otherwise (idle checks included).
    let url = url::Url::parse(&w.db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream);
    let mut proxied = url.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(proxy.port)).unwrap();
    proxied.set_query(Some("sslmode=disable"));
    let gym = Gym::connect_with(
        proxied.as_str(),
        GymOptions {
            clock: Arc::new(FixedClock(NOW.parse().unwrap())),
            pool: PoolSettings {
                max_connections: 2,
                ..PoolSettings::default()
            },
            ..GymOptions::default()
        },
    )
    .await
    .unwrap();
    let desk = gym.acting_as("desk").await.unwrap();
    gym.enable_face_cache(&desk, Default::default())
        .await
        .unwrap();
    // The cache's load ends with connections going back to the pool in the background;
    // let them, then settle on one call whose release `count` waits for. (Only the setup
    // waits on time; each measured window closes on the proxy's own evidence.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.count(gym.list_staff(&w.admin)).await.1.unwrap();

    let mut report = Vec::new();

    // Check-in by document: prepared on the first member, measured on the second.
    // Every call goes through `count`, so the next one starts after its release check.
    proxy
        .count(gym.check_in_by_document(&desk, DocumentType::Cc, numbers[0]))
        .await
        .1
        .unwrap();
    let (n, outcome) = proxy
        .count(gym.check_in_by_document(&desk, DocumentType::Cc, numbers[1]))
        .await;
    let outcome = outcome.unwrap();
    assert!(matches!(outcome, CheckInOutcome::Granted(_)), "{outcome:?}");
    report.push(("check-in by document", n, 4));

    // Payments: a whole balance, which also activates the subscription.
    proxy
        .count(gym.record_payment(&desk, pay(unpaid[0], "90000")))
        .await
        .1
        .unwrap();
    let (n, receipt) = proxy
        .count(gym.record_payment(&desk, pay(unpaid[1], "90000")))
        .await;
    receipt.unwrap();
    report.push(("payment", n, 5));

    // Sales.
    proxy
        .count(gym.sell_product(&desk, product.id, dec("1"), None))
        .await
        .1
        .unwrap();
    let (n, sold) = proxy
        .count(gym.sell_product(&desk, product.id, dec("1"), None))
        .await;
    sold.unwrap();
    report.push(("sale", n, 5));

    // Face check-in through the cache.
    let first = proxy
        .count(gym.check_in_by_face(&desk, &face(100)))
        .await
        .1
        .unwrap();
    assert!(matches!(first, FaceCheckIn::Granted { .. }), "{first:?}");
    let (n, outcome) = proxy.count(gym.check_in_by_face(&desk, &face(101))).await;
    let outcome = outcome.unwrap();
    assert!(
        matches!(outcome, FaceCheckIn::Granted { .. }),
        "{outcome:?}"
    );
    report.push(("face check-in (cache)", n, 4));

    // Identification through the cache: the scan, then one statement outside any
    // transaction (the account, the changes since the cache's mark, the proposed
    // member's template).
    proxy
        .count(gym.identify_face(&desk, &face(100)))
        .await
        .1
        .unwrap();
    let (n, found) = proxy.count(gym.identify_face(&desk, &face(101))).await;
    assert!(
        matches!(found.unwrap(), Identification::Match(c) if c.client_id == members[3]),
        "face 101 is the fourth member's"
    );
    report.push(("identify face (cache)", n, 1));

    for (name, n, floor) in &report {
        eprintln!("{name}: {n} round trips (floor {floor})");
    }
    for (name, n, floor) in report {
        assert!(n <= floor, "{name}: {n} round trips, more than {floor}");
    }
}

/// Without a check at every checkout, a connection that died in the pool is found by
/// its BEGIN: the call goes on, on another connection, as if nothing happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_while_idle_are_replaced_at_begin() {
    postgres_only!();
    let w = world().await;
    // Several pooled connections, all idle a moment later.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let (gym, admin) = (w.gym.clone(), w.admin.clone());
            tokio::spawn(async move { gym.list_staff(&admin).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let mut conn = w.db.conn().await;
    let ended: i64 = sqlx::query_scalar(
        "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid() \
           and backend_type = 'client backend') t",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(ended > 0, "the pool had connections to end");
    // Wait (bounded) until the server has really let them go.
    for _ in 0..1000 {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and pid <> pg_backend_pid() and backend_type = 'client backend'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..6 {
        w.gym.list_staff(&w.admin).await.unwrap();
        let unknown = w
            .gym
            .check_in_by_document(&w.desk, DocumentType::Cc, "1020304001")
            .await
            .unwrap_err();
        assert!(
            matches!(unknown, powergym_core::Error::NotFound { .. }),
            "{unknown:?}"
        );
    }
}
