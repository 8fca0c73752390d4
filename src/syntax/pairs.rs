//! What lowering walks pest pairs with. The pairs come from a successful parse, so
//! their shape is what the grammar says; the one helper [`Children::next`] states
//! that guarantee instead of scattering `unwrap`s.

use super::Rule;
use crate::ast::{CompareOp, Ident};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use pest::iterators::{Pair, Pairs};

/// The children of a pair, in grammar order.
pub(super) struct Children<'i>(Pairs<'i, Rule>);

impl<'i> Children<'i> {
    pub(super) fn of(pair: Pair<'i, Rule>) -> Self {
        Children(pair.into_inner())
    }

    /// The next child, which the grammar guarantees is there.
    pub(super) fn next(&mut self) -> Pair<'i, Rule> {
        self.0
            .next()
            .expect("the grammar guarantees this child; lowering and grammar disagree")
    }

    pub(super) fn rest(self) -> Pairs<'i, Rule> {
        self.0
    }
}

pub(super) struct Lower {
    pub(super) file: FileId,
    /// Where in the file the text being lowered starts: each item is parsed on its
    /// own, from its offset, and its pairs' positions are relative to that.
    pub(super) base: usize,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Lower {
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        Span::new(self.file, self.base + span.start(), self.base + span.end())
    }

    pub(super) fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    /// A field name: a word as written, or a quoted string decoded.
    pub(super) fn key(&self, pair: Pair<'_, Rule>) -> Ident {
        let span = self.span(&pair);
        let inner = Children::of(pair).next();
        let name = match inner.as_rule() {
            Rule::key_word => inner.as_str().to_string(),
            Rule::string => super::lower::unescape(Children::of(inner).next().as_str()),
            rule => unreachable_rule(rule),
        };
        Ident { name, span }
    }
}

/// The comparison an operator rule (`op_ge` …) stands for.
pub(super) fn compare_op(rule: Rule) -> CompareOp {
    match rule {
        Rule::op_ge => CompareOp::Ge,
        Rule::op_le => CompareOp::Le,
        Rule::op_gt => CompareOp::Gt,
        Rule::op_lt => CompareOp::Lt,
        Rule::op_eq => CompareOp::Eq,
        Rule::op_ne => CompareOp::Ne,
        rule => unreachable_rule(rule),
    }
}

/// The rule of a keyword alternative's one child (`jitter_kind` → `jitter_full`).
pub(super) fn keyword(pair: &Pair<'_, Rule>) -> Rule {
    Children::of(pair.clone()).next().as_rule()
}

pub(super) fn unreachable_rule(rule: Rule) -> ! {
    panic!("the grammar cannot produce {rule:?} here; lowering and grammar disagree")
}
