//! Folding text for accent- and case-insensitive client search.

use crate::domain::text;
use crate::error::Result;

/// Accented letters and their plain forms, applied after lower-casing so searches
/// ignore case and accents. The store passes these same two strings to SQL
/// `translate()`, so both sides fold text identically.
pub const FOLD_FROM: &str = "áàâäãåéèêëíìîïóòôöõúùûüñçý";
/// See [`FOLD_FROM`].
pub const FOLD_TO: &str = "aaaaaaeeeeiiiiooooouuuuncy";

/// Lower-cases and strips accents, for search.
pub fn fold_for_search(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match FOLD_FROM.chars().position(|f| f == c) {
            Some(i) => FOLD_TO.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// What a client search looks for: the typed text under the [`text::CLIENT_SEARCH`]
/// rule (at most 200 characters, no control or invisible characters, not blank), folded
/// by [`fold_for_search`]. A long text is refused before anything scans it.
pub fn search_terms(raw: &str) -> Result<String> {
    let text = text::CLIENT_SEARCH.parse(raw)?;
    Ok(fold_for_search(&text))
}
