//! The lenient reader: typed values out of `serde_json::Value`, recording a [`Warning`]
//! (with the JSON path) for every deviation it tolerates.
//!
//! Paths are a linked list of borrowed segments so that nothing is allocated unless a
//! warning is actually written: the common, well-formed case stays fast.

use serde_json::{Map, Value};

use crate::Warning;
use crate::datetime::FhirDateTime;

/// One step of a JSON path.
#[derive(Clone, Copy)]
pub(crate) enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// A JSON path, built on the stack while descending.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

impl<'a> Path<'a> {
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    pub(crate) fn key(&'a self, k: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Key(k),
        }
    }

    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    fn render(&self, out: &mut String) {
        if let Some(p) = self.parent {
            p.render(out);
        }
        match self.seg {
            Seg::Root => {}
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }

    pub(crate) fn to_path_string(self) -> String {
        let mut s = String::new();
        self.render(&mut s);
        s
    }
}

/// Collects warnings for one resource.
pub(crate) struct Ctx<'w> {
    pub(crate) resource: String,
    pub(crate) warnings: &'w mut Vec<Warning>,
}

impl Ctx<'_> {
    pub(crate) fn warn(&mut self, path: Path<'_>, message: impl Into<String>) {
        self.warnings.push(Warning {
            resource: self.resource.clone(),
            path: path.to_path_string(),
            message: message.into(),
        });
    }
}

/// A JSON object being read, with its path.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub(crate) map: &'a Map<String, Value>,
    pub(crate) path: Path<'a>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Where STU3 has a single value but the source sent an array, take its first element.
