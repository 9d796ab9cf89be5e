//! The FHIRPath function library (N1 §5 and the FHIR additions of R4 §2.1.9).

use std::str::FromStr;

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, MathematicalOps};
use serde_json::Value;

use super::eval::{err, singleton, singleton_integer, to_bool, union, Env, Frame};
use super::parser::Expr;
use super::quantity::Quantity;
use super::temporal::{Kind, Precision, Temporal};
use super::value::{equals, Collection, EqualityIndex, Item, Node};
use super::EvalError;

type R<'a> = Result<Collection<'a>, EvalError>;

fn boolean<'a>(b: bool) -> R<'a> {
    Ok(vec![Item::Boolean(b)])
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        return err(format!(
            "{name}() takes {min}..{max} arguments, got {}",
            args.len()
        ));
    }
    Ok(())
}

impl<'a> Env<'_, 'a> {
    /// Evaluates an argument against the original focus (not the input).
    fn arg(&self, args: &[Expr], i: usize, focus: &Collection<'a>, frame: Frame<'_, 'a>) -> R<'a> {
        match args.get(i) {
            Some(e) => self.eval(e, focus, frame),
            None => Ok(Vec::new()),
        }
    }

    fn arg_string(
        &self,
        args: &[Expr],
        i: usize,
        focus: &Collection<'a>,
        frame: Frame<'_, 'a>,
    ) -> Result<Option<String>, EvalError> {
        match singleton(&self.arg(args, i, focus, frame)?)? {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) => Ok(Some(s)),
                None => err("expected a string argument"),
            },
        }
    }

    /// Evaluates `e` once per input item, with `$this` and `$index` set.
    fn each<T>(
        &self,
        input: &Collection<'a>,
        e: &Expr,
        frame: Frame<'_, 'a>,
        mut f: impl FnMut(&Item<'a>, Collection<'a>) -> Result<Option<T>, EvalError>,
    ) -> Result<Option<T>, EvalError> {
        for (i, item) in input.iter().enumerate() {
            let focus = vec![item.clone()];
            let inner = Frame {
                this: Some(item),
                index: Some(i),
                total: frame.total,
            };
            let r = self.eval(e, &focus, inner)?;
            if let Some(t) = f(item, r)? {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    /// The input's single string, or an error if it is something else.
    fn input_string(
        &self,
        input: &Collection<'a>,
        name: &str,
    ) -> Result<Option<String>, EvalError> {
        match singleton(input)? {
            None => Ok(None),
            Some(i) => match i.as_str() {
                Some(s) => Ok(Some(s)),
                None => err(format!("{name}() needs a string, got {}", i.type_name().1)),
            },
        }
    }

    /// Calls the function `name` on `input`; `focus` is what arguments are
    /// evaluated against.
    pub(super) fn call(
        &self,
        name: &str,
        input: &Collection<'a>,
        args: &[Expr],
        focus: &Collection<'a>,
        frame: Frame<'_, 'a>,
    ) -> R<'a> {
        match name {
            // Existence.
            "empty" => boolean(input.is_empty()),
            "exists" => match args.first() {
                None => boolean(!input.is_empty()),
                Some(e) => boolean(
                    self.each(input, e, frame, |_, r| {
                        Ok((to_bool(&r)? == Some(true)).then_some(()))
                    })?
                    .is_some(),
                ),
            },
            "all" => {
                arity(name, args, 1, 1)?;
                let failed = self.each(input, &args[0], frame, |_, r| {
                    Ok((to_bool(&r)? != Some(true)).then_some(()))
                })?;
                boolean(failed.is_none())
            }
            "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
                let bools: Vec<bool> = input
                    .iter()
                    .map(|i| match i.to_system() {
                        Some(Item::Boolean(b)) => Ok(b),
                        _ => err(format!("{name}() needs booleans")),
                    })
                    .collect::<Result<_, _>>()?;
                boolean(match name {
                    "allTrue" => bools.iter().all(|b| *b),
                    "anyTrue" => bools.iter().any(|b| *b),
                    "allFalse" => bools.iter().all(|b| !*b),
                    _ => bools.iter().any(|b| !*b),
                })
            }
            "subsetOf" | "supersetOf" => {
                let other = self.arg(args, 0, focus, frame)?;
                let (sub, sup) = if name == "subsetOf" {
                    (input, &other)
                } else {
                    (&other, input)
                };
                let sup = EqualityIndex::of(sup);
                boolean(sub.iter().all(|a| sup.contains(a, true)))
            }
            "count" => Ok(vec![Item::Integer(input.len() as i64)]),
            "distinct" => Ok(union(input.clone(), Vec::new())),
            "isDistinct" => boolean(union(input.clone(), Vec::new()).len() == input.len()),

            // Filtering and projection.
            "where" => {
                arity(name, args, 1, 1)?;
                let mut out = Vec::new();
                self.each(input, &args[0], frame, |item, r| {
                    if to_bool(&r)? == Some(true) {
                        out.push(item.clone());
                    }
                    Ok(None::<()>)
                })?;
                Ok(out)
            }
            "select" => {
                arity(name, args, 1, 1)?;
                let mut out = Vec::new();
                self.each(input, &args[0], frame, |_, r| {
                    out.extend(r);
                    Ok(None::<()>)
                })?;
                Ok(out)
            }
            "repeat" => {
                arity(name, args, 1, 1)?;
                let mut out: Collection<'a> = Vec::new();
                // Elements already found, by address (an element is the
                // same item only as itself); other items by equality. A
                // set rather than a scan of `out` keeps this linear.
                let mut nodes: std::collections::HashSet<*const Value> =
                    std::collections::HashSet::new();
                let mut queue = input.clone();
                let mut rounds = 0;
                while !queue.is_empty() && rounds < 1000 {
                    rounds += 1;
                    let mut next = Vec::new();
                    self.each(&queue, &args[0], frame, |_, r| {
                        for i in r {
                            let new = match &i {
                                Item::Node(n) => n.value.is_none_or(|v| nodes.insert(v)),
                                _ => !out.iter().any(|o| same_item(o, &i)),
                            };
                            if new {
                                out.push(i.clone());
                                next.push(i);
                            }
                        }
                        Ok(None::<()>)
                    })?;
                    queue = next;
                }
                Ok(out)
            }
            "ofType" => {
                let ty = type_argument(args)?;
                self.check_type_name(&ty)?;
                Ok(input
                    .iter()
                    .filter(|i| self.is_type(i, &ty))
                    .cloned()
                    .collect())
            }
            "is" | "as" => {
                let ty = type_argument(args)?;
                self.check_type_name(&ty)?;
                if name == "is" {
                    return match singleton(input)? {
                        None => Ok(Vec::new()),
                        Some(i) => boolean(self.is_type_with(&i, &ty, false)),
                    };
                }
                if input.len() > 1 {
                    return err("as() needs a single item");
                }
                Ok(input
                    .iter()
                    .filter(|i| self.is_type(i, &ty))
                    .cloned()
                    .collect())
            }

            // Subsetting.
            "single" => match input.len() {
                0 | 1 => Ok(input.clone()),
                n => err(format!("single() on {n} items")),
            },
            "first" => Ok(input.first().cloned().into_iter().collect()),
            "last" => Ok(input.last().cloned().into_iter().collect()),
            "tail" => Ok(input.iter().skip(1).cloned().collect()),
            "skip" => {
                let n = singleton_integer(&self.arg(args, 0, focus, frame)?)?
                    .unwrap_or(0)
                    .max(0) as usize;
                Ok(input.iter().skip(n).cloned().collect())
            }
            "take" => {
                let n = singleton_integer(&self.arg(args, 0, focus, frame)?)?
                    .unwrap_or(0)
                    .max(0) as usize;
                Ok(input.iter().take(n).cloned().collect())
            }
            "intersect" => {
                let other = self.arg(args, 0, focus, frame)?;
                let other = EqualityIndex::of(&other);
                let mut kept = EqualityIndex::new();
                let mut out: Collection<'a> = Vec::new();
                for i in input {
                    if other.contains(i, true) && !kept.contains(i, false) {
                        kept.insert(i);
                        out.push(i.clone());
                    }
                }
                Ok(out)
            }
            "exclude" => {
                let other = self.arg(args, 0, focus, frame)?;
                let other = EqualityIndex::of(&other);
                Ok(input
                    .iter()
                    .filter(|i| !other.contains(i, true))
                    .cloned()
                    .collect())
            }
            "union" => Ok(union(input.clone(), self.arg(args, 0, focus, frame)?)),
            "combine" => {
                let mut out = input.clone();
                out.extend(self.arg(args, 0, focus, frame)?);
                Ok(out)
            }

            // Conversion.
            "iif" => {
                arity(name, args, 2, 3)?;
                if input.len() > 1 {
                    return err("iif() on more than one item");
                }
                let frame_this = input.first();
                let inner = Frame {
                    this: frame_this.or(frame.this),
                    index: frame.index,
                    total: frame.total,
                };
                // The criterion and results are evaluated with the input as
                // their focus (`('x').iif(true, select($this))` is 'x').
                let focus = if input.is_empty() { focus } else { input };
                let criterion = self.eval(&args[0], focus, inner)?;
                let c = match singleton(&criterion)? {
                    None => false,
                    Some(i) => match i.to_system() {
                        Some(Item::Boolean(b)) => b,
                        _ => return err("iif() criterion must be a boolean"),
                    },
                };
                if c {
                    self.eval(&args[1], focus, inner)
                } else {
                    self.arg(args, 2, focus, inner)
                }
            }
            "toBoolean" | "convertsToBoolean" => convert(name, input, to_boolean),
            "toInteger" | "convertsToInteger" => convert(name, input, to_integer),
            "toDecimal" | "convertsToDecimal" => convert(name, input, to_decimal_item),
            "toString" | "convertsToString" => {
                convert(name, input, |i| to_string(i).map(Item::String))
            }
            "toDate" | "convertsToDate" => convert(name, input, |i| to_temporal(i, Kind::Date)),
            "toDateTime" | "convertsToDateTime" => {
                convert(name, input, |i| to_temporal(i, Kind::DateTime))
            }
            "toTime" | "convertsToTime" => convert(name, input, |i| to_temporal(i, Kind::Time)),
            "toQuantity" | "convertsToQuantity" => {
                let unit = self.arg_string(args, 0, focus, frame)?;
                let converted = match singleton(input)? {
                    None => return Ok(Vec::new()),
                    Some(i) => to_quantity(&i).filter(|q| {
                        unit.as_deref()
                            .is_none_or(|u| q.unit == u || (q.unit == "1" && u == "1"))
                    }),
                };
                if name == "toQuantity" {
                    Ok(converted.map(Item::Quantity).into_iter().collect())
                } else {
                    boolean(converted.is_some())
                }
            }

            // Strings.
            "indexOf" => self.string_fn(
                input,
                |s| {
                    let sub = self.arg_string(args, 0, focus, frame)?;
                    Ok(sub.map(|sub| {
                        Item::Integer(s.find(&sub).map_or(-1, |b| s[..b].chars().count() as i64))
                    }))
                },
                name,
            ),
            "substring" => self.string_fn(
                input,
                |s| {
                    let start = singleton_integer(&self.arg(args, 0, focus, frame)?)?;
                    let len = if args.len() > 1 {
                        singleton_integer(&self.arg(args, 1, focus, frame)?)?
                    } else {
                        None
                    };
                    let chars: Vec<char> = s.chars().collect();
                    Ok(match start {
                        Some(st) if st >= 0 && (st as usize) < chars.len() => {
                            let end = match len {
                                Some(l) => (st + l.max(0)).min(chars.len() as i64) as usize,
                                None => chars.len(),
                            };
                            Some(Item::String(chars[st as usize..end].iter().collect()))
                        }
                        _ => None,
                    })
                },
                name,
            ),
            "startsWith" | "endsWith" | "contains" => self.string_fn(
                input,
                |s| {
                    let Some(arg) = self.arg_string(args, 0, focus, frame)? else {
                        return Ok(None);
                    };
                    Ok(Some(Item::Boolean(match name {
                        "startsWith" => s.starts_with(&arg),
                        "endsWith" => s.ends_with(&arg),
                        _ => s.contains(&arg),
                    })))
                },
                name,
            ),
            "upper" => self.string_fn(input, |s| Ok(Some(Item::String(s.to_uppercase()))), name),
            "lower" => self.string_fn(input, |s| Ok(Some(Item::String(s.to_lowercase()))), name),
            "trim" => self.string_fn(
                input,
                |s| Ok(Some(Item::String(s.trim().to_string()))),
                name,
            ),
            "length" => self.string_fn(
                input,
                |s| Ok(Some(Item::Integer(s.chars().count() as i64))),
                name,
            ),
            "toChars" => match self.input_string(input, name)? {
                None => Ok(Vec::new()),
                Some(s) => Ok(s.chars().map(|c| Item::String(c.to_string())).collect()),
            },
            "replace" => self.string_fn(
                input,
                |s| {
                    let (Some(pat), Some(rep)) = (
                        self.arg_string(args, 0, focus, frame)?,
                        self.arg_string(args, 1, focus, frame)?,
                    ) else {
                        return Ok(None);
                    };
                    Ok(Some(Item::String(if pat.is_empty() {
                        // Replacing '' puts the substitution between every character.
                        let mut out = rep.clone();
                        for c in s.chars() {
                            out.push(c);
                            out.push_str(&rep);
                        }
                        out
                    } else {
                        s.replace(&pat, &rep)
                    })))
                },
                name,
            ),
            "matches" | "matchesFull" => self.string_fn(
                input,
                |s| {
                    let Some(pat) = self.arg_string(args, 0, focus, frame)? else {
                        return Ok(None);
                    };
                    let anchored = if name == "matchesFull" {
                        format!("^(?:{pat})$")
                    } else {
                        pat
                    };
                    let re = regex::RegexBuilder::new(&anchored)
                        .dot_matches_new_line(true)
                        .build()
                        .or_else(|e| err(format!("bad regex: {e}")))?;
                    Ok(Some(Item::Boolean(re.is_match(&s))))
                },
                name,
            ),
            "replaceMatches" => self.string_fn(
                input,
                |s| {
                    let (Some(pat), Some(rep)) = (
                        self.arg_string(args, 0, focus, frame)?,
                        self.arg_string(args, 1, focus, frame)?,
                    ) else {
                        return Ok(None);
                    };
                    if pat.is_empty() {
                        return Ok(Some(Item::String(s)));
                    }
                    let re = regex::Regex::new(&pat).or_else(|e| err(format!("bad regex: {e}")))?;
                    Ok(Some(Item::String(
                        re.replace_all(&s, rep.as_str()).into_owned(),
                    )))
                },
                name,
            ),
            "split" => match self.input_string(input, name)? {
                None => Ok(Vec::new()),
                Some(s) => {
                    let sep = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                    Ok(s.split(sep.as_str())
                        .map(|p| Item::String(p.to_string()))
                        .collect())
                }
            },
            "join" => {
                let sep = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                let parts: Vec<String> = input.iter().filter_map(Item::as_str).collect();
                Ok(vec![Item::String(parts.join(&sep))])
            }
            "encode" | "decode" => self.string_fn(
                input,
                |s| {
                    let format = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                    Ok(codec(name == "encode", &format, &s).map(Item::String))
                },
                name,
            ),
            "escape" | "unescape" => self.string_fn(
                input,
                |s| {
                    let target = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                    Ok(Some(Item::String(escape(name == "escape", &target, &s))))
                },
                name,
            ),

            // Math.
            "abs" | "ceiling" | "floor" | "exp" | "ln" | "sqrt" | "truncate" | "round" | "log"
            | "power" => self.math(name, input, args, focus, frame),

            // Tree navigation.
            "children" => {
                let mut out = Vec::new();
                for i in input {
                    self.children(i, &mut out);
                }
                Ok(out)
            }
            "descendants" => {
                let mut out: Collection<'a> = Vec::new();
                let mut queue = input.clone();
                while !queue.is_empty() {
                    let mut next = Vec::new();
                    for i in &queue {
                        self.children(i, &mut next);
                    }
                    out.extend(next.iter().cloned());
                    queue = next;
                }
                Ok(out)
            }

            // Utilities.
            "trace" => Ok(input.clone()),
            "now" => Ok(vec![Item::Temporal(self.now())]),
            "today" => {
                let mut t = self.now();
                t.kind = Kind::Date;
                t.precision = Precision::Day;
                t.hour = 0;
                t.minute = 0;
                t.second = 0;
                t.millis = 0;
                t.offset = None;
                Ok(vec![Item::Temporal(t)])
            }
            "timeOfDay" => {
                let mut t = self.now();
                t.kind = Kind::Time;
                t.offset = None;
                Ok(vec![Item::Temporal(t)])
            }
            "not" => match to_bool(input)? {
                None => Ok(Vec::new()),
                Some(b) => boolean(!b),
            },
            "aggregate" => {
                arity(name, args, 1, 2)?;
                let mut total = self.arg(args, 1, focus, frame)?;
                for (i, item) in input.iter().enumerate() {
                    let f = Frame {
                        this: Some(item),
                        index: Some(i),
                        total: Some(&total),
                    };
                    let next = self.eval(&args[0], &vec![item.clone()], f)?;
                    total = next;
                }
                Ok(total)
            }
            "precision" => match singleton(input)?.and_then(|i| i.to_system()) {
                None => Ok(Vec::new()),
                Some(Item::Decimal(d)) => Ok(vec![Item::Integer(d.scale() as i64)]),
                Some(Item::Integer(_)) => Ok(vec![Item::Integer(0)]),
                Some(Item::Temporal(t)) => Ok(vec![Item::Integer(temporal_precision_digits(&t))]),
                Some(_) => err("precision() needs a number or a date/time"),
            },

            // FHIR additions.
            "extension" => {
                let url = self.arg_string(args, 0, focus, frame)?;
                let mut exts = Vec::new();
                for i in input {
                    // Every element may carry extensions, known type or not.
                    let _ = self.member(i, "extension", &mut exts);
                }
                Ok(exts
                    .into_iter()
                    .filter(|e| {
                        url.is_none()
                            || e.json().and_then(|v| v.get("url")).and_then(Value::as_str)
                                == url.as_deref()
                    })
                    .collect())
            }
            "hasValue" => boolean(
                matches!(singleton(input)?, Some(Item::Node(Node { value: Some(v), .. })) if !v.is_object() && !v.is_array()),
            ),
            "getValue" => Ok(match singleton(input)? {
                Some(i @ Item::Node(Node { value: Some(v), .. })) if !v.is_object() => {
                    i.to_system().into_iter().collect()
                }
                _ => Vec::new(),
            }),
            "resolve" => Ok(input.iter().filter_map(|i| self.resolve(i)).collect()),
            "conformsTo" => {
                let url = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                if let Some(reg) = self.registry {
                    if reg.structure_definition(&url).is_none() {
                        return err(format!("unknown profile {url}"));
                    }
                }
                // Without a validator at hand, a resource conforms to its own
                // base type's definition.
                let ty = url.rsplit('/').next().unwrap_or("");
                boolean(
                    input
                        .iter()
                        .all(|i| matches!(i, Item::Node(n) if n.ty == ty)),
                )
            }
            "memberOf" => {
                let url = self.arg_string(args, 0, focus, frame)?.unwrap_or_default();
                match singleton(input)? {
                    None => Ok(Vec::new()),
                    Some(i) => Ok(self
                        .member_of(&i, &url)
                        .map(Item::Boolean)
                        .into_iter()
                        .collect()),
                }
            }
            "htmlChecks" | "htmlchecks" => boolean(
                input
                    .iter()
                    .all(|i| i.as_str().is_none_or(|s| html_is_safe(&s))),
            ),
            "type" => Ok(input
                .iter()
                .map(|i| {
                    let (ns, name) = i.type_name();
                    Item::Type(ns.to_string(), name)
                })
                .collect()),
            "lowBoundary" | "highBoundary" => {
                let precision = singleton_integer(&self.arg(args, 0, focus, frame)?)?;
                match singleton(input)?.and_then(|i| i.to_system()) {
                    None => Ok(Vec::new()),
                    Some(i) => Ok(
                        super::boundary::boundary(&i, precision, name == "highBoundary")
                            .into_iter()
                            .collect(),
                    ),
                }
            }
            "comparable" => {
                let other = self.arg(args, 0, focus, frame)?;
                match (
                    singleton(input)?.and_then(|i| i.to_system()),
                    singleton(&other)?.and_then(|i| i.to_system()),
                ) {
                    (Some(Item::Quantity(a)), Some(Item::Quantity(b))) => boolean(a.comparable(&b)),
                    (None, _) | (_, None) => Ok(Vec::new()),
                    _ => err("comparable() needs quantities"),
                }
            }
            "sort" => self.sort(input, args, frame),
            _ => err(format!("unknown function {name}()")),
        }
    }

    /// `sort(key, -key, …)`: stable sort by each key in turn, `-` for
    /// descending; with no key, by the items themselves.
    fn sort(&self, input: &Collection<'a>, args: &[Expr], frame: Frame<'_, 'a>) -> R<'a> {
        let mut keyed: Vec<(Vec<Option<Item<'a>>>, Item<'a>)> = Vec::with_capacity(input.len());
        for (i, item) in input.iter().enumerate() {
            let mut keys = Vec::new();
            for a in args {
                let e = match a {
                    Expr::Unary("-", inner) => inner.as_ref(),
                    other => other,
                };
                let f = Frame {
                    this: Some(item),
                    index: Some(i),
                    total: frame.total,
                };
                keys.push(singleton(&self.eval(e, &vec![item.clone()], f)?)?);
            }
            if args.is_empty() {
                keys.push(Some(item.clone()));
            }
            keyed.push((keys, item.clone()));
        }
        let descending: Vec<bool> = args
            .iter()
            .map(|a| matches!(a, Expr::Unary("-", _)))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                // Items without a key come first in either direction.
                let o = match (x, y) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => return std::cmp::Ordering::Less,
                    (Some(_), None) => return std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => super::value::compare(x, y)
                        .ok()
                        .flatten()
                        .unwrap_or(std::cmp::Ordering::Equal),
                };
                let o = if descending.get(i).copied().unwrap_or(false) {
                    o.reverse()
                } else {
                    o
                };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        Ok(keyed.into_iter().map(|(_, i)| i).collect())
    }

    fn string_fn(
        &self,
        input: &Collection<'a>,
        f: impl FnOnce(String) -> Result<Option<Item<'a>>, EvalError>,
        name: &str,
    ) -> R<'a> {
        match self.input_string(input, name)? {
            None => Ok(Vec::new()),
            Some(s) => Ok(f(s)?.into_iter().collect()),
        }
    }

    fn math(
        &self,
        name: &str,
        input: &Collection<'a>,
        args: &[Expr],
        focus: &Collection<'a>,
        frame: Frame<'_, 'a>,
    ) -> R<'a> {
        let Some(item) = singleton(input)?.and_then(|i| i.to_system()) else {
            return Ok(Vec::new());
        };
        if let Item::Quantity(q) = &item {
            if name == "abs" {
                return Ok(vec![Item::Quantity(Quantity {
                    value: q.value.abs(),
                    unit: q.unit.clone(),
                })]);
            }
        }
        let is_int = matches!(item, Item::Integer(_));
        let Some(x) = super::value::to_decimal(&item) else {
            return err(format!("{name}() needs a number"));
        };
        let int_or_none = |d: Decimal| d.to_i64().map(Item::Integer);
        Ok(match name {
            "abs" => Some(if is_int {
                Item::Integer(x.abs().to_i64().unwrap_or(0))
            } else {
                Item::Decimal(x.abs())
            }),
            "ceiling" => int_or_none(x.ceil()),
            "floor" => int_or_none(x.floor()),
            "truncate" => int_or_none(x.trunc()),
            "exp" => x.checked_exp().map(Item::Decimal),
            "ln" => (x > Decimal::ZERO)
                .then(|| x.checked_ln())
                .flatten()
                .map(Item::Decimal),
            "sqrt" => x.sqrt().map(Item::Decimal),
            "round" => {
                let dp = singleton_integer(&self.arg(args, 0, focus, frame)?)?.unwrap_or(0);
                if dp < 0 {
                    return err("round() precision must be 0 or more");
                }
                Some(Item::Decimal(x.round_dp_with_strategy(
                    dp as u32,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                )))
            }
            "log" => {
                let base = self.arg(args, 0, focus, frame)?;
                let b = singleton(&base)?.and_then(|i| super::value::to_decimal(&i.to_system()?));
                match b {
                    Some(b) if x > Decimal::ZERO && b > Decimal::ZERO => {
                        let v = x.to_f64().unwrap_or(0.0).ln() / b.to_f64().unwrap_or(1.0).ln();
                        Decimal::from_f64(v).map(Item::Decimal)
                    }
                    _ => None,
                }
            }
            _ => {
                let exp = self.arg(args, 0, focus, frame)?;
                let Some(e) = singleton(&exp)?.and_then(|i| i.to_system()) else {
                    return Ok(Vec::new());
                };
                match (&item, &e) {
                    (Item::Integer(b), Item::Integer(p)) if *p >= 0 => {
                        b.checked_pow(*p as u32).map(Item::Integer)
                    }
                    _ => {
                        let (b, p) = (
                            x.to_f64().unwrap_or(0.0),
                            super::value::to_decimal(&e)
                                .and_then(|d| d.to_f64())
                                .unwrap_or(0.0),
                        );
                        let v = b.powf(p);
                        if v.is_nan() {
                            None
                        } else {
                            Decimal::from_f64(v).map(Item::Decimal)
                        }
                    }
                }
            }
        }
        .into_iter()
        .collect())
    }

    /// Appends every child element of a node.
    fn children(&self, item: &Item<'a>, out: &mut Collection<'a>) {
        let Item::Node(n) = item else { return };
        let Some(Value::Object(obj)) = item.json() else {
            // A primitive's children are its `id` and `extension`, kept in
            // the `_name` object beside it.
            if n.extension.is_some() {
                let _ = self.member(item, "id", out);
                let _ = self.member(item, "extension", out);
            }
            return;
        };
        let info = self.model.and_then(|m| m.get(n.ty));
        for k in obj
            .keys()
            .filter(|k| !k.starts_with('_') && *k != "resourceType")
        {
            // A choice element's JSON name is `valueQuantity`; its element is `value`.
            let element = info.and_then(|i| {
                i.element(k).map(|_| k.to_string()).or_else(|| {
                    i.elements()
                        .find(|e| e.choice && k.starts_with(&e.name))
                        .map(|e| e.name.clone())
                })
            });
            match element {
                Some(e) if info.and_then(|i| i.element(&e)).is_some_and(|el| el.choice) => {
                    let mut tmp = Vec::new();
                    let _ = self.member(item, &e, &mut tmp);
                    out.extend(tmp);
                }
                _ => {
                    let _ = self.member(item, k, out);
                }
            }
        }
    }

    /// `resolve()`: a reference to a contained resource or to an entry of
    /// the Bundle being evaluated.
    fn resolve(&self, item: &Item<'a>) -> Option<Item<'a>> {
        let reference = match item {
            Item::Node(n) if n.value.is_some_and(Value::is_object) => {
                n.value?.get("reference")?.as_str()?.to_string()
            }
            other => other.as_str()?,
        };
        let root = self.resource.as_ref()?.json()?;
        if let Some(id) = reference.strip_prefix('#') {
            let found = root
                .get("contained")?
                .as_array()?
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(id))?;
            return Some(Item::from_json(found));
        }
        let entries = root.get("entry")?.as_array()?;
        let found = entries.iter().find(|e| {
            let full = e.get("fullUrl").and_then(Value::as_str).unwrap_or("");
            let r = e.get("resource");
            let typed = r.and_then(|r| {
                Some(format!(
                    "{}/{}",
                    r.get("resourceType")?.as_str()?,
                    r.get("id")?.as_str()?
                ))
            });
            full == reference
                || typed.as_deref() == Some(reference.as_str())
                || (!full.is_empty() && full.ends_with(&format!("/{reference}")))
        })?;
        found.get("resource").map(Item::from_json)
    }

    /// `memberOf()`: membership in a loaded ValueSet, decided by the same
    /// expansion the validator's binding check uses
    /// (`validation::terminology`: includes, excludes, nested value sets,
    /// filters on local code systems), so that an invariant and a binding
    /// never disagree on a code; `None` when the answer needs a
    /// terminology server.
    fn member_of(&self, item: &Item<'a>, url: &str) -> Option<bool> {
        let codings: Vec<(String, String)> = match item {
            Item::Node(n) => match n.value? {
                Value::String(code) => vec![(String::new(), code.clone())],
                Value::Object(o) if o.contains_key("coding") => o["coding"]
                    .as_array()?
                    .iter()
                    .filter_map(|c| {
                        Some((
                            c.get("system")?.as_str().unwrap_or("").to_string(),
                            c.get("code")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
                Value::Object(o) => vec![(
                    o.get("system")?.as_str().unwrap_or("").to_string(),
                    o.get("code")?.as_str()?.to_string(),
                )],
                _ => return None,
            },
            other => vec![(String::new(), other.as_str()?)],
        };
        let expansion = crate::validation::terminology::expand(self.registry?, url)?;
        let mut unknown = false;
        for (s, c) in &codings {
            match expansion.contains(s, c) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => unknown = true,
            }
        }
        if unknown {
            None
        } else {
            Some(false)
        }
    }
}

/// Whether two items are the very same element (for `repeat`).
fn same_item(a: &Item, b: &Item) -> bool {
    match (a, b) {
        (Item::Node(x), Item::Node(y)) => match (x.value, y.value) {
            (Some(p), Some(q)) => std::ptr::eq(p, q),
            _ => false,
        },
        _ => equals(a, b) == Some(true),
    }
}

fn type_argument(args: &[Expr]) -> Result<String, EvalError> {
    fn name(e: &Expr) -> Option<String> {
        match e {
            Expr::Identifier(n) => Some(n.clone()),
            Expr::Member(t, n) => Some(format!("{}.{n}", name(t)?)),
            _ => None,
        }
    }
    args.first()
        .and_then(name)
        .map_or_else(|| err("expected a type name"), Ok)
}

/// `toX()` and `convertsToX()` share one conversion.
fn convert<'a>(
    name: &str,
    input: &Collection<'a>,
    f: impl Fn(&Item<'a>) -> Option<Item<'a>>,
) -> R<'a> {
    let Some(item) = singleton(input)? else {
        return Ok(Vec::new());
    };
    let converted = item.to_system().and_then(|i| f(&i));
    if name.starts_with("convertsTo") {
        boolean(converted.is_some())
    } else {
        Ok(converted.into_iter().collect())
    }
}

fn to_boolean<'a>(i: &Item<'a>) -> Option<Item<'a>> {
    Some(Item::Boolean(match i {
        Item::Boolean(b) => *b,
        Item::Integer(1) => true,
        Item::Integer(0) => false,
        Item::Decimal(d) if *d == Decimal::ONE => true,
        Item::Decimal(d) if d.is_zero() => false,
        Item::String(s) => match s.to_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => true,
            "false" | "f" | "no" | "n" | "0" | "0.0" => false,
            _ => return None,
        },
        _ => return None,
    }))
}

