//! Small pieces of English for messages people read, and "did you mean …?" by
//! edit distance (Damerau: a swapped pair counts once).

/// `1 file`, `2 files`: a count with its noun, plural when it is not one.
pub fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// A number as a person reads it: whole numbers as they are, others to two
/// decimals (a metric's 0.5122197624190065 is 0.51).
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// [`number`], or `none` when there is no value yet.
pub fn maybe_number(value: Option<f64>) -> String {
    value.map_or_else(|| "none".to_string(), number)
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Each candidate first gets a lower bound of its distance that costs a pass over
/// it, not the distance's product of lengths (an edit changes a name's length by
/// at most one and its letters, counted per letter, by at most two); distances
/// are then computed in the order of those bounds, until the bound passes the
/// best distance found. A file with thousands of unknown names among thousands
/// of declared ones is checked in time near its size.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    let limit = (length / 3).max(1);
    let letters = Letters::of(name);
    let mut bounded: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            let by_length = candidate.chars().count().abs_diff(length);
            if by_length > limit {
                return None;
            }
            let bound = by_length.max(letters.difference(&Letters::of(candidate)).div_ceil(2));
            (bound <= limit).then_some((bound, candidate))
        })
        .collect();
    bounded.sort_unstable();
    let mut best: Option<(usize, &str)> = None;
    for (bound, candidate) in bounded {
        if best.is_some_and(|(distance, _)| bound > distance) {
            break;
        }
        let distance = strsim::damerau_levenshtein(name, candidate);
        if distance <= limit && best.is_none_or(|found| (distance, candidate) < found) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// How often each character occurs in a name, non-ASCII ones sharing a count
/// (which only makes the bound looser).
struct Letters([u16; 128]);

impl Letters {
    fn of(name: &str) -> Letters {
        let mut counts = [0u16; 128];
        for c in name.chars() {
            let slot = if c.is_ascii() { c as usize } else { 0 };
            counts[slot] = counts[slot].saturating_add(1);
        }
        Letters(counts)
    }

    fn difference(&self, other: &Letters) -> usize {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum()
    }
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

/// `; did you mean `x`?` after an unknown name, or the known names when none is
/// close (nothing when there are none): the tail of an "unknown name" message.
pub fn unknown_tail(name: &str, known: &[String]) -> String {
    match closest(name, known.iter().map(String::as_str)) {
        Some(close) => format!("; did you mean `{close}`?"),
        None if known.is_empty() => String::new(),
        None => format!(" (there are: {})", known.join(", ")),
    }
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

    #[test]
    fn the_bounds_never_change_the_answer() {
        let naive = |name: &str, candidates: &[String]| {
            let limit = (name.chars().count() / 3).max(1);
            candidates
                .iter()
                .map(String::as_str)
                .filter(|c| *c != name)
                .map(|c| (strsim::damerau_levenshtein(name, c), c))
                .filter(|(distance, _)| *distance <= limit)
                .min()
                .map(|(_, c)| c.to_string())
        };
        // Deterministic names over a small alphabet, so many are close.
        let mut seed = 0x2545_f491_u64;
        let mut word = || {
            let mut w = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(3 + seed % 9) {
                w.push(['a', 'b', '_', 'é', 'c'][((seed >> (i * 3)) % 5) as usize]);
            }
            w
        };
        let candidates: Vec<String> = (0..300).map(|_| word()).collect();
        for _ in 0..300 {
            let name = word();
            let found = closest(&name, candidates.iter().map(String::as_str));
            assert_eq!(
                found.map(str::to_string),
                naive(&name, &candidates),
                "{name}"
            );
        }
    }
}
