//! The checked program: what `check` hands to everything that runs or shows a
//! program. Its vocabularies are defined once here.

mod builtin;
mod error_kind;
mod event;
mod schedule;

pub use builtin::Builtin;
pub use error_kind::ErrorKind;
pub use event::{event_problem, invalid_event_name, matches};
pub use schedule::{Due, Schedule};
