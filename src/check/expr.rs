//! Typing expressions: field access on known shapes, operators, conditionals and the
//! built-in functions. A type error yields `any` so one mistake is reported once.

use super::Declarations;
use crate::ast::{BinaryOp, CompareOp, Expr, ExprKind, Ident, UnaryOp};
use crate::diagnostic::{Code, Diagnostic};
use crate::program::Builtin;
use crate::source::Span;
use crate::text as suggest;
use crate::types::Type;
use std::collections::BTreeMap;

/// What an expression can see besides literals.
pub trait Env {
    fn program(&self) -> &Declarations;
    /// Whether `secret("NAME")` may be read here: only where its value goes to a
    /// service and nowhere else (an HTTP agent's headers, a subprocess's `env`, a
    /// model's `key`).
    fn secrets_allowed(&self) -> bool {
        false
    }
    fn input_type(&self) -> Type;
    /// The type of a name, reporting it when the name means nothing here.
    fn resolve(&mut self, name: &Ident, out: &mut Vec<Diagnostic>) -> Type;
}

pub fn type_of(expr: &Expr, env: &mut impl Env, out: &mut Vec<Diagnostic>) -> Type {
    match &expr.kind {
        ExprKind::Number(n) => {
            if !n.is_finite() {
                out.push(super::values::invalid_number(expr.span));
            }
            Type::Number
        }
        ExprKind::String(_) => Type::String,
        ExprKind::Bool(_) => Type::Bool,
        ExprKind::Null => Type::Null,
        ExprKind::Input => env.input_type(),
        ExprKind::Name(name) => env.resolve(name, out),
        ExprKind::List(items) => {
            let mut item_type: Option<Type> = None;
            for item in items {
                let ty = type_of(item, env, out);
                item_type = Some(match item_type {
                    Some(previous) => previous.join(&ty),
                    None => ty,
                });
            }
            Type::List(Box::new(item_type.unwrap_or(Type::Any)))
        }
        ExprKind::Object(fields) => {
            let mut types = BTreeMap::new();
            for (name, value) in fields {
                let ty = type_of(value, env, out);
                if types.insert(name.name.clone(), ty).is_some() {
                    out.push(Diagnostic::new(
                        Code::DuplicateProperty,
                        name.span,
                        format!("field `{}` is set twice in this object", name.name),
                        "set again here",
                    ));
                }
            }
            Type::Object(types)
        }
        ExprKind::Field(base, field) => {
            let base_type = type_of(base, env, out);
            field_type(&base_type, field, base.span, out)
        }
        ExprKind::Index(base, index) => {
            let base_type = type_of(base, env, out);
            let index_type = type_of(index, env, out);
            index_result(&base_type, &index_type, base.span, index.span, out)
        }
        ExprKind::Unary(op, operand) => {
            let ty = type_of(operand, env, out);
            let wanted = match op {
                UnaryOp::Not => Type::Bool,
                UnaryOp::Negate => Type::Number,
            };
            expect(&ty, &wanted, operand.span, op_name(*op), out);
            wanted
        }
        ExprKind::Binary(op, left, right) => {
            let l = type_of(left, env, out);
            let r = type_of(right, env, out);
            binary(*op, (&l, left.span), (&r, right.span), out)
        }
        ExprKind::If(condition, then, otherwise) => {
            let c = type_of(condition, env, out);
            expect(&c, &Type::Bool, condition.span, "an `if` condition", out);
            let a = type_of(then, env, out);
            let b = type_of(otherwise, env, out);
            a.join(&b)
        }
        ExprKind::Call(name, args) => {
            if name.name == Builtin::Secret.name() {
                secret(expr, args, env.secrets_allowed(), out);
            }
            let types: Vec<(Type, Span)> = args
                .iter()
                .map(|a| (type_of(a, env, out), a.span))
                .collect();
            function(name, &types, expr.span, env.program(), out)
        }
    }
}

