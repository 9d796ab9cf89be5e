//! FHIRPath syntax: the AST and a precedence-climbing parser.

use super::lexer::{tokenize, Tok, Token};
use super::ParseError;

/// A parsed FHIRPath expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `{}`.
    Empty,
    /// `true`, `false`.
    Boolean(bool),
    /// `'text'`.
    String(String),
    /// `12` (text as written, so `1.50` keeps its precision).
    Number(String),
    /// `@2019-01-01`, `@T12:00` (without the `@`).
    Temporal(String),
    /// `4.5 'mg'`, `3 days`.
    Quantity(String, String),
    /// An element name at the start of a path (or a type name, `Patient`).
    Identifier(String),
    /// `%name`.
    External(String),
    /// `$this`, `$index`, `$total`.
    Special(String),
    /// `target.name`.
    Member(Box<Expr>, String),
    /// `target.name(args)` or, with no target, `name(args)`.
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    /// `target[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `-x`, `+x`.
    Unary(&'static str, Box<Expr>),
    /// `a op b`.
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `x is T`, `x as T` (type name possibly qualified, `FHIR.Patient`).
    TypeOp(&'static str, Box<Expr>, String),
}

/// Binary operators with their binding power (higher binds tighter).
const BINARY: &[(&str, u8)] = &[
    ("implies", 1),
    ("or", 2),
    ("xor", 2),
    ("and", 3),
    ("in", 4),
    ("contains", 4),
    ("=", 5),
    ("~", 5),
    ("!=", 5),
    ("!~", 5),
    ("<=", 6),
    ("<", 6),
    (">", 6),
    (">=", 6),
    ("|", 7),
    ("is", 8),
    ("as", 8),
    ("+", 9),
    ("-", 9),
    ("&", 9),
    ("*", 10),
    ("/", 10),
    ("div", 10),
    ("mod", 10),
];
const UNARY_POWER: u8 = 11;

/// Calendar duration words that may follow a number to make a quantity.
const CALENDAR_UNITS: &[&str] = &[
    "year",
    "years",
    "month",
    "months",
    "week",
    "weeks",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "millisecond",
    "milliseconds",
];

/// Parses a whole expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
    };
    let e = p.expression(0)?;
    match p.peek() {
        Tok::End => Ok(e),
        other => Err(p.error(format!("unexpected {}", describe(other)))),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Delimited(s) => format!("`{s}`"),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Number(s) => s.clone(),
        Tok::Temporal(s) => format!("@{s}"),
        Tok::External(s) => format!("%{s}"),
        Tok::Special(s) => format!("${s}"),
        Tok::Sym(s) => format!("`{s}`"),
        Tok::End => "end of expression".to_string(),
    }
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].kind
    }

    fn next(&mut self) -> Tok {
        let t = self.tokens[self.pos].kind.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, self.tokens[self.pos].at, message)
    }

    fn expect(&mut self, sym: &str) -> Result<(), ParseError> {
        if *self.peek() == Tok::Sym(static_sym(sym)) {
            self.next();
            Ok(())
        } else {
            Err(self.error(format!("expected `{sym}`, found {}", describe(self.peek()))))
        }
    }

    /// The binary operator at the cursor, if any.
    fn binary_op(&self) -> Option<(&'static str, u8)> {
        let name = match self.peek() {
            Tok::Sym(s) => *s,
            Tok::Ident(s) => s.as_str(),
            _ => return None,
        };
        BINARY.iter().find(|(op, _)| *op == name).copied()
    }

    fn expression(&mut self, min_power: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some((op, power)) = self.binary_op() {
            if power <= min_power {
                break;
            }
            self.next();
            if op == "is" || op == "as" {
                let ty = self.type_specifier()?;
                lhs = Expr::TypeOp(op, Box::new(lhs), ty);
                continue;
            }
            let rhs = self.expression(power)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if let Tok::Sym(s @ ("+" | "-")) = self.peek() {
            let op: &'static str = s;
            self.next();
            let operand = self.expression(UNARY_POWER)?;
            return Ok(Expr::Unary(op, Box::new(operand)));
        }
        let term = self.term()?;
        self.postfix(term)
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr, ParseError> {
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.next();
                    let name = self.identifier()?;
                    if *self.peek() == Tok::Sym("(") {
                        let args = self.arguments()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        e = Expr::Member(Box::new(e), name);
                    }
                }
                Tok::Sym("[") => {
                    self.next();
                    let index = self.expression(0)?;
                    self.expect("]")?;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => return Ok(e),
            }
        }
    }

    fn identifier(&mut self) -> Result<String, ParseError> {
        match self.next() {
            Tok::Ident(s) | Tok::Delimited(s) => Ok(s),
            other => {
                self.pos -= 1;
                Err(self.error(format!("expected a name, found {}", describe(&other))))
            }
        }
    }

    fn type_specifier(&mut self) -> Result<String, ParseError> {
        let mut name = self.identifier()?;
        while *self.peek() == Tok::Sym(".") {
            self.next();
            name.push('.');
            name.push_str(&self.identifier()?);
        }
        Ok(name)
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        if *self.peek() == Tok::Sym(")") {
            self.next();
            return Ok(args);
        }
        loop {
            args.push(self.expression(0)?);
            match self.next() {
                Tok::Sym(",") => continue,
                Tok::Sym(")") => return Ok(args),
                other => {
                    self.pos -= 1;
                    return Err(
                        self.error(format!("expected `,` or `)`, found {}", describe(&other)))
                    );
                }
            }
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let at = self.pos;
        match self.next() {
            Tok::Sym("(") => {
                let e = self.expression(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                Ok(Expr::Empty)
            }
            Tok::Str(s) => Ok(Expr::String(s)),
            Tok::Temporal(s) => Ok(Expr::Temporal(s)),
            Tok::External(s) => Ok(Expr::External(s)),
            Tok::Special(s) => Ok(Expr::Special(s)),
            Tok::Number(n) => match self.peek().clone() {
                Tok::Str(unit) => {
                    self.next();
                    Ok(Expr::Quantity(n, unit))
                }
                Tok::Ident(unit) if CALENDAR_UNITS.contains(&unit.as_str()) => {
                    self.next();
                    Ok(Expr::Quantity(n, unit))
                }
                _ => Ok(Expr::Number(n)),
            },
            Tok::Ident(s) if s == "true" || s == "false" => Ok(Expr::Boolean(s == "true")),
            Tok::Ident(s) | Tok::Delimited(s) => {
                if *self.peek() == Tok::Sym("(") {
                    let args = self.arguments()?;
                    Ok(Expr::Call(None, s, args))
                } else {
                    Ok(Expr::Identifier(s))
                }
            }
            other => {
                self.pos = at;
                Err(self.error(format!("unexpected {}", describe(&other))))
            }
        }
    }
}

fn static_sym(s: &str) -> &'static str {
    [")", "]", "}", "(", ","]
        .into_iter()
        .find(|x| *x == s)
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_of_and_over_or() {
        let e = parse("a or b and c").unwrap();
        assert!(matches!(e, Expr::Binary("or", _, _)));
    }

    #[test]
    fn unary_minus_binds_to_the_path() {
        let e = parse("-1.abs()").unwrap();
        assert!(matches!(e, Expr::Unary("-", _)));
    }

    #[test]
    fn keywords_can_name_elements_after_a_dot() {
        let e = parse("Patient.contains.as").unwrap();
        assert!(matches!(e, Expr::Member(_, ref n) if n == "as"));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("Patient.name.(").unwrap_err();
        assert_eq!(e.offset, 13);
    }
}
