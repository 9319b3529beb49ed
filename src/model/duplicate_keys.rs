//! Keys written twice in one JSON object. serde_json keeps the last of two equal keys without a
//! word, so two services named "api" or two scenarios with one name would silently become one;
//! this single pass over the text finds every such pair, at any depth, with both places.

use super::error::Diagnostic;
use std::collections::HashMap;

/// One key written twice in the same JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The JSON path of the object that holds the key (`services`, `services.api.endpoints`,
    /// `points[3]`); empty for the top-level object.
    pub path: String,
    /// The key, with its escapes decoded (`"a\u0070i"` is `api`).
    pub key: String,
    /// Line and column (1-based, columns in characters) of the first time the key is written.
    pub first: (usize, usize),
    /// Line and column of the second time.
    pub second: (usize, usize),
}

impl DuplicateKey {
    /// The problem as a diagnostic: `services: duplicate key "api" (line 3, column 5 and line 9,
    /// column 5)`.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            path: self.path.clone(),
            message: format!(
                "duplicate key {} (line {}, column {} and line {}, column {}): each key may appear once in an object",
                serde_json::Value::String(self.key.clone()),
                self.first.0,
                self.first.1,
                self.second.0,
                self.second.1
            ),
        }
    }
}

/// A container being read: an object with the keys seen so far, or an array with its position.
enum Frame {
    Object {
        /// Each key seen in this object and the byte offset of its opening quote.
        keys: HashMap<String, usize>,
        /// The key whose value is being read (for paths).
        current: Option<String>,
        /// True after `{` or `,`: the next string is a key.
        expect_key: bool,
    },
    Array {
        /// Index of the element being read.
        index: usize,
    },
}

/// Every key written twice within one object of `text`, in the order the second ones appear.
/// Text that is not well-formed JSON is scanned as far as it makes sense; the JSON parser reports
/// what is wrong with it.
pub fn duplicate_keys(text: &str) -> Vec<DuplicateKey> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // (path, key, first offset, second offset)
    let mut found: Vec<(String, String, usize, usize)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' => stack.push(Frame::Object {
                keys: HashMap::new(),
                current: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                let Some(_) = stack.pop() else { break };
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => break,
            },
            b'"' => {
                let start = at;
                at += 1;
                let mut escaped = false;
                while at < bytes.len() && bytes[at] != b'"' {
                    if bytes[at] == b'\\' {
                        escaped = true;
                        at += 1;
                    }
                    at += 1;
                }
                if at >= bytes.len() {
                    break;
                }
                let depth = stack.len();
                let (outer, last) = stack.split_at_mut(depth.saturating_sub(1));
                if let Some(Frame::Object {
                    keys,
                    current,
                    expect_key: expect_key @ true,
                }) = last.first_mut()
                {
                    *expect_key = false;
                    let raw = &text[start + 1..at];
                    let key = if escaped {
                        serde_json::from_str::<String>(&text[start..=at]).unwrap_or_else(|_| raw.to_string())
                    } else {
                        raw.to_string()
                    };
                    match keys.get(&key) {
                        Some(&first) => found.push((path_of(outer), key.clone(), first, start)),
                        None => {
                            keys.insert(key.clone(), start);
                        }
                    }
                    *current = Some(key);
                }
            }
            _ => {}
        }
        at += 1;
    }
    let places = line_columns(text, found.iter().flat_map(|f| [f.2, f.3]));
    found
        .into_iter()
        .map(|(path, key, first, second)| DuplicateKey {
            path,
            key,
            first: places[&first],
            second: places[&second],
        })
        .collect()
}

/// The dotted path of an object inside the containers `outer` (outermost first).
fn path_of(outer: &[Frame]) -> String {
    let mut path = String::new();
    for frame in outer {
        match frame {
            Frame::Object { current, .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(current.as_deref().unwrap_or("?"));
            }
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Line and column (1-based; columns count characters) of each byte offset, in one pass.
fn line_columns(text: &str, offsets: impl Iterator<Item = usize>) -> HashMap<usize, (usize, usize)> {
    let mut wanted: Vec<usize> = offsets.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut places = HashMap::with_capacity(wanted.len());
    let (mut line, mut column) = (1, 1);
    let mut next = wanted.iter().peekable();
    for (offset, byte) in text.bytes().enumerate() {
        if next.peek().is_none() {
            break;
        }
        if next.peek() == Some(&&offset) {
            places.insert(offset, (line, column));
            next.next();
        }
        if byte == b'\n' {
            line += 1;
            column = 1;
        } else if byte & 0xC0 != 0x80 {
            // Count characters, not bytes: a continuation byte belongs to the previous one.
            column += 1;
        }
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_services_named_api_are_found_with_both_places() {
        let text = "{\n  \"services\": {\n    \"api\": {},\n    \"db\": {},\n    \"api\": {}\n  }\n}";
        let found = duplicate_keys(text);
        assert_eq!(
            found,
            vec![DuplicateKey {
                path: "services".into(),
                key: "api".into(),
                first: (3, 5),
                second: (5, 5),
            }]
        );
    }

    #[test]
    fn equal_keys_in_different_objects_are_not_duplicates() {
        let text = r#"{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}], "x": "x"}"#;
        assert!(duplicate_keys(text).is_empty());
    }

    #[test]
    fn a_duplicate_deep_in_arrays_is_named_by_its_path() {
        let text = r#"{"s": {"api": {"e": {"get": [{"cpu": "1ms"}, {"call": "a", "call": "b"}]}}}}"#;
        let found = duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "s.api.e.get[1]");
        assert_eq!(found[0].key, "call");
        // Columns count from 1: the first "call" opens at byte 46 of the line, the second at 59.
        assert_eq!(found[0].first, (1, 47));
        assert_eq!(found[0].second, (1, 60));
    }

    #[test]
    fn escaped_keys_are_compared_decoded_and_strings_as_values_are_not_keys() {
        let text = r#"{"api": "api", "a\u0070i": 2}"#;
        let found = duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "api");
        assert_eq!(found[0].path, "");
        assert!(duplicate_keys(r#"{"a": ["a", "a"], "b": "a"}"#).is_empty());
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\"é\": 1, \"é\": 2}";
        let found = duplicate_keys(text);
        assert_eq!(found[0].first, (1, 2));
        assert_eq!(found[0].second, (1, 10));
    }

    #[test]
    fn malformed_text_stops_the_scan_without_panicking() {
        for text in ["", "}", "]]]", "{\"a", "{\"a\": 1, \"a", "[,,,]", "{\"\\", "\"\\"] {
            let _ = duplicate_keys(text);
        }
    }
}
