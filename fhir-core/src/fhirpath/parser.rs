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

/// The deepest nesting of an expression's syntax tree: operators,
/// invocations, indexes, parentheses and arguments all nest, and a chain
/// (`a.b.c`, `x | y | z`) is as deep as it is long. The R4 specification's
/// invariants and search parameters reach 34 (a union of search paths).
/// Parsing and evaluating recurse by this depth, so it is bounded here
/// rather than by the stack of whatever thread parses.
pub const MAX_DEPTH: usize = 256;

/// Parses a whole expression; returns it with the depth of its tree.
pub fn parse(src: &str) -> Result<(Expr, usize), ParseError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        open: 0,
    };
    let (e, depth) = p.expression(0)?;
    match p.peek() {
        Tok::End => Ok((e, depth)),
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
    /// How many `expression` calls are open (the parser's own recursion).
    open: usize,
}

/// A parsed node and the depth of its tree.
type Parsed = (Expr, usize);

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

    /// The depth of a node over children of these depths, or the error
    /// for a tree deeper than [`MAX_DEPTH`] (raised before the node is
    /// built, so no over-deep tree exists even to be dropped).
    fn deeper(&self, children: usize) -> Result<usize, ParseError> {
        let depth = children + 1;
        if depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the expression nests more than {MAX_DEPTH} levels deep (the limit is fhirpath::MAX_EXPRESSION_DEPTH)"
            )));
        }
        Ok(depth)
    }

    fn expression(&mut self, min_power: u8) -> Result<Parsed, ParseError> {
        // Each open call holds at least one level of the tree it returns,
        // so bounding them bounds this parser's recursion.
        self.open += 1;
        if self.open > MAX_DEPTH {
            return Err(self.deeper(MAX_DEPTH).unwrap_err());
        }
        let result = self.binary_chain(min_power);
        self.open -= 1;
        result
    }

    fn binary_chain(&mut self, min_power: u8) -> Result<Parsed, ParseError> {
        let (mut lhs, mut depth) = self.unary()?;
        while let Some((op, power)) = self.binary_op() {
            if power <= min_power {
                break;
            }
            self.next();
            if op == "is" || op == "as" {
                let ty = self.type_specifier()?;
                depth = self.deeper(depth)?;
                lhs = Expr::TypeOp(op, Box::new(lhs), ty);
                continue;
            }
            let (rhs, rhs_depth) = self.expression(power)?;
            depth = self.deeper(depth.max(rhs_depth))?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok((lhs, depth))
    }

    fn unary(&mut self) -> Result<Parsed, ParseError> {
        if let Tok::Sym(s @ ("+" | "-")) = self.peek() {
            let op: &'static str = s;
            self.next();
            let (operand, depth) = self.expression(UNARY_POWER)?;
            let depth = self.deeper(depth)?;
            return Ok((Expr::Unary(op, Box::new(operand)), depth));
        }
        let term = self.term()?;
        self.postfix(term)
    }

    fn postfix(&mut self, (mut e, mut depth): Parsed) -> Result<Parsed, ParseError> {
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.next();
                    let name = self.identifier()?;
                    if *self.peek() == Tok::Sym("(") {
                        let (args, args_depth) = self.arguments()?;
                        depth = self.deeper(depth.max(args_depth))?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        depth = self.deeper(depth)?;
                        e = Expr::Member(Box::new(e), name);
                    }
                }
                Tok::Sym("[") => {
                    self.next();
                    let (index, index_depth) = self.expression(0)?;
                    self.expect("]")?;
                    depth = self.deeper(depth.max(index_depth))?;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                _ => return Ok((e, depth)),
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

    /// Arguments, and the depth of the deepest.
    fn arguments(&mut self) -> Result<(Vec<Expr>, usize), ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        let mut depth = 0;
        if *self.peek() == Tok::Sym(")") {
            self.next();
            return Ok((args, depth));
        }
        loop {
            let (arg, arg_depth) = self.expression(0)?;
            args.push(arg);
            depth = depth.max(arg_depth);
            match self.next() {
                Tok::Sym(",") => continue,
                Tok::Sym(")") => return Ok((args, depth)),
                other => {
                    self.pos -= 1;
                    return Err(
                        self.error(format!("expected `,` or `)`, found {}", describe(&other)))
                    );
                }
            }
        }
    }

    fn term(&mut self) -> Result<Parsed, ParseError> {
        let at = self.pos;
        let leaf = |e: Expr| Ok((e, 1));
        match self.next() {
            Tok::Sym("(") => {
                let e = self.expression(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                leaf(Expr::Empty)
            }
            Tok::Str(s) => leaf(Expr::String(s)),
            Tok::Temporal(s) => leaf(Expr::Temporal(s)),
            Tok::External(s) => leaf(Expr::External(s)),
            Tok::Special(s) => leaf(Expr::Special(s)),
            Tok::Number(n) => match self.peek().clone() {
                Tok::Str(unit) => {
                    self.next();
                    leaf(Expr::Quantity(n, unit))
                }
                Tok::Ident(unit) if CALENDAR_UNITS.contains(&unit.as_str()) => {
                    self.next();
                    leaf(Expr::Quantity(n, unit))
                }
                _ => leaf(Expr::Number(n)),
            },
            Tok::Ident(s) if s == "true" || s == "false" => leaf(Expr::Boolean(s == "true")),
            Tok::Ident(s) | Tok::Delimited(s) => {
                if *self.peek() == Tok::Sym("(") {
                    let (args, depth) = self.arguments()?;
                    let depth = self.deeper(depth)?;
                    Ok((Expr::Call(None, s, args), depth))
                } else {
                    leaf(Expr::Identifier(s))
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
        let (e, _) = parse("a or b and c").unwrap();
        assert!(matches!(e, Expr::Binary("or", _, _)));
    }

    #[test]
    fn unary_minus_binds_to_the_path() {
        let (e, _) = parse("-1.abs()").unwrap();
        assert!(matches!(e, Expr::Unary("-", _)));
    }

    #[test]
    fn keywords_can_name_elements_after_a_dot() {
        let (e, _) = parse("Patient.contains.as").unwrap();
        assert!(matches!(e, Expr::Member(_, ref n) if n == "as"));
    }

    #[test]
    fn nesting_is_bounded_before_the_tree_is_built() {
        for deep in [
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1", "-".repeat(100_000)),
            format!("a{}", ".a".repeat(100_000)),
            format!("1{}", " + 1".repeat(100_000)),
            format!("{}{}", "f(".repeat(100_000), ")".repeat(100_000)),
            format!("a{}", "[0]".repeat(100_000)),
        ] {
            // Through `Expression::parse`, which gives the parser the
            // stack the deepest allowed nesting needs.
            let e = crate::fhirpath::Expression::parse(&deep).unwrap_err();
            assert!(e.message.contains("MAX_EXPRESSION_DEPTH"), "{}", e.message);
        }
        let chain = format!("a{}", ".a".repeat(MAX_DEPTH - 1));
        assert!(crate::fhirpath::Expression::parse(&chain).is_ok());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("Patient.name.(").unwrap_err();
        assert_eq!(e.offset, 13);
    }
}
