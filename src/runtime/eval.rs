//! Evaluating expressions over JSON values. Never panics: every way an expression
//! can go wrong at run time is an [`EvalError`] carrying the expression's span.

use crate::ast::{BinaryOp, CompareOp, Expr, ExprKind, UnaryOp};
use crate::program::{Builtin, MAX_RANGE};
use crate::source::Span;
use serde_json::{Map, Number, Value};

/// What an expression can read.
pub trait Scope {
    fn input(&self) -> &Value;
    /// A bound name; `None` for a name bound only on a path not taken (it reads as null).
    fn get(&self, name: &str) -> Option<&Value>;
    /// What `now()` reads: the engine's clock.
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
    /// What `secret("NAME")` reads; only an HTTP agent's headers, a
    /// subprocess's `env` and a model's `key` see any.
    fn secret(&self, _name: &str) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub message: String,
    pub span: Span,
}

type Result<T> = std::result::Result<T, EvalError>;

fn error<T>(span: Span, message: impl Into<String>) -> Result<T> {
    Err(EvalError {
        message: message.into(),
        span,
    })
}

/// A value written without names (a test's inputs and expected values): `input`
/// reads null and `now()` reads `now`.
pub fn constant(expr: &Expr, now: chrono::DateTime<chrono::Utc>) -> Result<Value> {
    struct Constant(chrono::DateTime<chrono::Utc>);
    impl Scope for Constant {
        fn input(&self) -> &Value {
            &Value::Null
        }
        fn get(&self, _: &str) -> Option<&Value> {
            None
        }
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            self.0
        }
    }
    eval(expr, &Constant(now))
}

/// A number as JSON: whole numbers stay integers, so `1 + 1` prints `2`, not `2.0`.
pub fn number(value: f64, span: Span) -> Result<Value> {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(value as i64));
    }
    match Number::from_f64(value) {
        Some(n) => Ok(Value::Number(n)),
        None => error(span, format!("the result is not a finite number ({value})")),
    }
}

pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value> {
    let span = expr.span;
    match &expr.kind {
        ExprKind::Number(n) => number(*n, span),
        ExprKind::String(s) => Ok(Value::String(s.clone())),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::Null => Ok(Value::Null),
        ExprKind::Input => Ok(scope.input().clone()),
        ExprKind::Name(name) => Ok(scope.get(&name.name).cloned().unwrap_or(Value::Null)),
        ExprKind::List(items) => items
            .iter()
            .map(|item| eval(item, scope))
            .collect::<Result<_>>()
            .map(Value::Array),
        ExprKind::Object(fields) => {
            let mut map = Map::new();
            for (name, value) in fields {
                map.insert(name.name.clone(), eval(value, scope)?);
            }
            Ok(Value::Object(map))
        }
        ExprKind::Field(base, field) => match eval(base, scope)? {
            Value::Object(mut map) => Ok(map.remove(&field.name).unwrap_or(Value::Null)),
            // Reading through null yields null, as optional values do in the checker.
            Value::Null => Ok(Value::Null),
            other => error(
                field.span,
                format!("cannot read field `{}` of {}", field.name, describe(&other)),
            ),
        },
        ExprKind::Index(base, index) => {
            let base_value = eval(base, scope)?;
            let index_value = eval(index, scope)?;
            index_into(base_value, &index_value, index.span)
        }
        ExprKind::Unary(op, operand) => {
            let value = eval(operand, scope)?;
            match (op, &value) {
                (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (UnaryOp::Negate, Value::Number(n)) => number(-as_f64(n), span),
                (UnaryOp::Not, other) => error(
                    span,
                    format!("`not` needs a bool, found {}", describe(other)),
                ),
                (UnaryOp::Negate, other) => error(
                    span,
                    format!("`-` needs a number, found {}", describe(other)),
                ),
            }
        }
        ExprKind::Binary(op, left, right) => binary(*op, left, right, scope, span),
        ExprKind::If(condition, then, otherwise) => {
            if truth(
                &eval(condition, scope)?,
                condition.span,
                "an `if` condition",
            )? {
                eval(then, scope)
            } else {
                eval(otherwise, scope)
            }
        }
        ExprKind::Call(name, args) => {
            let values = args
                .iter()
                .map(|a| eval(a, scope))
                .collect::<Result<Vec<_>>>()?;
            function(&name.name, &values, span, scope)
        }
    }
}

/// A condition's value, which must be a bool.
pub fn truth(value: &Value, span: Span, what: &str) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => error(
            span,
            format!("{what} needs a bool, found {}", describe(other)),
        ),
    }
}

pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the bool {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() > 40 => "a string".into(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(items) => format!("a list of {}", items.len()),
        Value::Object(_) => "an object".into(),
    }
}

fn as_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

fn index_into(base: Value, index: &Value, span: Span) -> Result<Value> {
    match (base, index) {
        (Value::Array(mut items), Value::Number(n)) => {
            let i = as_f64(n);
            if i.fract() != 0.0 || i < 0.0 || i >= items.len() as f64 {
                return error(
                    span,
                    format!("index {n} is out of range for a list of {}", items.len()),
                );
            }
            Ok(items.swap_remove(i as usize))
        }
        (Value::Object(mut map), Value::String(key)) => Ok(map.remove(key).unwrap_or(Value::Null)),
        (Value::String(s), Value::Number(n)) => {
            let i = as_f64(n);
            let c = (i.fract() == 0.0 && i >= 0.0)
                .then(|| s.chars().nth(i as usize))
                .flatten();
            match c {
                Some(c) => Ok(Value::String(c.to_string())),
                None => error(
                    span,
                    format!(
                        "index {n} is out of range for a string of {}",
                        s.chars().count()
                    ),
                ),
            }
        }
        (Value::Null, _) => Ok(Value::Null),
        (base, index) => error(
            span,
            format!("cannot index {} with {}", describe(&base), describe(index)),
        ),
    }
}

fn binary(op: BinaryOp, left: &Expr, right: &Expr, scope: &dyn Scope, span: Span) -> Result<Value> {
    let symbol = op.symbol();
    // `and`/`or` short-circuit.
    if let BinaryOp::And | BinaryOp::Or = op {
        let l = truth(&eval(left, scope)?, left.span, &format!("`{symbol}`"))?;
        if l == (op == BinaryOp::Or) {
            return Ok(Value::Bool(l));
        }
        return Ok(Value::Bool(truth(
            &eval(right, scope)?,
            right.span,
            &format!("`{symbol}`"),
        )?));
    }
    let l = eval(left, scope)?;
    let r = eval(right, scope)?;
    match op {
        BinaryOp::Compare(CompareOp::Eq) => Ok(Value::Bool(equal(&l, &r))),
        BinaryOp::Compare(CompareOp::Ne) => Ok(Value::Bool(!equal(&l, &r))),
        BinaryOp::Compare(cmp) => {
            let ordering = match (&l, &r) {
                (Value::Number(a), Value::Number(b)) => as_f64(a).partial_cmp(&as_f64(b)),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                _ => None,
            };
            let Some(ordering) = ordering else {
                return error(
                    span,
                    format!(
                        "cannot compare {} with {} using `{symbol}`",
                        describe(&l),
                        describe(&r)
                    ),
                );
            };
            Ok(Value::Bool(match cmp {
                CompareOp::Lt => ordering.is_lt(),
                CompareOp::Le => ordering.is_le(),
                CompareOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            }))
        }
        BinaryOp::Add => match (l, r) {
            (Value::Number(a), Value::Number(b)) => number(as_f64(&a) + as_f64(&b), span),
            (Value::String(a), Value::String(b)) => Ok(Value::String(a + &b)),
            (Value::Array(mut a), Value::Array(b)) => {
                a.extend(b);
                Ok(Value::Array(a))
            }
            (l, r) => error(
                span,
                format!("cannot add {} and {}", describe(&l), describe(&r)),
            ),
        },
        _ => {
            let (Value::Number(a), Value::Number(b)) = (&l, &r) else {
                return error(
                    span,
                    format!(
                        "`{symbol}` needs numbers, found {} and {}",
                        describe(&l),
                        describe(&r)
                    ),
                );
            };
            let (a, b) = (as_f64(a), as_f64(b));
            if matches!(op, BinaryOp::Divide | BinaryOp::Remainder) && b == 0.0 {
                return error(span, "division by zero");
            }
            number(
                match op {
                    BinaryOp::Subtract => a - b,
                    BinaryOp::Multiply => a * b,
                    BinaryOp::Divide => a / b,
                    _ => a % b,
                },
                span,
            )
        }
    }
}