fn to_integer<'a>(i: &Item<'a>) -> Option<Item<'a>> {
    match i {
        Item::Integer(_) => Some(i.clone()),
        Item::Boolean(b) => Some(Item::Integer(*b as i64)),
        Item::String(s) => {
            let t = s.strip_prefix('+').unwrap_or(s);
            (!t.is_empty()
                && t.trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok().map(Item::Integer))
            .flatten()
        }
        _ => None,
    }
}

fn to_decimal_item<'a>(i: &Item<'a>) -> Option<Item<'a>> {
    match i {
        Item::Integer(n) => Some(Item::Decimal(Decimal::from(*n))),
        Item::Decimal(_) => Some(i.clone()),
        Item::Boolean(b) => Some(Item::Decimal(if *b { Decimal::ONE } else { Decimal::ZERO })),
        Item::String(s) => {
            let ok = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_digit() || "+-.".contains(c))
                && !s.ends_with('.');
            ok.then(|| Decimal::from_str(s).ok().map(Item::Decimal))
                .flatten()
        }
        _ => None,
    }
}

/// FHIRPath `toString()` forms.
pub fn to_string(i: &Item) -> Option<String> {
    Some(match i {
        Item::Boolean(b) => b.to_string(),
        Item::String(s) => s.clone(),
        Item::Integer(n) => n.to_string(),
        Item::Decimal(d) => d.to_string(),
        Item::Temporal(t) => t.to_string(),
        Item::Quantity(q) => q.to_string(),
        Item::Node(_) | Item::Type(..) => return None,
    })
}