pub(crate) fn single<'a>(ctx: &mut Ctx<'_>, v: &'a Value, path: Path<'_>) -> Option<&'a Value> {
    match v {
        Value::Null => None,
        Value::Array(items) => {
            if items.len() == 1 {
                ctx.warn(
                    path,
                    "an array where FHIR STU3 has a single value; its element was used",
                );
            } else {
                ctx.warn(
                    path,
                    format!(
                        "an array of {} where FHIR STU3 has a single value; the first element was used",
                        items.len()
                    ),
                );
            }
            items.first()
        }
        other => Some(other),
    }
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, path: Path<'a>) -> Self {
        Self { map, path }
    }

    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string field. Numbers and booleans are accepted (as their JSON text) with a warning.
    pub(crate) fn string(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<String> {
        let v = self.raw(key)?;
        let p = self.path.key(key);
        let v = single(ctx, v, p)?;
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => {
                ctx.warn(p, "a number where a string was expected; read as text");
                Some(n.to_string())
            }
            Value::Bool(b) => {
                ctx.warn(p, "a boolean where a string was expected; read as text");
                Some(b.to_string())
            }
            other => {
                ctx.warn(
                    p,
                    format!("{} where a string was expected; ignored", kind(other)),
                );
                None
            }
        }
    }

    /// A list of strings; a single string is accepted as a one-element list.
    pub(crate) fn strings(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Vec<String> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let p = self.path.key(key);
        match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| match it {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Null => None,
                    other => {
                        ctx.warn(
                            p.index(i),
                            format!("{} in a list of strings; ignored", kind(other)),
                        );
                        None
                    }
                })
                .collect(),
            Value::String(s) => {
                ctx.warn(
                    p,
                    "a single string where FHIR STU3 has a list; read as a list of one",
                );
                vec![s.clone()]
            }
            other => {
                ctx.warn(
                    p,
                    format!(
                        "{} where a list of strings was expected; ignored",
                        kind(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    pub(crate) fn boolean(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<bool> {
        let v = self.raw(key)?;
        let p = self.path.key(key);
        match single(ctx, v, p)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => {
                ctx.warn(p, "the string \"true\" where a boolean was expected");
                Some(true)
            }
            Value::String(s) if s.eq_ignore_ascii_case("false") => {
                ctx.warn(p, "the string \"false\" where a boolean was expected");
                Some(false)
            }
            other => {
                ctx.warn(
                    p,
                    format!("{} where a boolean was expected; ignored", kind(other)),
                );
                None
            }
        }
    }

    /// A decimal kept as its literal text (HL7 PQ/@value is a decimal literal too).
    pub(crate) fn decimal(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<Decimal> {
        let v = self.raw(key)?;
        let p = self.path.key(key);
        match single(ctx, v, p)? {
            Value::Number(n) => Some(Decimal(n.to_string())),
            Value::String(s) => match Decimal::parse(s) {
                Some(d) => {
                    ctx.warn(
                        p,
                        format!("the number {s:?} was sent as a string; read as a number"),
                    );
                    Some(d)
                }
                None => {
                    ctx.warn(p, format!("{s:?} is not a number; ignored"));
                    None
                }
            },
            other => {
                ctx.warn(
                    p,
                    format!("{} where a number was expected; ignored", kind(other)),
                );
                None
            }
        }
    }

    pub(crate) fn integer(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<i64> {
        let d = self.decimal(ctx, key)?;
        match d.0.parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => {
                ctx.warn(
                    self.path.key(key),
                    format!("{} is not a whole number; ignored", d.0),
                );
                None
            }
        }
    }

    /// A nested object (an array of one is tolerated).
    pub(crate) fn object(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<&'a Map<String, Value>> {
        let v = self.raw(key)?;
        let p = self.path.key(key);
        match single(ctx, v, p)? {
            Value::Object(m) => Some(m),
            other => {
                ctx.warn(
                    p,
                    format!("{} where an object was expected; ignored", kind(other)),
                );
                None
            }
        }
    }

    /// Reads a nested object with `f`.
    pub(crate) fn one<T>(
        &self,
        ctx: &mut Ctx<'_>,
        key: &'a str,
        f: impl FnOnce(&mut Ctx<'_>, Obj<'_>) -> T,
    ) -> Option<T> {
        let m = self.object(ctx, key)?;
        let p = self.path.key(key);
        Some(f(ctx, Obj::new(m, p)))
    }

    /// Reads each object of a list with `f`.
    pub(crate) fn many<T>(
        &self,
        ctx: &mut Ctx<'_>,
        key: &'a str,
        mut f: impl FnMut(&mut Ctx<'_>, Obj<'_>) -> T,
    ) -> Vec<T> {
        let items = self.objects(ctx, key);
        let p = self.path.key(key);
        items
            .into_iter()
            .map(|(i, m)| {
                let pi = p.index(i);
                f(ctx, Obj::new(m, pi))
            })
            .collect()
    }

    /// A list of objects (a single object is tolerated as a list of one).
    pub(crate) fn objects(
        &self,
        ctx: &mut Ctx<'_>,
        key: &'a str,
    ) -> Vec<(usize, &'a Map<String, Value>)> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let p = self.path.key(key);
        match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| match it {
                    Value::Object(m) => Some((i, m)),
                    Value::Null => None,
                    other => {
                        ctx.warn(
                            p.index(i),
                            format!("{} in a list of objects; ignored", kind(other)),
                        );
                        None
                    }
                })
                .collect(),
            Value::Object(m) => {
                ctx.warn(
                    p,
                    "a single object where FHIR STU3 has a list; read as a list of one",
                );
                vec![(0, m)]
            }
            other => {
                ctx.warn(
                    p,
                    format!("{} where a list was expected; ignored", kind(other)),
                );
                Vec::new()
            }
        }
    }

    /// A date or dateTime. Malformed text is kept (for the narrative) with no parsed value.
    pub(crate) fn datetime(&self, ctx: &mut Ctx<'_>, key: &'a str) -> Option<FhirDateTime> {
        let raw = self.string(ctx, key)?;
        let p = self.path.key(key);
        Some(FhirDateTime::read(ctx, p, raw))
    }
}

/// A FHIR decimal kept as its literal text, so `0.50` stays `0.50`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decimal(pub String);

impl Decimal {
    /// Accepts JSON-number syntax (after trimming), which is also a valid HL7 REAL literal.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim();
        let body = t.strip_prefix('-').unwrap_or(t);
        let mut parts = body.splitn(2, '.');
        let int = parts.next().unwrap_or_default();
        let frac = parts.next();
        let ok = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Decimal(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
