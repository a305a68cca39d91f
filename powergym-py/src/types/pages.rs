//! Pages of results: `items`, `total` (matching in all pages), `limit` and `offset`.
//! `len(page)` and `iter(page)` go over the items.

use pyo3::prelude::*;
use pyo3::types::PyIterator;

use crate::types::door::Attendance;
use crate::types::people::Client;
use crate::types::record::record;
use crate::types::sales::{Payment, Plan, Subscription};
use crate::types::stock::{Movement, Product};
use powergym_core as core;

/// One page class per record: the record, its `From<core::Page<_>>` and `len`/`iter`.
macro_rules! pages {
    ($( $(#[$doc:meta])* $page:ident of $item:ident from $core:ty; )*) => {$(
        record! {
            $(#[$doc])*
            $page {
                items: Vec<$item>,
                total: u64,
                limit: u32,
                offset: u64,
            }
            repr(items, total, limit, offset)
        }

        impl From<core::Page<$core>> for $page {
            fn from(p: core::Page<$core>) -> Self {
                Self {
                    items: p.items.into_iter().map(Into::into).collect(),
                    total: p.total,
                    limit: p.limit,
                    offset: p.offset,
                }
            }
        }

        #[pymethods]
        impl $page {
            fn __len__(&self) -> usize {
                self.items.len()
            }
            fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
                self.items.clone().into_pyobject(py)?.try_iter()
            }
        }
    )*};
}

pages! {
    /// One page of members.
    ClientPage of Client from core::Client;
    /// One page of plans.
    PlanPage of Plan from core::Plan;
    /// One page of products.
    ProductPage of Product from core::Product;
    /// One page of subscriptions.
    SubscriptionPage of Subscription from core::Subscription;
    /// One page of payments.
    PaymentPage of Payment from core::Payment;
    /// One page of attendances.
    AttendancePage of Attendance from core::Attendance;
    /// One page of stock movements.
    MovementPage of Movement from core::Movement;
}
