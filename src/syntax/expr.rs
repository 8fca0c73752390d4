//! Expressions: the grammar gives a flat `operand (operator operand)*` sequence and
//! this file applies precedence with an explicit stack, so a chain of any length
//! lowers without recursion.

use super::pairs::{compare_op, keyword, unreachable_rule, Children, Lower};
use super::{Rule, MAX_NESTING};
use crate::ast::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::diagnostic::{Code, Diagnostic};
use pest::iterators::Pair;

/// The most operators one expression (or accesses one operand) may chain. Each adds a
/// level to the tree, and every pass over the tree, dropping it included, recurses.
const MAX_CHAIN: usize = MAX_NESTING * 4;

/// Lowers an `expr` pair (or an `object`, which `compute` and `emit` use directly).
pub(super) fn lower_expr(lower: &mut Lower, pair: Pair<'_, Rule>) -> Expr {
    if pair.as_rule() != Rule::expr {
        return primary(lower, pair);
    }
    if let Some(refused) = too_long(lower, &pair) {
        return refused;
    }
    let mut operands: Vec<Expr> = Vec::new();
    let mut operators: Vec<BinaryOp> = Vec::new();
    let mut prefixes: Vec<(UnaryOp, usize)> = Vec::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::prefix_op => {
                let op = match keyword(&part) {
                    Rule::op_negate => UnaryOp::Negate,
                    Rule::op_not => UnaryOp::Not,
                    rule => unreachable_rule(rule),
                };
                prefixes.push((op, lower.span(&part).start));
            }
            Rule::postfix => {
                let mut operand = postfix(lower, part);
                // Prefix operators bind tighter than any infix one; innermost first.
                while let Some((op, start)) = prefixes.pop() {
                    let span = operand.span;
                    operand = Expr {
                        kind: ExprKind::Unary(op, Box::new(operand)),
                        span: crate::source::Span::new(span.file, start, span.end),
                    };
                }
                operands.push(operand);
            }
            Rule::infix_op => {
                let op = binary_op(keyword(&part));
                while operators
                    .last()
                    .is_some_and(|top| top.precedence() >= op.precedence())
                {
                    reduce(&mut operands, &mut operators);
                }
                operators.push(op);
            }
            rule => unreachable_rule(rule),
        }
    }
    while !operators.is_empty() {
        reduce(&mut operands, &mut operators);
    }
    operands
        .pop()
        .expect("the grammar guarantees an expression has an operand")
}

/// Refuses an expression whose operator or access chains are longer than
/// [`MAX_CHAIN`], standing in `null` for it.
fn too_long(lower: &mut Lower, pair: &Pair<'_, Rule>) -> Option<Expr> {
    let mut operators = 0;
    let mut longest_run = 0;
    for part in pair.clone().into_inner() {
        let length = match part.as_rule() {
            Rule::postfix => part.into_inner().count(),
            Rule::prefix_op | Rule::infix_op => {
                operators += 1;
                0
            }
            rule => unreachable_rule(rule),
        };
        longest_run = longest_run.max(length);
    }
    if operators.max(longest_run) <= MAX_CHAIN {
        return None;
    }
    let span = lower.span(pair);
    lower.diagnostics.push(
        Diagnostic::new(
            Code::TooDeeplyNested,
            span,
            format!("this expression chains more than {MAX_CHAIN} operators or accesses"),
            "too long",
        )
        .with_help("split it into several `let` bindings"),
    );
    Some(Expr {
        kind: ExprKind::Null,
        span,
    })
}

fn reduce(operands: &mut Vec<Expr>, operators: &mut Vec<BinaryOp>) {
    let op = operators.pop().expect("reduce is called with an operator");
    let right = operands.pop().expect("an operator has a right operand");
    let left = operands.pop().expect("an operator has a left operand");
    let span = left.span.to(right.span);
    operands.push(Expr {
        kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
        span,
    });
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq | Rule::op_ne | Rule::op_ge | Rule::op_le | Rule::op_gt | Rule::op_lt => {
            BinaryOp::Compare(compare_op(rule))
        }
        Rule::op_add => BinaryOp::Add,
        Rule::op_subtract => BinaryOp::Subtract,
        Rule::op_multiply => BinaryOp::Multiply,
        Rule::op_divide => BinaryOp::Divide,
        Rule::op_remainder => BinaryOp::Remainder,
        rule => unreachable_rule(rule),
    }
}

/// A primary followed by any number of `.field` and `[index]` accesses.
fn postfix(lower: &mut Lower, pair: Pair<'_, Rule>) -> Expr {
    let mut children = Children::of(pair);
    let mut expr = primary(lower, children.next());
    for access in children.rest() {
        let end = lower.span(&access).end;
        let span = crate::source::Span::new(expr.span.file, expr.span.start, end);
        let inner = Children::of(access.clone()).next();
        let kind = if access.as_rule() == Rule::field {
            ExprKind::Field(Box::new(expr), lower.key(inner))
        } else {
            ExprKind::Index(Box::new(expr), Box::new(lower_expr(lower, inner)))
        };
        expr = Expr { kind, span };
    }
    expr
}

fn primary(lower: &mut Lower, pair: Pair<'_, Rule>) -> Expr {
    let span = lower.span(&pair);
    let rule = pair.as_rule();
    let kind = match rule {
        Rule::literal => return literal(lower, Children::of(pair).next()),
        Rule::input_ref => ExprKind::Input,
        Rule::name_ref => ExprKind::Name(lower.ident(Children::of(pair).next())),
        Rule::paren => {
            let inner = lower_expr(lower, Children::of(pair).next());
            return Expr { span, ..inner };
        }
        Rule::list => ExprKind::List(pair.into_inner().map(|p| lower_expr(lower, p)).collect()),
        Rule::object => ExprKind::Object(
            pair.into_inner()
                .map(|field| {
                    let mut parts = Children::of(field);
                    let name = lower.key(parts.next());
                    (name, lower_expr(lower, parts.next()))
                })
                .collect(),
        ),
        Rule::function_call => {
            let mut children = Children::of(pair);
            let name = lower.ident(children.next());
            let args = children.rest().map(|p| lower_expr(lower, p)).collect();
            ExprKind::Call(name, args)
        }
        Rule::if_expr => {
            let mut children = Children::of(pair);
            let condition = lower_expr(lower, children.next());
            let then = lower_expr(lower, children.next());
            let otherwise = lower_expr(lower, children.next());
            ExprKind::If(Box::new(condition), Box::new(then), Box::new(otherwise))
        }
        rule => unreachable_rule(rule),
    };
    Expr { kind, span }
}

fn literal(lower: &mut Lower, pair: Pair<'_, Rule>) -> Expr {
    let span = lower.span(&pair);
    let kind = match pair.as_rule() {
        Rule::number => ExprKind::Number(pair.as_str().parse().unwrap_or(f64::INFINITY)),
        Rule::string => ExprKind::String(lower.string(pair).value),
        Rule::boolean => ExprKind::Bool(match keyword(&pair) {
            Rule::bool_true => true,
            Rule::bool_false => false,
            rule => unreachable_rule(rule),
        }),
        Rule::null => ExprKind::Null,
        rule => unreachable_rule(rule),
    };
    Expr { kind, span }
}