/// `secret("NAME")` where a secret may go, naming it with a literal, so that the
/// names a program needs are known before it runs.
fn secret(call: &Expr, args: &[Expr], allowed: bool, out: &mut Vec<Diagnostic>) {
    if !allowed {
        out.push(
            Diagnostic::new(
                Code::MisplacedSecret,
                call.span,
                "a secret can only be read in an HTTP agent's `headers`, a subprocess agent's `env` or a language model's `key`",
                "its value could be recorded here",
            )
            .with_help("secrets go to services, never into values that are stored or shown"),
        );
    }
    if let [arg] = args {
        if !matches!(arg.kind, ExprKind::String(_)) {
            out.push(Diagnostic::new(
                Code::MisplacedSecret,
                arg.span,
                "`secret` takes the secret's name as a string literal",
                "not a literal",
            ));
        }
    }
}

fn op_name(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Not => "`not`",
        UnaryOp::Negate => "`-`",
    }
}

/// Reports `found` where `wanted` is needed by `context`; `any` is always accepted.
pub fn expect(
    found: &Type,
    wanted: &Type,
    span: Span,
    context: &str,
    out: &mut Vec<Diagnostic>,
) -> bool {
    match found.fits(wanted) {
        Ok(()) => true,
        Err(mismatch) => {
            let mut diagnostic = Diagnostic::new(
                Code::TypeMismatch,
                span,
                format!(
                    "{context} needs {}, found {}",
                    wanted.describe(),
                    found.describe()
                ),
                mismatch.to_string(),
            );
            if found.is_optional() {
                diagnostic = diagnostic.with_help(
                    "the value is only set on some paths; guard it with `when name != null { … }`",
                );
            }
            out.push(diagnostic);
            false
        }
    }
}

fn field_type(base: &Type, field: &Ident, base_span: Span, out: &mut Vec<Diagnostic>) -> Type {
    match base {
        Type::Any => Type::Any,
        Type::Optional(inner) => field_type(inner, field, base_span, out).optional(),
        Type::Object(fields) => match fields.get(&field.name) {
            Some(ty) => ty.clone(),
            None => {
                let help = suggest::did_you_mean(&field.name, fields.keys().map(String::as_str))
                    .unwrap_or_else(|| format!("the fields are: {}", field_list(fields)));
                out.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        field.span,
                        format!("no field `{}` on {}", field.name, base.describe()),
                        "unknown field",
                    )
                    .with_label(base_span, format!("this is `{base}`"))
                    .with_help(help),
                );
                Type::Any
            }
        },
        other => {
            out.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    field.span,
                    format!("cannot read field `{}` of {}", field.name, other.describe()),
                    "field access on a non-object",
                )
                .with_label(base_span, format!("this is {}", other.describe())),
            );
            Type::Any
        }
    }
}

