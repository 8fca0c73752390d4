//! The checked program: what `check` hands to everything that runs or shows a
//! program. Its vocabularies are defined once here.

mod error_kind;

pub use error_kind::ErrorKind;
