//! Small pieces of English for messages people read, and "did you mean …?" by
//! edit distance (Damerau: a swapped pair counts once).

/// `1 file`, `2 files`: a count with its noun, plural when it is not one.
pub fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, c)| c)
}

/// `Some("did you mean `x`?")` when a candidate is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The name a [`did_you_mean`] text in `text` suggests, if there is one.
pub fn suggestion(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("did you mean `")?;
    let (name, _) = rest.split_once("`?")?;
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggestion_is_read_back_from_its_text() {
        let help = did_you_mean("scor", ["score", "fetch"]).unwrap();
        assert_eq!(
            suggestion(&format!("unknown agent\nhelp: {help}")),
            Some("score")
        );
        assert_eq!(suggestion("no help here"), None);
    }

    #[test]
    fn finds_close_names_only() {
        let names = ["finance_financial_analyst", "strategy_strategic_planner"];
        assert_eq!(
            closest("finance_financal_analyst", names),
            Some("finance_financial_analyst")
        );
        assert_eq!(closest("marketing", names), None);
        assert_eq!(closest("ab", ["ac", "zz"]), Some("ac"));
    }
}