fn field_list(fields: &BTreeMap<String, Type>) -> String {
    if fields.is_empty() {
        return "none".into();
    }
    fields
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn index_result(
    base: &Type,
    index: &Type,
    base_span: Span,
    index_span: Span,
    out: &mut Vec<Diagnostic>,
) -> Type {
    match base.required() {
        Type::Any => Type::Any,
        Type::List(item) => {
            expect(index, &Type::Number, index_span, "a list index", out);
            let item = (**item).clone();
            if base.is_optional() {
                item.optional()
            } else {
                item
            }
        }
        Type::Object(_) => {
            expect(index, &Type::String, index_span, "an object key", out);
            Type::Any
        }
        Type::String => {
            expect(index, &Type::Number, index_span, "a string index", out);
            Type::String
        }
        other => {
            out.push(Diagnostic::new(
                Code::TypeMismatch,
                base_span,
                format!("cannot index into {}", other.describe()),
                "neither a list, an object nor a string",
            ));
            Type::Any
        }
    }
}

fn binary(
    op: BinaryOp,
    (l, ls): (&Type, Span),
    (r, rs): (&Type, Span),
    out: &mut Vec<Diagnostic>,
) -> Type {
    let context = format!("`{}`", op.symbol());
    match op {
        BinaryOp::And | BinaryOp::Or => {
            expect(l, &Type::Bool, ls, &context, out);
            expect(r, &Type::Bool, rs, &context, out);
            Type::Bool
        }
        BinaryOp::Compare(CompareOp::Eq | CompareOp::Ne) => Type::Bool,
        BinaryOp::Compare(_) => {
            match (l, r) {
                (Type::String, Type::String) | (Type::Any, _) | (_, Type::Any) => {}
                _ => {
                    expect(l, &Type::Number, ls, &context, out);
                    expect(r, &Type::Number, rs, &context, out);
                }
            }
            Type::Bool
        }
        BinaryOp::Add => match (l, r) {
            (Type::Any, _) | (_, Type::Any) => Type::Any,
            (Type::String, Type::String) => Type::String,
            (Type::List(a), Type::List(b)) => Type::List(Box::new(a.join(b))),
            _ => {
                expect(l, &Type::Number, ls, &context, out);
                expect(r, &Type::Number, rs, &context, out);
                Type::Number
            }
        },
        _ => {
            expect(l, &Type::Number, ls, &context, out);
            expect(r, &Type::Number, rs, &context, out);
            Type::Number
        }
    }
}

fn function(
    name: &Ident,
    args: &[(Type, Span)],
    span: Span,
    program: &Declarations,
    out: &mut Vec<Diagnostic>,
) -> Type {
    let Some(builtin) = Builtin::from_name(&name.name) else {
        let mut diagnostic = Diagnostic::new(
            Code::UnknownFunction,
            name.span,
            format!("unknown function `{}`", name.name),
            "not a built-in function",
        );
        diagnostic = if program.agents.contains_key(&name.name) {
            diagnostic.with_help(format!(
                "`{0}` is an agent; agents are called as steps: `result = {0}(…)`",
                name.name
            ))
        } else {
            let names = Builtin::ALL.map(Builtin::name);
            diagnostic.with_help(
                suggest::did_you_mean(&name.name, names)
                    .unwrap_or_else(|| format!("the functions are {}", Builtin::listed())),
            )
        };
        out.push(diagnostic);
        return Type::Any;
    };
    let (low, high) = builtin.arity();
    if args.len() < low || args.len() > high {
        let wanted = match (low, high) {
            (l, h) if l == h => format!("{l}"),
            (l, usize::MAX) => format!("at least {l}"),
            (l, h) => format!("{l} or {h}"),
        };
        out.push(Diagnostic::new(
            Code::WrongArity,
            span,
            format!(
                "`{}` takes {wanted} argument(s), given {}",
                name.name,
                args.len()
            ),
            "wrong number of arguments",
        ));
        return Type::Any;
    }
    let numbers = Type::List(Box::new(Type::Number));
    match builtin {
        Builtin::Len => {
            let (ty, span) = &args[0];
            if !matches!(
                ty.required(),
                Type::Any | Type::List(_) | Type::String | Type::Object(_)
            ) || ty.is_optional()
            {
                expect(ty, &Type::List(Box::new(Type::Any)), *span, "`len`", out);
            }
            Type::Number
        }
        Builtin::Sum => {
            expect(&args[0].0, &numbers, args[0].1, "`sum`", out);
            Type::Number
        }
        Builtin::Min | Builtin::Max => {
            let context = format!("`{}`", name.name);
            if let [(ty, span)] = args {
                expect(ty, &numbers, *span, &context, out);
            } else {
                for (ty, span) in args {
                    expect(ty, &Type::Number, *span, &context, out);
                }
            }
            Type::Number
        }
        Builtin::Round | Builtin::Range => {
            let context = format!("`{}`", name.name);
            for (ty, span) in args {
                expect(ty, &Type::Number, *span, &context, out);
            }
            match builtin {
                Builtin::Range => numbers,
                _ => Type::Number,
            }
        }
        Builtin::Now => Type::String,
        Builtin::Secret => {
            expect(&args[0].0, &Type::String, args[0].1, "`secret`", out);
            Type::String
        }
        Builtin::Concat => {
            // `concat` joins strings or lists, all of one kind.
            let first = args[0].0.clone();
            let wanted = match first.required() {
                Type::List(_) => Type::List(Box::new(Type::Any)),
                Type::Any => return Type::Any,
                _ => Type::String,
            };
            let mut result = first;
            for (ty, span) in args {
                if expect(ty, &wanted, *span, "`concat`", out) {
                    result = result.join(ty);
                }
            }
            result
        }
    }
}
