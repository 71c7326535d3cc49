//! Names as file names.

/// A name as a file name: ASCII letters, digits, `-` and `_` kept, anything else `_`. Two
/// names can give the same stem (`a b` and `a_b`): validation refuses series that would.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
