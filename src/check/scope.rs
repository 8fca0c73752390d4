//! Names visible at a point in a `steps` block: a stack of frames, one per block.

use crate::source::Span;
use crate::types::Type;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Binding {
    pub ty: Type,
    pub span: Span,
    /// A `when x != null` guard's non-null view of an outer binding: visible in the
    /// guarded block, never exported from it.
    pub narrowed: bool,
}

/// One block's bindings in the order they were made.
#[derive(Debug, Default)]
pub struct Frame {
    names: HashMap<String, Binding>,
    order: Vec<String>,
}

impl Frame {
    /// Bindings made in this frame (guards excluded), in order.
    pub fn bindings(self) -> Vec<(String, Binding)> {
        let mut names = self.names;
        self.order
            .into_iter()
            .filter_map(|name| names.remove(&name).map(|b| (name, b)))
            .filter(|(_, b)| !b.narrowed)
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct Scope {
    frames: Vec<Frame>,
}

impl Scope {
    pub fn push(&mut self) {
        self.frames.push(Frame::default());
    }

    pub fn pop(&mut self) -> Frame {
        self.frames.pop().unwrap_or_default()
    }

    /// Binds in the innermost frame; returns the binding it shadows anywhere in scope.
    pub fn bind(&mut self, name: &str, binding: Binding) -> Option<Binding> {
        let previous = self.lookup(name).cloned();
        if self.frames.is_empty() {
            self.push();
        }
        let frame = self.frames.last_mut().expect("a frame was just ensured");
        if frame.names.insert(name.to_string(), binding).is_none() {
            frame.order.push(name.to_string());
        }
        previous
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.frames.iter().rev().find_map(|f| f.names.get(name))
    }

    pub fn visible(&self) -> Vec<&str> {
        self.frames
            .iter()
            .flat_map(|f| f.order.iter().map(String::as_str))
            .collect()
    }
}
