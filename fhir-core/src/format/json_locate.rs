//! Turns a line and column in JSON text into a FHIRPath-style element path.
//!
//! serde_json reports where it stopped as a line and column, which is of
//! little use to someone reading a 2,000-line Bundle. No maintained crate
//! maps a position back to a JSON path without building a full span-carrying
//! tree, so this is a small hand-written scanner: it walks the text once,
//! tracking the chain of object keys and array indices, until it reaches the
//! position.

/// One level of nesting while scanning.
enum Frame {
    Object { key: Option<String> },
    Array { index: usize },
}

/// Returns the path of the element at 1-based `line`/`column` of `text`,
/// rooted at the resource type when the root object names one
/// (`Patient.name[0].given`), or `$` otherwise.
///
/// Primitive-extension keys (`_birthDate`) are reported as their element
/// (`birthDate`). Positions past the end yield the path at the end.
pub fn path_at(text: &str, line: usize, column: usize) -> String {
    scan(text, byte_offset(text, line, column), |_, _| false).0
}

/// The 1-based line and column of the key of the element at `path` (as
/// [`path_at`] spells paths), if the text has it.
pub fn position_of(text: &str, path: &str) -> Option<(usize, usize)> {
    let (_, hit) = scan(text, text.len(), |p, _| p == path);
    let offset = hit?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

/// Walks `text` up to byte `target`, tracking the element path. After each
/// object key it asks `stop(path, offset_of_key)`; a true answer ends the
/// walk and returns that key's offset. Returns the path where it stopped.
fn scan(text: &str, target: usize, stop: impl Fn(&str, usize) -> bool) -> (String, Option<usize>) {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root_type: Option<String> = None;
    let mut i = 0;
    // Whether the next string in an object is a key (true) or a value.
    let mut expect_key = false;
    while i < bytes.len() && i < target {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object { key: None });
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key }) => {
                    *key = None;
                    expect_key = true;
                }
                None => {}
            },
            b':' => expect_key = false,
            b'"' => {
                let (s, end) = read_string(bytes, i);
                let is_root_type_value = stack.len() == 1
                    && matches!(stack.last(), Some(Frame::Object { key: Some(k) }) if k == "resourceType");
                if expect_key {
                    if let Some(Frame::Object { key }) = stack.last_mut() {
                        *key = Some(s);
                    }
                    if stop(&render(root_type.as_deref(), &stack), i) {
                        return (render(root_type.as_deref(), &stack), Some(i));
                    }
                } else if is_root_type_value {
                    root_type = Some(s);
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (render(root_type.as_deref(), &stack), None)
}

fn render(root: Option<&str>, stack: &[Frame]) -> String {
    let mut out = root.unwrap_or("$").to_string();
    for (depth, frame) in stack.iter().enumerate() {
        match frame {
            Frame::Object { key: Some(k) } => {
                // The root object's own `resourceType` key is not an element.
                if depth == 0 && k == "resourceType" {
                    continue;
                }
                out.push('.');
                out.push_str(k.strip_prefix('_').unwrap_or(k));
            }
            Frame::Object { key: None } => {}
            Frame::Array { index } => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// Reads a JSON string starting at the opening quote; returns its content
/// (escapes kept as written, which is enough for element names) and the
/// offset just past the closing quote.
fn read_string(bytes: &[u8], start: usize) -> (String, usize) {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let s = String::from_utf8_lossy(&bytes[start + 1..i]).into_owned();
                return (s, i + 1);
            }
            _ => i += 1,
        }
    }
    (
        String::from_utf8_lossy(&bytes[start + 1..]).into_owned(),
        bytes.len(),
    )
}

/// Byte offset of a 1-based line and column (serde_json counts columns in
/// bytes), clamped to the text.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            return (offset + column).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_array_element() {
        let text = "{\"resourceType\":\"Patient\",\n\"name\":[{\"given\":[\"a\",\n\"b\"]}]}";
        assert_eq!(path_at(text, 3, 2), "Patient.name[0].given[1]");
    }

    #[test]
    fn primitive_extension_key_maps_to_element() {
        let text = r#"{"resourceType":"Patient","_birthDate":{"id":1}}"#;
        let col = text.find("1}").unwrap() + 1;
        assert_eq!(path_at(text, 1, col), "Patient.birthDate.id");
    }

    #[test]
    fn position_of_finds_the_key() {
        let text = "{\"resourceType\":\"Patient\",\n \"name\":[{\"family\":\"X\"}]}";
        assert_eq!(position_of(text, "Patient.name[0].family"), Some((2, 11)));
        assert_eq!(position_of(text, "Patient.gender"), None);
    }

    #[test]
    fn non_resource_root_is_dollar() {
        assert_eq!(path_at(r#"{"a":{"b":1}}"#, 1, 11), "$.a.b");
    }
}
