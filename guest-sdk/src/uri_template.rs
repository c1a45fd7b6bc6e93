//! URI templates of MCP resource templates: RFC 6570 level 1, matched
//! against the concrete URIs clients read.
//!
//! See [`UriTemplate`] for the form accepted and how a URI matches.

use std::fmt;

/// A parsed URI template.
///
/// | form | meaning |
/// | --- | --- |
/// | `notes://{name}` | literal text, and `{name}`: a variable |
/// | a variable's name | letters, digits and `_` (RFC 6570 `varname`, without `.` and `%`) |
/// | a variable's value | one or more characters, none of `/`, `?`, `#`: one path segment |
/// | `%XX` in a value | percent-decoded (`notes://my%20note` gives `my note`) |
///
/// Two variables must be separated by literal text (`{a}{b}` has no single
/// reading), and a name appears once. A URI matches when the whole of it
/// does; when a literal could end a variable in several places, the first
/// reading that matches the rest wins. Templates are parsed once, when the
/// component lists them.
///
/// ```
/// use corral_sdk::UriTemplate;
///
/// let template = UriTemplate::parse("test://template/{id}/data").unwrap();
/// let variables = template.matches("test://template/123/data").unwrap();
/// assert_eq!(variables, [("id".to_owned(), "123".to_owned())]);
/// assert_eq!(template.matches("test://template/1/2/data"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// Why a URI template does not parse; the message names the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplateError {
    template: String,
    reason: String,
}

impl fmt::Display for UriTemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "URI template `{}`: {}", self.template, self.reason)
    }
}

impl std::error::Error for UriTemplateError {}

impl UriTemplate {
    /// Parses `text` in the form described above.
    pub fn parse(text: &str) -> Result<Self, UriTemplateError> {
        let fail = |reason: String| UriTemplateError { template: text.to_owned(), reason };
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(at) if rest[at..].starts_with('}') => {
                    return Err(fail(format!(
                        "`}}` at byte {} closes no variable",
                        text.len() - rest.len() + at
                    )));
                }
                Some(at) => {
                    if at > 0 {
                        parts.push(Part::Literal(rest[..at].to_owned()));
                    }
                    let after = &rest[at + 1..];
                    let end =
                        after.find('}').ok_or_else(|| fail("a `{` is never closed".into()))?;
                    let name = &after[..end];
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(fail(format!(
                            "`{{{name}}}` is not a simple variable (RFC 6570 level 1: letters, digits and `_`)"
                        )));
                    }
                    if matches!(parts.last(), Some(Part::Variable(_))) {
                        return Err(fail(format!(
                            "`{{{name}}}` follows another variable with no text between them"
                        )));
                    }
                    if parts.iter().any(|part| part == &Part::Variable(name.to_owned())) {
                        return Err(fail(format!("the variable `{name}` appears twice")));
                    }
                    parts.push(Part::Variable(name.to_owned()));
                    rest = &after[end + 1..];
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        Ok(Self { text: text.to_owned(), parts })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The variables' names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The variables' values if `uri` is one of the template's family, in order.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut values = Vec::new();
        match_parts(&self.parts, uri, &mut values).then_some(values)
    }
}

/// Matches `parts` against the whole of `uri`, pushing variables' values.
fn match_parts(parts: &[Part], uri: &str, values: &mut Vec<(String, String)>) -> bool {
    match parts {
        [] => uri.is_empty(),
        [Part::Literal(literal), rest @ ..] => {
            uri.strip_prefix(literal.as_str()).is_some_and(|uri| match_parts(rest, uri, values))
        }
        [Part::Variable(name), rest @ ..] => {
            let segment_end = uri.find(['/', '?', '#']).unwrap_or(uri.len());
            // Every split point inside the segment, shortest value first.
            let ends = uri[..segment_end].char_indices().map(|(at, _)| at).skip(1);
            for end in ends.chain([segment_end]).filter(|end| *end > 0) {
                // A shorter value may cut an escape in two; a longer one may not.
                let Some(value) = percent_decode(&uri[..end]) else {
                    continue;
                };
                values.push((name.clone(), value));
                if match_parts(rest, &uri[end..], values) {
                    return true;
                }
                values.pop();
            }
            false
        }
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(template).unwrap().matches(uri)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn a_variable_matches_one_segment() {
        assert_eq!(vars("notes://{name}", "notes://todo.md"), Some(pairs(&[("name", "todo.md")])));
        assert_eq!(vars("notes://{name}", "notes://a/b"), None);
    }

    #[test]
    fn a_variable_is_never_empty() {
        assert_eq!(vars("test://template/{id}/data", "test://template//data"), None);
    }

    #[test]
    fn literal_text_after_a_variable_may_occur_inside_its_value() {
        assert_eq!(vars("f://{name}.md", "f://a.b.md"), Some(pairs(&[("name", "a.b")])));
    }

    #[test]
    fn several_variables_are_matched_in_order() {
        assert_eq!(
            vars("db://{table}/{row}", "db://users/42"),
            Some(pairs(&[("table", "users"), ("row", "42")]))
        );
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(
            vars("notes://{name}", "notes://my%20note"),
            Some(pairs(&[("name", "my note")]))
        );
        assert_eq!(vars("notes://{name}", "notes://bad%2"), None);
    }

    #[test]
    fn the_whole_uri_must_match() {
        assert_eq!(vars("test://template/{id}/data", "test://template/1/data/more"), None);
        assert_eq!(vars("test://static", "test://static"), Some(vec![]));
    }

    #[test]
    fn adjacent_variables_are_refused() {
        let error = UriTemplate::parse("x://{a}{b}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "URI template `x://{a}{b}`: `{b}` follows another variable with no text between them"
        );
    }

    #[test]
    fn operators_of_higher_levels_are_refused() {
        let error = UriTemplate::parse("x://{+path}").unwrap_err();
        assert!(error.to_string().contains("is not a simple variable"), "{error}");
    }

    #[test]
    fn unbalanced_braces_are_refused() {
        assert!(UriTemplate::parse("x://{a").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
    }

    #[test]
    fn variables_are_listed_in_order() {
        let template = UriTemplate::parse("db://{table}/{row}").unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["table", "row"]);
    }
}
