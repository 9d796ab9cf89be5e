//! Tokens of FHIRPath text (the lexical rules of FHIRPath N1, §8 grammar).

use super::ParseError;

/// One token with its byte offset in the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub at: usize,
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword (`name`, `and`, `div`); keywords are told
    /// apart by the parser, since most may also name elements.
    Ident(String),
    /// A backtick-delimited identifier: never a keyword.
    Delimited(String),
    /// A string literal, escapes resolved.
    Str(String),
    /// A number literal as written (`12`, `1.50`).
    Number(String),
    /// A date, date-time or time literal without its `@`.
    Temporal(String),
    /// An environment variable (`%resource`, `%'vs-name'`).
    External(String),
    /// `$this`, `$index`, `$total`.
    Special(String),
    /// Punctuation and operators.
    Sym(&'static str),
    /// The end of the text.
    End,
}

const SYMBOLS: &[&str] = &[
    "<=", ">=", "!=", "!~", ".", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "&", "|",
    "=", "~", "<", ">",
];

/// Splits FHIRPath text into tokens, skipping white space and comments.
pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(src.len(), |n| i + n);
            continue;
        }
        if src[i..].starts_with("/*") {
            let end = src[i + 2..]
                .find("*/")
                .ok_or_else(|| ParseError::at(src, i, "comment is not closed"))?;
            i += 2 + end + 2;
            continue;
        }
        let start = i;
        let kind = match c {
            b'\'' => {
                let (s, end) = quoted(src, i, b'\'')?;
                i = end;
                Tok::Str(s)
            }
            b'`' => {
                let (s, end) = quoted(src, i, b'`')?;
                i = end;
                Tok::Delimited(s)
            }
            b'%' => {
                i += 1;
                match bytes.get(i) {
                    Some(b'\'') | Some(b'`') => {
                        let (s, end) = quoted(src, i, bytes[i])?;
                        i = end;
                        Tok::External(s)
                    }
                    _ => {
                        let end = ident_end(bytes, i);
                        if end == i {
                            return Err(ParseError::at(
                                src,
                                start,
                                "expected a variable name after %",
                            ));
                        }
                        let name = src[i..end].to_string();
                        i = end;
                        Tok::External(name)
                    }
                }
            }
            b'$' => {
                let end = ident_end(bytes, i + 1);
                let name = &src[i + 1..end];
                if !matches!(name, "this" | "index" | "total") {
                    return Err(ParseError::at(
                        src,
                        start,
                        format!("unknown special variable ${name}"),
                    ));
                }
                i = end;
                Tok::Special(name.to_string())
            }
            b'@' => {
                let end = temporal_end(bytes, i + 1);
                if end == i + 1 {
                    return Err(ParseError::at(
                        src,
                        start,
                        "expected a date or time after @",
                    ));
                }
                let text = src[i + 1..end].to_string();
                i = end;
                Tok::Temporal(text)
            }
            b'0'..=b'9' => {
                let mut end = i;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
                    end += 1;
                    while end < bytes.len() && bytes[end].is_ascii_digit() {
                        end += 1;
                    }
                }
                let text = src[i..end].to_string();
                i = end;
                Tok::Number(text)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = ident_end(bytes, i);
                let text = src[i..end].to_string();
                i = end;
                Tok::Ident(text)
            }
            _ => match SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
                Some(s) => {
                    i += s.len();
                    Tok::Sym(s)
                }
                None => {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    return Err(ParseError::at(
                        src,
                        i,
                        format!("unexpected character {ch:?}"),
                    ));
                }
            },
        };
        out.push(Token { kind, at: start });
    }
    out.push(Token {
        kind: Tok::End,
        at: src.len(),
    });
    Ok(out)
}

fn ident_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// The end of `@2019-02-03T04:05:06.789+10:00` or `@T12:00`: digits and the
/// separators a date, time or zone uses.
fn temporal_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let c = bytes[i];
        let ok = c.is_ascii_digit()
            || matches!(c, b'-' | b':' | b'T' | b'Z')
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            || (c == b'+' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !ok {
            break;
        }
        i += 1;
    }
    i
}

/// Reads a quoted string or identifier starting at its opening quote;
/// returns the content with escapes resolved and the offset past the end.
fn quoted(src: &str, start: usize, quote: u8) -> Result<(String, usize), ParseError> {
    let bytes = src.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if c == quote {
            return Ok((out, i + 1));
        }
        if c == b'\\' {
            let Some(&e) = bytes.get(i + 1) else { break };
            match e {
                b'\'' | b'"' | b'`' | b'\\' | b'/' => out.push(e as char),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hex = src
                        .get(i + 2..i + 6)
                        .ok_or_else(|| ParseError::at(src, i, "bad \\u escape"))?;
                    let code = u32::from_str_radix(hex, 16)
                        .map_err(|_| ParseError::at(src, i, "bad \\u escape"))?;
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    i += 6;
                    continue;
                }
                _ => {
                    return Err(ParseError::at(
                        src,
                        i,
                        format!("unknown escape \\{}", e as char),
                    ))
                }
            }
            i += 2;
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    Err(ParseError::at(src, start, "string is not closed"))
}
