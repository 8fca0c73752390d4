//! The types values have: what `input`/`output` declarations mean, and the "fits"
//! relation the checker uses for agent inputs, chains and `compute` results. The
//! runtime uses the same [`Type`] to validate JSON at agent boundaries.

use crate::ast::{TypeExpr, TypeExprKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::ControlFlow;

#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Unknown or anything: fits everywhere, and everything fits it.
    Any,
    Null,
    Bool,
    Number,
    String,
    List(Box<Type>),
    /// Fields by name; a value may carry more fields than its type names.
    Object(BTreeMap<String, Type>),
    /// The value or `null`.
    Optional(Box<Type>),
}

/// Why a value does not fit a type, located by a field path like `lead.score`.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    MissingField {
        path: String,
    },
    Wrong {
        path: String,
        expected: Type,
        found: Type,
    },
    MaybeNull {
        path: String,
    },
}

impl Type {
    pub fn from_ast(expr: &TypeExpr) -> Type {
        match &expr.kind {
            TypeExprKind::Number => Type::Number,
            TypeExprKind::String => Type::String,
            TypeExprKind::Bool => Type::Bool,
            TypeExprKind::Null => Type::Null,
            TypeExprKind::Any => Type::Any,
            TypeExprKind::List(item) => Type::List(Box::new(Type::from_ast(item))),
            TypeExprKind::Object(fields) => Type::Object(
                fields
                    .iter()
                    .map(|(name, ty)| (name.name.clone(), Type::from_ast(ty)))
                    .collect(),
            ),
            TypeExprKind::Optional(inner) => Type::from_ast(inner).optional(),
        }
    }

    /// `T?`; optional of optional, null or any stays as it is.
    pub fn optional(self) -> Type {
        match self {
            Type::Optional(_) | Type::Null | Type::Any => self,
            other => Type::Optional(Box::new(other)),
        }
    }