/// JSON equality where `1` equals `1.0`.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => as_f64(x) == as_f64(y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn numbers<'a>(name: &str, values: &'a [Value], span: Span) -> Result<Vec<f64>> {
    let items: &'a [Value] = match values {
        [Value::Array(items)] => items,
        _ => values,
    };
    items
        .iter()
        .map(|v| match v {
            Value::Number(n) => Ok(as_f64(n)),
            other => error(
                span,
                format!("`{name}` needs numbers, found {}", describe(other)),
            ),
        })
        .collect()
}

/// `range(end)` or `range(start, end)`: the whole numbers from `start` (0) up to but
/// not including `end`; empty when `end` is not above `start`.
fn range(bounds: &[Value], span: Span) -> Result<Value> {
    let mut whole = Vec::new();
    for bound in bounds {
        match bound.as_f64() {
            Some(n) if n.fract() == 0.0 && n.abs() <= 1e15 => whole.push(n as i64),
            _ => {
                return error(
                    span,
                    format!("`range` needs whole numbers, found {}", describe(bound)),
                )
            }
        }
    }
    let (start, end) = match whole[..] {
        [end] => (0, end),
        [start, end] => (start, end),
        _ => return error(span, "`range` takes an end, or a start and an end"),
    };
    let count = end.saturating_sub(start).max(0) as u64;
    if count > MAX_RANGE as u64 {
        return error(
            span,
            format!("`range` of {count} numbers is more than the limit of {MAX_RANGE}"),
        );
    }
    Ok(Value::Array((start..end).map(Value::from).collect()))
}

