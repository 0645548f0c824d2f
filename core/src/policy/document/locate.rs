//! Paths into the document (`accounts[0].security.whitelist`) and where they are in
//! the JSON or TOML text, so an error found after parsing still names its line and
//! column.

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seg {
    Key(&'static str),
    Index(usize),
}

pub(super) fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(any(feature = "policy-json", feature = "policy-toml"))]
/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(feature = "policy-toml")]
/// Byte offset of the value at `path` in a TOML document.
pub(super) fn locate_toml(text: &str, path: &[Seg]) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut value = toml::de::DeValue::Table(root.into_inner());
    for seg in path {
        let next = match seg {
            Seg::Key(k) => value.get(*k)?,
            Seg::Index(i) => value.get(*i)?,
        };
        span = next.span();
        value = next.get_ref().clone();
    }
    Some(span.start)
}

#[cfg(feature = "policy-json")]
/// Byte offset of the value at `path` in a JSON document that serde_json
/// already accepted (so the scan can stop at anything unexpected).
pub(super) fn locate_json(text: &str, path: &[Seg]) -> Option<usize> {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for seg in path {
        match (seg, b.get(pos)?) {
            (Seg::Key(want), b'{') => {
                pos += 1;
                loop {
                    pos = skip_ws(b, pos);
                    let key_end = skip_string(b, pos)?;
                    let key = text.get(pos + 1..key_end - 1)?;
                    pos = skip_ws(b, key_end);
                    if b.get(pos) != Some(&b':') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                    if key == *want {
                        break;
                    }
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos += 1;
                }
            }
            (Seg::Index(want), b'[') => {
                pos = skip_ws(b, pos + 1);
                for _ in 0..*want {
                    pos = skip_ws(b, skip_value(b, pos)?);
                    if b.get(pos) != Some(&b',') {
                        return None;
                    }
                    pos = skip_ws(b, pos + 1);
                }
            }
            _ => return None,
        }
    }
    Some(pos)
}

#[cfg(feature = "policy-json")]
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(|c| c.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

#[cfg(feature = "policy-json")]
/// End (one past the closing quote) of the string starting at `pos`.
fn skip_string(b: &[u8], pos: usize) -> Option<usize> {
    if b.get(pos) != Some(&b'"') {
        return None;
    }
    let mut i = pos + 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(feature = "policy-json")]
/// End of the value starting at `pos`.
fn skip_value(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => skip_string(b, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match b.get(i)? {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while b
                .get(i)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(all(test, any(feature = "policy-json", feature = "policy-toml")))]
mod tests {
    use super::*;

    #[cfg(feature = "policy-json")]
    #[test]
    fn json_locator_finds_nested_values() {
        let text =
            r#"{ "a": [1, {"x": "y,]}"}, [2, 3]], "accounts" : [ {"id":"q"}, {"id" : "r"} ] }"#;
        let at = locate_json(text, &[Seg::Key("accounts"), Seg::Index(1), Seg::Key("id")]);
        assert_eq!(at.and_then(|i| text.get(i..i + 3)), Some("\"r\""));
        assert_eq!(locate_json(text, &[Seg::Key("missing")]), None);
        assert_eq!(
            locate_json(text, &[Seg::Key("accounts"), Seg::Index(5)]),
            None
        );
    }

    #[cfg(any(feature = "policy-json", feature = "policy-toml"))]
    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé\nd", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nd", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nd", 7), (3, 1));
        assert_eq!(line_column("ab\ncé\nd", 6), (2, 3));
    }
}