fn to_temporal<'a>(i: &Item<'a>, kind: Kind) -> Option<Item<'a>> {
    let t = match i {
        Item::Temporal(t) => *t,
        Item::String(s) => match kind {
            Kind::Time => Temporal::parse_time(s.strip_prefix('T').unwrap_or(s))?,
            _ => Temporal::parse_date_time(s, false)?,
        },
        _ => return None,
    };
    match (kind, t.kind) {
        (Kind::Time, Kind::Time) => Some(Item::Temporal(t)),
        (Kind::Time, _) | (_, Kind::Time) => None,
        (Kind::Date, _) => {
            let mut d = t;
            d.kind = Kind::Date;
            d.precision = t.precision.min(Precision::Day);
            d.hour = 0;
            d.minute = 0;
            d.second = 0;
            d.millis = 0;
            d.offset = None;
            Some(Item::Temporal(d))
        }
        (_, _) => {
            let mut d = t;
            d.kind = Kind::DateTime;
            Some(Item::Temporal(d))
        }
    }
}

fn to_quantity(i: &Item) -> Option<Quantity> {
    match i.to_system()? {
        Item::Quantity(q) => Some(q),
        Item::Integer(n) => Some(Quantity::new(Decimal::from(n), "1")),
        Item::Decimal(d) => Some(Quantity::new(d, "1")),
        Item::Boolean(b) => Some(Quantity::new(
            if b { Decimal::ONE } else { Decimal::ZERO },
            "1",
        )),
        Item::String(s) => {
            let s = s.trim();
            let (num, unit) = match s.find(' ') {
                Some(i) => (&s[..i], s[i + 1..].trim()),
                None => (s, ""),
            };
            let value = Decimal::from_str(num).ok()?;
            let unit = if unit.is_empty() {
                "1".to_string()
            } else if let Some(u) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
                u.to_string()
            } else {
                let singular = unit.strip_suffix('s').unwrap_or(unit);
                if !super::quantity::CALENDAR.contains(&singular) {
                    return None;
                }
                unit.to_string()
            };
            Some(Quantity::new(value, &unit))
        }
        _ => None,
    }
}

