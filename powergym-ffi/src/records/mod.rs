//! The records and outcome enums the use cases take and return, one file per domain noun,
//! each with its conversion from (or into) core's type. Conversions only: every field core
//! has crosses, and nothing is decided here.
//!
//! Records that hold a member's personal data (names, document numbers, phones) export
//! their own `Debug` as the Kotlin `toString` / Swift `debugDescription`, so printing or
//! logging one shows ids and kinds, never the person.

/// A page record of `$item`s converted from core's `Page<$core>` (UniFFI has no
/// generics); `$doc` is its doc comment.
macro_rules! page {
    ($name:ident, $item:ty, $core:ty, $doc:tt) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, uniffi::Record)]
        pub struct $name {
            /// The items of this page.
            pub items: Vec<$item>,
            /// How many items match in all pages.
            pub total: u64,
            /// The page size asked for.
            pub limit: u32,
            /// Items skipped before this page.
            pub offset: u64,
        }

        impl From<powergym_core::Page<$core>> for $name {
            fn from(page: powergym_core::Page<$core>) -> Self {
                Self {
                    items: page.items.into_iter().map(Into::into).collect(),
                    total: page.total,
                    limit: page.limit,
                    offset: page.offset,
                }
            }
        }
    };
}

mod attendance;
mod client;
mod inventory;
mod payment;
mod plan;
mod report;
mod reward;
mod staff;
mod subscription;

pub use attendance::*;
pub use client::*;
pub use inventory::*;
pub use payment::*;
pub use plan::*;
pub use report::*;
pub use reward::*;
pub use staff::*;
pub use subscription::*;
