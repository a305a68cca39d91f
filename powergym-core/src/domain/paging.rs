//! Paging of list results: bounded limits, so no call can ask for an unbounded scan.

use crate::error::{Error, Result};

/// Largest page a list call returns, as in the original API.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    offset: u64,
}

impl PageRequest {
    /// A page of `limit` items (1 to [`MAX_PAGE_SIZE`]) starting after `offset` items.
    pub fn new(limit: u32, offset: u64) -> Result<Self> {
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {limit}"),
            ));
        }
        if offset > i64::MAX as u64 {
            return Err(Error::validation("offset", "is too large"));
        }
        Ok(Self { limit, offset })
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Items skipped before this page.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            offset: 0,
        }
    }
}

/// One page of results with the total count of matching items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page, in the list's order.
    pub items: Vec<T>,
    /// How many items match in all pages.
    pub total: u64,
    /// The page size that was asked for.
    pub limit: u32,
    /// Items skipped before this page.
    pub offset: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        for (limit, ok) in [(0, false), (1, true), (500, true), (501, false)] {
            assert_eq!(PageRequest::new(limit, 0).is_ok(), ok, "limit {limit}");
        }
        assert_eq!(PageRequest::default().limit(), 100);
    }
}
