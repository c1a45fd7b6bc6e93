//! Resource templates (RFC 6570) as the registry routes them: which
//! template, if any, a concrete URI belongs to.
//!
//! Only the expressions MCP servers use are accepted: `{name}` (level 1,
//! a value of one path segment: no `/`, `?` or `#`) and `{+name}` (reserved
//! expansion: any run of characters but `?` and `#`, for paths). A template
//! with other operators is refused when its component loads, with the
//! expression named, rather than matched wrongly. Variables match at least
//! one character. Matching only routes a read: the component parses the
//! URI it is given.

use std::fmt;

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable { name: String, reserved: bool },
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("URI template {template:?}: {problem}")]
pub struct TemplateError {
    template: String,
    problem: String,
}

impl UriTemplate {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<UriTemplate, TemplateError> {
        let error = |problem: String| TemplateError { template: text.to_owned(), problem };
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end =
                        rest.find('}').ok_or_else(|| error("a '{' is never closed".into()))?;
                    let expression = &rest[1..end];
                    let (name, reserved) = match expression.strip_prefix('+') {
                        Some(name) => (name, true),
                        None => (expression, false),
                    };
                    let valid = !name.is_empty()
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                    if !valid {
                        return Err(error(format!(
                            "expression {{{expression}}} is not supported: use {{name}} or {{+name}}, \
                             a name of letters, digits, '_' and '.'"
                        )));
                    }
                    if matches!(parts.last(), Some(Part::Variable { .. })) {
                        return Err(error(format!(
                            "expression {{{expression}}} follows another with nothing between them"
                        )));
                    }
                    parts.push(Part::Variable { name: name.to_owned(), reserved });
                    rest = &rest[end + 1..];
                }
                found => {
                    let end = found.unwrap_or(rest.len());
                    let literal = &rest[..end];
                    if literal.contains('}') {
                        return Err(error("a '}' has no '{'".into()));
                    }
                    parts.push(Part::Literal(literal.to_owned()));
                    rest = &rest[end..];
                }
            }
        }
        Ok(UriTemplate { text: text.to_owned(), parts })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The literal text before the first expression.
    pub fn prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(literal)) => literal,
            _ => "",
        }
    }

    /// The variables' names, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable { name, .. } => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Whether `uri` is one of this template's family.
    pub fn matches(&self, uri: &str) -> bool {
        matches_from(&self.parts, uri)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn matches_from(parts: &[Part], uri: &str) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(literal), rest)) => {
            uri.strip_prefix(literal.as_str()).is_some_and(|uri| matches_from(rest, uri))
        }
        Some((Part::Variable { reserved, .. }, rest)) => {
            let stops: &[char] = if *reserved { &['?', '#'] } else { &['/', '?', '#'] };
            let longest = uri.find(stops).unwrap_or(uri.len());
            // Each length the variable may take, shortest first; templates
            // are short, so the backtracking stays small.
            (1..=longest)
                .filter(|&end| uri.is_char_boundary(end))
                .any(|end| matches_from(rest, &uri[end..]))
        }
    }
}

/// The scheme of `uri` (before the first `:`), if it has a valid one.
pub fn scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simple_variable_matches_one_segment() {
        let template = UriTemplate::parse("test://template/{id}/data").unwrap();
        assert!(template.matches("test://template/123/data"));
        assert!(!template.matches("test://template//data"));
        assert!(!template.matches("test://template/1/2/data"));
        assert!(!template.matches("test://template/123/data/more"));
        assert_eq!(template.variables().collect::<Vec<_>>(), ["id"]);
        assert_eq!(template.prefix(), "test://template/");
    }

    #[test]
    fn a_reserved_variable_matches_a_path() {
        let template = UriTemplate::parse("notes://{+path}").unwrap();
        assert!(template.matches("notes://a/b/c.md"));
        assert!(!template.matches("notes://a?x=1"));
        let bare = UriTemplate::parse("notes://{name}").unwrap();
        assert!(bare.matches("notes://todo"));
        assert!(!bare.matches("notes://a/b"));
    }

    #[test]
    fn unsupported_expressions_are_named() {
        let error = UriTemplate::parse("x://{?query}").unwrap_err();
        assert!(error.to_string().contains("{?query} is not supported"), "{error}");
        assert!(UriTemplate::parse("x://{a").is_err());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme("notes://a"), Some("notes"));
        assert_eq!(scheme("file:///etc"), Some("file"));
        assert_eq!(scheme("no scheme"), None);
        assert_eq!(scheme("1x://a"), None);
    }
}
