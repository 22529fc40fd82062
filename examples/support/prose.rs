//! Small pieces of English for sentences built from numbers: "1 mistake" and
//! "2 mistakes", "an 8", "the 2nd", and how a series of losses changed.

/// `n` and the noun, plural unless `n` is 1: `count(1, "mistake")` is
/// "1 mistake", `count(0, "mistake")` is "0 mistakes". The plural adds an
/// "s"; nouns that do not follow that rule use [`count_as`].
pub fn count(n: usize, noun: &str) -> String {
    count_as(n, noun, &format!("{noun}s"))
}

/// `n` with an explicit singular and plural: `count_as(2, "time", "times")`.
pub fn count_as(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// "a" or "an" for `word` as it is read aloud: "an 8", "an 11", "an 18",
/// "an iris", but "a 7", "a 100", "a setosa". Numbers are judged by how
/// they are spoken (eight, eleven, eighteen, eighty...); words by their
/// first letter, which is right for the words the examples use.
pub fn a_or_an(word: &str) -> &'static str {
    let digits: String = word.chars().take_while(|c| c.is_ascii_digit()).collect();
    let vowel = if digits.is_empty() {
        word.chars()
            .next()
            .is_some_and(|c| "aeiouAEIOU".contains(c))
    } else {
        // Spoken in groups of three digits: the leading group decides.
        let lead = match digits.len() % 3 {
            0 => 3,
            r => r,
        };
        let group = &digits[..lead];
        group.starts_with('8') || (lead == 2 && (group == "11" || group == "18"))
    };
    if vowel {
        "an"
    } else {
        "a"
    }
}

/// `n` as an ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 21st, 102nd.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// How a series went from its first value to its last, for a sentence:
/// "fell from 0.6931 to 0.0801", "rose from ...", "stayed at ...", or, when
/// the last value is not finite, "went from 0.6931 to NaN (it diverged)".
/// `None` for an empty series.
pub fn change(values: &[f64], decimals: usize) -> Option<String> {
    let (first, last) = (*values.first()?, *values.last()?);
    let f = |v: f64| format!("{v:.decimals$}");
    Some(if !last.is_finite() {
        format!("went from {} to {} (it diverged)", f(first), f(last))
    } else if values.len() == 1 {
        format!("was {} (a single epoch)", f(first))
    } else if f(first) == f(last) {
        format!("stayed at {}", f(first))
    } else if last < first {
        format!("fell from {} to {}", f(first), f(last))
    } else {
        format!("rose from {} to {}", f(first), f(last))
    })
}
