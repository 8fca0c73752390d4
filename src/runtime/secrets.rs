//! The values of the secrets an agent reads, what its expressions see of them,
//! and their redaction from whatever comes back: a service or a program may echo a
//! credential, in an error or its answer, and none reaches a message, the store or
//! a screen.

use super::agent::{ComputeScope, Failure};
use super::error::ErrorKind;
use super::eval;
use crate::program::{AgentBody, Program};
use serde_json::Value;

/// The secrets an agent reads, with their values.
pub(super) struct Secrets(Vec<(String, String)>);

impl Secrets {
    pub(super) fn read(body: &AgentBody) -> Secrets {
        Secrets::named(body.secret_uses().into_iter().map(|(name, _)| name))
    }

    /// Every secret the program reads anywhere: what a subprocess might print,
    /// having inherited the environment, is redacted of all of them.
    pub(super) fn of_program(program: &Program) -> Secrets {
        Secrets::named(program.secret_names())
    }

    fn named(names: impl IntoIterator<Item = String>) -> Secrets {
        let mut values: Vec<(String, String)> = names
            .into_iter()
            .filter_map(|name| crate::secrets::get(&name).map(|value| (name, value)))
            .collect();
        // A value inside a longer one must not cut it before the longer is found.
        values.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        values.dedup();
        Secrets(values)
    }

    pub(super) fn sends_any(&self) -> bool {
        !self.0.is_empty()
    }

    /// A service may echo a credential back, in an error or in its answer: none
    /// reaches a message, the store or a screen.
    pub(super) fn redact_result<T: Redact>(
        &self,
        result: Result<T, Failure>,
    ) -> Result<T, Failure> {
        match result {
            Ok(value) => Ok(value.redact(self)),
            Err(failure) => Err(self.redact_failure(failure)),
        }
    }

    pub(super) fn redact_failure(&self, failure: Failure) -> Failure {
        Failure {
            message: self.redact(&failure.message),
            stderr_tail: failure.stderr_tail.map(|tail| self.redact(&tail)),
            ..failure
        }
    }

    pub(super) fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (name, value) in &self.0 {
            text = text.replace(value, &format!("[secret {name}]"));
        }
        text
    }

    /// The end of a longer text, redacted: its first bytes, as many as the longest
    /// secret, are dropped, since they may be the end of one whose start was cut.
    pub(super) fn redact_tail(&self, tail: &str) -> String {
        let longest = self.0.first().map_or(0, |(_, value)| value.len());
        let mut from = longest.min(tail.len());
        while !tail.is_char_boundary(from) {
            from += 1;
        }
        self.redact(&tail[from..])
    }

    pub(super) fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (self.redact(&k), self.redact_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// What an agent's answer holds that may echo a secret.
pub(super) trait Redact {
    fn redact(self, secrets: &Secrets) -> Self;
}

impl Redact for Value {
    fn redact(self, secrets: &Secrets) -> Value {
        secrets.redact_value(self)
    }
}

/// What headers (and a model's key) see: the call's input and time, and the
/// agent's secrets.
pub(super) struct HeaderScope<'a> {
    pub(super) compute: ComputeScope<'a>,
    pub(super) secrets: &'a Secrets,
}

impl eval::Scope for HeaderScope<'_> {
    fn input(&self) -> &Value {
        self.compute.input()
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.compute.get(name)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.compute.now()
    }

    fn secret(&self, name: &str) -> Option<String> {
        let found = self.secrets.0.iter().find(|(n, _)| n == name);
        found.map(|(_, value)| value.clone())
    }
}

impl HeaderScope<'_> {
    /// `object` evaluated here, every field a string: an HTTP agent's headers or a
    /// subprocess's environment (`what` names a field in messages).
    pub(super) fn strings(
        &self,
        object: &crate::ast::Expr,
        what: &str,
        agent: &str,
    ) -> Result<Vec<(String, String)>, Failure> {
        let value = eval::eval(object, self).map_err(|e| {
            Failure::new(
                ErrorKind::Expression,
                format!("{what}s of `{agent}`: {}", e.message),
            )
        })?;
        let Value::Object(fields) = value else {
            let message = format!(
                "{what}s of `{agent}` are {}, not an object",
                eval::describe(&value)
            );
            return Err(Failure::new(ErrorKind::Expression, message));
        };
        fields
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name, text)),
                other => Err(Failure::new(
                    ErrorKind::Expression,
                    format!(
                        "{what} `{name}` is {}, not a string",
                        eval::describe(&other)
                    ),
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Secrets;

    #[test]
    fn a_tail_that_begins_inside_a_secret_keeps_none_of_it() {
        let secrets = Secrets(vec![("K".into(), "abcdef".into())]);
        // The kept tail begins with the secret's last four bytes.
        assert_eq!(secrets.redact_tail("cdef\nK=abcdef\n"), "=[secret K]\n");
        assert_eq!(secrets.redact("x abcdef y"), "x [secret K] y");
        // Never cut inside a character.
        assert_eq!(secrets.redact_tail("éééé"), "é");
    }
}