    /// The non-null part of an optional type.
    pub fn required(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Type::Optional(_))
    }

    /// Checks that a value of type `self` can be used where `expected` is wanted.
    pub fn fits(&self, expected: &Type) -> Result<(), Mismatch> {
        self.fits_at(expected, "")
    }

    fn fits_at(&self, expected: &Type, path: &str) -> Result<(), Mismatch> {
        let wrong = || Mismatch::Wrong {
            path: path.to_string(),
            expected: expected.clone(),
            found: self.clone(),
        };
        match (self, expected) {
            (_, Type::Any) | (Type::Any, _) => Ok(()),
            (Type::Null, Type::Optional(_)) => Ok(()),
            (Type::Optional(found), Type::Optional(wanted)) => found.fits_at(wanted, path),
            (found, Type::Optional(wanted)) => found.fits_at(wanted, path),
            (Type::Optional(_), _) => Err(Mismatch::MaybeNull {
                path: path.to_string(),
            }),
            (Type::List(found), Type::List(wanted)) => found.fits_at(wanted, &join(path, "[]")),
            (Type::Object(found), Type::Object(wanted)) => {
                for (name, wanted_type) in wanted {
                    let field_path = join(path, name);
                    match found.get(name) {
                        Some(found_type) => found_type.fits_at(wanted_type, &field_path)?,
                        None if wanted_type.is_optional() => {}
                        None => return Err(Mismatch::MissingField { path: field_path }),
                    }
                }
                Ok(())
            }
            (found, wanted) if found == wanted => Ok(()),
            _ => Err(wrong()),
        }
    }

    /// The JSON Schema of values of this type, as structured output in strict
    /// mode accepts it: every field listed as required (an optional one may be
    /// `null`) and no others. `None` where strict mode cannot say it (`any`).
    pub fn json_schema(&self) -> Option<Value> {
        self.schema(&None)
    }

    /// The same schema with `any` as `{}` (anything): what a form for a
    /// workflow's input is generated from.
    pub fn form_schema(&self) -> Value {
        self.schema(&Some(serde_json::json!({})))
            .unwrap_or_else(|| serde_json::json!({}))
    }

    /// The schema, with `any` as `any` says (`None`: the whole has none).
    fn schema(&self, any: &Option<Value>) -> Option<Value> {
        use serde_json::json;
        Some(match self {
            Type::Any => return any.clone(),
            Type::Null => json!({ "type": "null" }),
            Type::Bool => json!({ "type": "boolean" }),
            Type::Number => json!({ "type": "number" }),
            Type::String => json!({ "type": "string" }),
            Type::List(item) => json!({ "type": "array", "items": item.schema(any)? }),
            Type::Object(fields) => {
                let mut properties = serde_json::Map::new();
                for (name, ty) in fields {
                    properties.insert(name.clone(), ty.schema(any)?);
                }
                json!({
                    "type": "object",
                    "properties": properties,
                    "required": fields.keys().collect::<Vec<_>>(),
                    "additionalProperties": false,
                })
            }
            Type::Optional(inner) => {
                json!({ "anyOf": [inner.schema(any)?, { "type": "null" }] })
            }
        })
    }

    /// Checks a JSON value against this type at run time; the mismatch names the path.
    pub fn admits(&self, value: &Value) -> Result<(), Mismatch> {
        let mut first = None;
        let _ = self.visit(value, "", &mut |mismatch| {
            first = Some(mismatch);
            ControlFlow::Break(())
        });
        first.map_or(Ok(()), Err)
    }

    /// Every way a JSON value does not fit this type, in field order, each naming
    /// its path: what a person fixes at once (a workflow's input).
    pub fn mismatches(&self, value: &Value) -> Vec<Mismatch> {
        let mut all = Vec::new();
        let _ = self.visit(value, "", &mut |mismatch| {
            all.push(mismatch);
            ControlFlow::Continue(())
        });
        all
    }

    /// Hands each mismatch to `found`, until it breaks.
    fn visit(
        &self,
        value: &Value,
        path: &str,
        found: &mut impl FnMut(Mismatch) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match (self, value) {
            (Type::Any, _) | (Type::Null, Value::Null) | (Type::Bool, Value::Bool(_)) => {
                ControlFlow::Continue(())
            }
            (Type::Number, Value::Number(_)) | (Type::String, Value::String(_)) => {
                ControlFlow::Continue(())
            }
            (Type::Optional(_), Value::Null) => ControlFlow::Continue(()),
            (Type::Optional(inner), value) => inner.visit(value, path, found),
            (_, Value::Null) => found(Mismatch::MaybeNull {
                path: path.to_string(),
            }),
            (Type::List(item), Value::Array(items)) => {
                for (i, value) in items.iter().enumerate() {
                    item.visit(value, &format!("{path}[{i}]"), found)?;
                }
                ControlFlow::Continue(())
            }
            (Type::Object(fields), Value::Object(map)) => {
                for (name, ty) in fields {
                    let field_path = join(path, name);
                    match map.get(name) {
                        Some(value) => ty.visit(value, &field_path, found)?,
                        None if ty.is_optional() => {}
                        None => found(Mismatch::MissingField { path: field_path })?,
                    }
                }
                ControlFlow::Continue(())
            }
            _ => found(Mismatch::Wrong {
                path: path.to_string(),
                expected: self.clone(),
                found: Type::of_value(value),
            }),
        }
    }

    /// The shallow type of a JSON value, for messages.
    pub fn of_value(value: &Value) -> Type {
        match value {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::Array(_) => Type::List(Box::new(Type::Any)),
            Value::Object(_) => Type::Object(BTreeMap::new()),
        }
    }

    /// The type of a value that is `self` on one path and `other` on another.
    pub fn join(&self, other: &Type) -> Type {
        match (self, other) {
            (a, b) if a == b => a.clone(),
            (Type::Any, _) | (_, Type::Any) => Type::Any,
            (Type::Null, t) | (t, Type::Null) => t.clone().optional(),
            (Type::Optional(a), b) | (b, Type::Optional(a)) => a.join(b).optional(),
            (Type::List(a), Type::List(b)) => Type::List(Box::new(a.join(b))),
            (Type::Object(a), Type::Object(b)) => Type::Object(
                a.iter()
                    .filter_map(|(name, ty)| {
                        b.get(name).map(|other| (name.clone(), ty.join(other)))
                    })
                    .collect(),
            ),
            _ => Type::Any,
        }
    }

    /// "a number", "an object { … }": for messages.
    pub fn describe(&self) -> String {
        match self {
            Type::Any => "any value".into(),
            Type::Null => "null".into(),
            Type::Optional(inner) => format!("{} or null", inner.describe()),
            Type::Object(_) => format!("an object `{self}`"),
            Type::List(_) => format!("a list `{self}`"),
            other => format!("a {other}"),
        }
    }
}

