//! Fault injection: server connections are terminated at random while staff pay, sell,
//! check in and restock. Whatever each call answered, afterwards no write is half done:
//! the ledger and the balances agree and every invariant holds, and the pool recovers.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::world::{client, dec, pay, plan, sale, scalar, world};
use powergym_core::{DurationUnit, Error, ProductInput};
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;

/// A small deterministic generator, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_mid_call_leave_no_partial_write() {
    let w = world().await;
    let monthly = plan(&w, "monthly", "90000", DurationUnit::Month, 1).await;
    let mut subs = Vec::new();
    let mut clients = Vec::new();
    for i in 0..12 {
        let c = client(&w, &format!("10203040{i:02}")).await;
        clients.push(c);
        let sub = w
            .gym
            .create_subscription(&w.desk, sale(c, &monthly, None))
            .await
            .unwrap();
        subs.push(sub.id);
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
        .add_stock(&w.admin, product.id, dec("40"), None)
        .await
        .unwrap();

    // The killer: every few milliseconds, terminate one of the database's other backends.
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicU64::new(0));
    let killer = {
        let url = w.db.url.clone();
        let stop = stop.clone();
        let killed = killed.clone();
        tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            let mut rng = Lcg(7);
            while !stop.load(Ordering::Relaxed) {
                let pids: Vec<i32> = sqlx::query_scalar(
                    "select pid from pg_stat_activity \
                     where datname = current_database() and pid <> pg_backend_pid() \
                       and backend_type = 'client backend' order by pid",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                if !pids.is_empty() {
                    let pid = pids[rng.next(pids.len() as u64) as usize];
                    let _ = sqlx::query("select pg_terminate_backend($1)")
                        .bind(pid)
                        .execute(&mut conn)
                        .await;
                    killed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5 + rng.next(25))).await;
            }
        })
    };

    // The desk: a stream of mixed calls for three seconds, from six tasks.
    let receipts = Arc::new(Mutex::new(HashSet::new()));
    let sales = Arc::new(Mutex::new(HashSet::new()));
    let attempts = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    // Failures for a lost connection, as opposed to business refusals (a payment past
    // the balance): the test must see the former to mean anything.
    let lost = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut workers = Vec::new();
    for t in 0..6u64 {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        let subs = subs.clone();
        let clients = clients.clone();
        let receipts = receipts.clone();
        let sales = sales.clone();
        let attempts = attempts.clone();
        let failures = failures.clone();
        let lost = lost.clone();
        let product = product.id;
        workers.push(tokio::spawn(async move {
            let mut rng = Lcg(100 + t);
            while Instant::now() < deadline {
                attempts.fetch_add(1, Ordering::Relaxed);
                let outcome: Result<(), Error> = match rng.next(4) {
                    0 | 1 => {
                        let sub = subs[rng.next(subs.len() as u64) as usize];
                        match gym.record_payment(&desk, pay(sub, "10000")).await {
                            Ok(r) => {
                                receipts.lock().await.insert(r.payment.id);
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                    2 => match gym.sell_product(&desk, product, dec("1"), None).await {
                        Ok(change) => {
                            sales.lock().await.insert(change.movement.id);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                    _ => {
                        let c = clients[rng.next(clients.len() as u64) as usize];
                        gym.check_in(&desk, c).await.map(|_| ())
                    }
                };
                if let Err(e) = outcome {
                    failures.fetch_add(1, Ordering::Relaxed);
                    if matches!(e, Error::ConnectionFailed { .. }) {
                        lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    assert!(
        killed.load(Ordering::Relaxed) > 10,
        "the killer did its work"
    );
    assert!(
        lost.load(Ordering::Relaxed) > 0,
        "some calls lost their connection mid-way"
    );

    // The pool recovers by itself.
    w.gym.list_staff(&w.admin).await.unwrap();

    // Every call that answered success is in the database.
    let mut conn = w.db.conn().await;
    for id in receipts.lock().await.iter() {
        let found: bool =
            sqlx::query_scalar("select exists (select 1 from payments where id = $1)")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(found, "an acknowledged payment is missing");
    }
    for id in sales.lock().await.iter() {
        let found: bool =
            sqlx::query_scalar("select exists (select 1 from inventory_movements where id = $1)")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(found, "an acknowledged sale is missing");
    }
    // Money: never more paid than the price, and active exactly when fully paid.
    assert_eq!(
        scalar(
            &w.db,
            "select count(*) from subscriptions s where \
             (select coalesce(sum(amount), 0) from payments p where p.subscription_id = s.id) \
               > s.final_price \
             or ((select coalesce(sum(amount), 0) from payments p \
                  where p.subscription_id = s.id) = s.final_price) <> (s.status = 'active')"
        )
        .await,
        0
    );
    // Stock: the product's quantity is the sum of its movements, never below zero.
    assert_eq!(
        scalar(
            &w.db,
            "select count(*) from products p where available_quantity < 0 \
             or available_quantity <> (select coalesce(sum(quantity), 0) \
                                       from inventory_movements m where m.product_id = p.id)"
        )
        .await,
        0
    );
    // Check-ins: each with a covering, paid subscription (one a day is the unique
    // index's to hold, not this test's).
    assert_eq!(
        scalar(
            &w.db,
            "select count(*) from attendances a where not exists ( \
                 select 1 from subscriptions s where s.client_id = a.client_id \
                 and s.status = 'active' and a.business_date between s.start_date and s.end_date)"
        )
        .await,
        0
    );
    eprintln!(
        "{} calls, {} failed, {} connections killed",
        attempts.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
        killed.load(Ordering::Relaxed)
    );
}