fn function(name: &str, args: &[Value], span: Span, scope: &dyn Scope) -> Result<Value> {
    use Builtin::*;
    match (Builtin::from_name(name), args) {
        (Some(Len), [Value::Array(items)]) => Ok(Value::from(items.len())),
        (Some(Len), [Value::String(s)]) => Ok(Value::from(s.chars().count())),
        (Some(Len), [Value::Object(map)]) => Ok(Value::from(map.len())),
        (Some(Sum), [Value::Array(_)]) => number(numbers(name, args, span)?.iter().sum(), span),
        (Some(builtin @ (Min | Max)), _) => {
            let values = numbers(name, args, span)?;
            let pick = if builtin == Min { f64::min } else { f64::max };
            match values.into_iter().reduce(pick) {
                Some(v) => number(v, span),
                None => error(span, format!("`{name}` of an empty list")),
            }
        }
        (Some(Round), [Value::Number(n)]) => number(as_f64(n).round(), span),
        (Some(Round), [Value::Number(n), Value::Number(digits)]) => {
            let scale = 10f64.powi(as_f64(digits).clamp(0.0, 15.0) as i32);
            number((as_f64(n) * scale).round() / scale, span)
        }
        (Some(Range), bounds) => range(bounds, span),
        (Some(Secret), [Value::String(secret)]) => match scope.secret(secret) {
            Some(value) => Ok(Value::String(value)),
            None => error(
                span,
                format!("secret `{secret}` is not set in the environment"),
            ),
        },
        (Some(Now), []) => Ok(Value::String(crate::store::timestamp(scope.now()))),
        (Some(Concat), [Value::String(_), ..]) => {
            let mut out = String::new();
            for arg in args {
                match arg {
                    Value::String(s) => out.push_str(s),
                    other => {
                        return error(span, format!("`concat` of strings got {}", describe(other)))
                    }
                }
            }
            Ok(Value::String(out))
        }
        (Some(Concat), [Value::Array(_), ..]) => {
            let mut out = Vec::new();
            for arg in args {
                match arg {
                    Value::Array(items) => out.extend(items.iter().cloned()),
                    other => {
                        return error(span, format!("`concat` of lists got {}", describe(other)))
                    }
                }
            }
            Ok(Value::Array(out))
        }
        (_, args) => {
            let found: Vec<String> = args.iter().map(describe).collect();
            error(span, format!("`{name}` cannot take ({})", found.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    struct Vars(Value, HashMap<String, Value>);

    impl Scope for Vars {
        fn input(&self) -> &Value {
            &self.0
        }
        fn get(&self, name: &str) -> Option<&Value> {
            self.1.get(name)
        }
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            crate::store::parse_timestamp("2026-11-25T12:00:00Z").unwrap_or_default()
        }
    }

    fn run(text: &str) -> std::result::Result<Value, String> {
        let source = format!("agent a {{ compute {{ v: {text} }} }}");
        let (file, diagnostics) = crate::syntax::parse(&source, crate::source::FileId(0));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let crate::ast::Item::Agent(agent) = &file.items[0] else {
            unreachable!()
        };
        let crate::ast::AgentBody::Compute(body) = &agent.bodies[0] else {
            unreachable!()
        };
        let vars = Vars(
            json!({ "amounts": [1, 2.5, 3], "name": "Ada" }),
            HashMap::from([("x".to_string(), json!(4))]),
        );
        eval(body, &vars)
            .map(|v| v["v"].clone())
            .map_err(|e| e.message)
    }

    #[test]
    fn arithmetic_keeps_whole_numbers_whole() {
        assert_eq!(run("1 + 2 * 3"), Ok(json!(7)));
        assert_eq!(run("(1 + 2) * 3"), Ok(json!(9)));
        assert_eq!(run("7 / 2"), Ok(json!(3.5)));
        assert_eq!(run("-x + 1"), Ok(json!(-3)));
        assert_eq!(run("sum(input.amounts)"), Ok(json!(6.5)));
        assert_eq!(run("round(2.345, 2)"), Ok(json!(2.35)));
        assert_eq!(run("max(1, x, 3)"), Ok(json!(4)));
    }

    #[test]
    fn strings_lists_and_conditions() {
        assert_eq!(run("\"Hi \" + input.name"), Ok(json!("Hi Ada")));
        assert_eq!(run("concat([1], [2, 3])"), Ok(json!([1, 2, 3])));
        assert_eq!(
            run("if x > 3 and not false then \"big\" else \"small\""),
            Ok(json!("big"))
        );
        assert_eq!(run("len(input.amounts) == 3"), Ok(json!(true)));
        assert_eq!(run("input.missing.deeper"), Ok(json!(null)));
        assert_eq!(run("unbound"), Ok(json!(null)));
        assert_eq!(run("1 == 1.0"), Ok(json!(true)));
    }

    #[test]
    fn runtime_type_errors_are_errors_not_panics() {
        assert_eq!(run("1 / 0"), Err("division by zero".into()));
        assert_eq!(
            run("input.amounts[7]"),
            Err("index 7 is out of range for a list of 3".into())
        );
        assert!(run("input.name * 2").unwrap_err().contains("needs numbers"));
        assert!(run("x.field")
            .unwrap_err()
            .contains("cannot read field `field` of the number 4"));
        assert!(run("min(input.name)").is_err());
        assert!(run("1e308 * 10")
            .unwrap_err()
            .contains("not a finite number"));
        assert!(run("false or 1").unwrap_err().contains("needs a bool"));
    }

    #[test]
    fn ranges_are_whole_numbers_up_to_a_limit() {
        assert_eq!(run("range(3)"), Ok(json!([0, 1, 2])));
        assert_eq!(run("range(x - 2, x)"), Ok(json!([2, 3])));
        assert_eq!(run("range(0)"), Ok(json!([])));
        assert_eq!(run("range(5, 2)"), Ok(json!([])));
        assert_eq!(run("range(-2)"), Ok(json!([])));
        assert!(run("range(2.5)")
            .unwrap_err()
            .contains("needs whole numbers, found the number 2.5"));
        assert!(run("range(\"3\")").unwrap_err().contains("whole numbers"));
        // Huge or hostile bounds are refused before anything is allocated.
        assert!(run("range(1e12)")
            .unwrap_err()
            .contains("more than the limit"));
        assert!(run("range(-1e15, 1e15)")
            .unwrap_err()
            .contains("more than the limit"));
        assert!(run("range(1e300)").unwrap_err().contains("whole numbers"));
    }
}
