//! `${NAME}` and `${NAME:-default}` in a language model's name and endpoint:
//! where a model runs (OpenAI, a local Ollama, a vLLM server) is a property of
//! the machine, chosen without editing the file. The environment is read when
//! the file is checked, so `wfc check` validates what would run here.

/// `text` with each `${…}` replaced from this process's environment.
pub fn from_env(text: &str) -> Result<String, String> {
    expand(text, |name| std::env::var(name).ok())
}

/// `text` with each `${…}` replaced from `lookup`, or why it cannot be.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("`${{` without its `}}` in `{text}`"));
        };
        let inside = &after[..end];
        let (name, default) = match inside.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inside, None),
        };
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{{inside}}}` does not name an environment variable (letters, digits and `_`)"
            ));
        }
        match (lookup(name).filter(|v| !v.is_empty()), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(format!(
                    "the environment variable `{name}` is not set and `${{{name}}}` has no default (`${{{name}:-…}}`)"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn variables_are_replaced_defaults_fill_in_and_problems_are_named() {
        let env = |name: &str| (name == "HOST").then(|| "gpu.local".to_string());
        assert_eq!(
            expand("http://${HOST}:8000/${PATH_PART:-v1}", env).unwrap(),
            "http://gpu.local:8000/v1"
        );
        assert_eq!(expand("plain", env).unwrap(), "plain");
        assert!(expand("${MISSING}", env)
            .unwrap_err()
            .contains("`MISSING` is not set"));
        assert!(expand("${HOST", env).unwrap_err().contains("without its"));
        assert!(expand("${1X:-a}", env)
            .unwrap_err()
            .contains("does not name"));
    }
}
