//! Where `secret("NAME")` finds its value: a file given with `--secrets`, then
//! the environment. Read once per process; a value is never written anywhere
//! (agents that send one redact it from what they record).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

static FILE: OnceLock<BTreeMap<String, String>> = OnceLock::new();

/// The most a secrets file may hold: it is read whole.
const MAX_FILE: u64 = 1 << 20;

/// Reads `path` (`NAME=value` lines, `#` comments, an optional `export ` and
/// quotes around the value, as dotenv files have them) as the process's secrets
/// file. Its values win over the environment's.
pub fn load(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read secrets file `{shown}`: {e}"))?
        .len();
    if size > MAX_FILE {
        return Err(format!(
            "secrets file `{shown}` is larger than {} KiB",
            MAX_FILE >> 10
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read secrets file `{shown}`: {e}"))?;
    let values = parse(&text).map_err(|(line, problem)| format!("{shown}:{line}: {problem}"))?;
    FILE.set(values)
        .map_err(|_| "a secrets file is already loaded".to_string())
}

/// The value of secret `name`; an empty value counts as unset.
pub fn get(name: &str) -> Option<String> {
    let from_file = FILE.get().and_then(|values| values.get(name).cloned());
    from_file
        .or_else(|| std::env::var(name).ok())
        .filter(|value| !value.is_empty())
}

pub fn is_set(name: &str) -> bool {
    get(name).is_some()
}

/// The values of a secrets file by name, or the line (from 1) that is not
/// `NAME=value` and why.
fn parse(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut values = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        // The line is not quoted back: it may hold a value.
        let Some((name, value)) = line.split_once('=') else {
            return Err((n + 1, "expected `NAME=value`".to_string()));
        };
        let name = name.trim();
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err((
                n + 1,
                "a secret's name is letters, digits and `_`".to_string(),
            ));
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        values.insert(name.to_string(), unquoted.to_string());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn dotenv_lines_are_read_and_a_bad_line_is_named_without_its_value() {
        let values =
            parse("# keys\nexport OPENAI_API_KEY=\"sk-1=2\"\n\nCRM_TOKEN = 'abc'\nPLAIN=x y\n")
                .unwrap();
        assert_eq!(values["OPENAI_API_KEY"], "sk-1=2");
        assert_eq!(values["CRM_TOKEN"], "abc");
        assert_eq!(values["PLAIN"], "x y");
        let (line, problem) = parse("A=1\nsk-secret-value\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(!problem.contains("sk-secret"), "{problem}");
        assert_eq!(parse("1A=x").unwrap_err().0, 1);
    }
}