fn join(path: &str, field: &str) -> String {
    match (path.is_empty(), field) {
        (true, _) => field.to_string(),
        (false, "[]") => format!("{path}[]"),
        (false, _) => format!("{path}.{field}"),
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::Null => f.write_str("null"),
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::List(item) => write!(f, "[{item}]"),
            Type::Object(fields) => {
                f.write_str("{ ")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str(if fields.is_empty() { "}" } else { " }" })
            }
            Type::Optional(inner) => write!(f, "{inner}?"),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::MissingField { path } => write!(f, "field `{path}` is missing"),
            Mismatch::Wrong {
                path,
                expected,
                found,
            } if path.is_empty() => write!(
                f,
                "expected {}, found {}",
                expected.describe(),
                found.describe()
            ),
            Mismatch::Wrong {
                path,
                expected,
                found,
            } => write!(
                f,
                "field `{path}` should be {}, found {}",
                expected.describe(),
                found.describe()
            ),
            Mismatch::MaybeNull { path } if path.is_empty() => f.write_str("the value may be null"),
            Mismatch::MaybeNull { path } => write!(f, "field `{path}` may be null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(fields: &[(&str, Type)]) -> Type {
        Type::Object(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn wider_objects_fit_narrower_ones() {
        let found = object(&[("a", Type::Number), ("b", Type::String)]);
        assert_eq!(found.fits(&object(&[("a", Type::Number)])), Ok(()));
    }

    #[test]
    fn missing_and_wrong_fields_are_named_by_path() {
        let found = object(&[("lead", object(&[("score", Type::String)]))]);
        let wanted = object(&[(
            "lead",
            object(&[("score", Type::Number), ("id", Type::String)]),
        )]);
        assert_eq!(
            found.fits(&wanted),
            Err(Mismatch::MissingField {
                path: "lead.id".into()
            })
        );
        let wanted = object(&[("lead", object(&[("score", Type::Number)]))]);
        assert!(
            matches!(found.fits(&wanted), Err(Mismatch::Wrong { path, .. }) if path == "lead.score")
        );
    }

    #[test]
    fn optional_values_do_not_fit_required_ones() {
        assert_eq!(
            Type::Number.optional().fits(&Type::Number),
            Err(Mismatch::MaybeNull { path: "".into() })
        );
        assert_eq!(Type::Null.fits(&Type::Number.optional()), Ok(()));
        assert_eq!(Type::Number.fits(&Type::Number.optional()), Ok(()));
    }

    #[test]
    fn values_are_checked_against_types_with_paths() {
        let ty = object(&[
            ("lead", object(&[("score", Type::Number)])),
            ("tags", Type::List(Box::new(Type::String))),
        ]);
        let ok = serde_json::json!({ "lead": { "score": 3 }, "tags": ["a"], "extra": true });
        assert_eq!(ty.admits(&ok), Ok(()));
        let bad = serde_json::json!({ "lead": { "score": "3" }, "tags": [] });
        assert!(
            matches!(ty.admits(&bad), Err(Mismatch::Wrong { path, .. }) if path == "lead.score")
        );
        let bad = serde_json::json!({ "lead": {}, "tags": [] });
        assert_eq!(
            ty.admits(&bad),
            Err(Mismatch::MissingField {
                path: "lead.score".into()
            })
        );
        let bad = serde_json::json!({ "lead": { "score": 1 }, "tags": ["a", 2] });
        assert!(matches!(ty.admits(&bad), Err(Mismatch::Wrong { path, .. }) if path == "tags[1]"));
        assert_eq!(
            Type::Number.optional().admits(&serde_json::Value::Null),
            Ok(())
        );
    }

    #[test]
    fn join_of_null_and_a_type_is_optional() {
        assert_eq!(Type::Null.join(&Type::String), Type::String.optional());
        assert_eq!(Type::Number.join(&Type::String), Type::Any);
    }
}