fn temporal_precision_digits(t: &Temporal) -> i64 {
    let date = match t.precision {
        Precision::Year => 4,
        Precision::Month => 6,
        Precision::Day => 8,
        Precision::Hour => 10,
        Precision::Minute => 12,
        Precision::Second => 14,
        Precision::Millisecond => 17,
    };
    if t.kind == Kind::Time {
        date - 8
    } else {
        date
    }
}

fn codec(encode: bool, format: &str, s: &str) -> Option<String> {
    use base64::Engine;
    match (format, encode) {
        ("hex", true) => Some(s.bytes().map(|b| format!("{b:02x}")).collect()),
        ("hex", false) => {
            let bytes: Option<Vec<u8>> = (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
                .collect();
            String::from_utf8(bytes?).ok()
        }
        ("base64", true) => Some(base64::engine::general_purpose::STANDARD.encode(s)),
        ("urlbase64", true) => Some(base64::engine::general_purpose::URL_SAFE.encode(s)),
        ("base64", false) => {
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).ok()?).ok()
        }
        ("urlbase64", false) => {
            String::from_utf8(base64::engine::general_purpose::URL_SAFE.decode(s).ok()?).ok()
        }
        _ => None,
    }
}

fn escape(escape: bool, target: &str, s: &str) -> String {
    let pairs: &[(&str, &str)] = match target {
        "html" => &[
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\"", "&quot;"),
            ("'", "&#39;"),
        ],
        "json" => &[
            ("\\", "\\\\"),
            ("\"", "\\\""),
            ("\n", "\\n"),
            ("\t", "\\t"),
            ("\r", "\\r"),
        ],
        _ => &[],
    };
    let mut out = s.to_string();
    if escape {
        for (from, to) in pairs {
            out = out.replace(from, to);
        }
    } else {
        for (from, to) in pairs.iter().rev() {
            out = out.replace(to, from);
        }
    }
    out
}

/// Whether a narrative passes FHIR's `txt-1` (what `htmlChecks()`
/// answers): well-formed XHTML rooted in a `div`, using only the elements,
/// attributes and URLs the narrative rules allow. See
/// [`crate::format::xhtml`], which decides it by allow-lists.
///
/// # Examples
/// ```
/// use fhir_core::fhirpath::html_is_safe;
/// assert!(html_is_safe(r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>ok</b></div>"#));
/// assert!(!html_is_safe(r#"<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">no</p></div>"#));
/// ```
pub fn html_is_safe(xhtml: &str) -> bool {
    crate::format::xhtml::passes_txt1(xhtml)
}
