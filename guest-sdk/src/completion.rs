//! Completion of prompt arguments and resource template variables (MCP
//! `completion/complete`).
//!
//! A completer belongs to what it completes: add it with
//! [`Prompt::complete`](crate::Prompt::complete) or
//! [`ResourceTemplate::complete`](crate::ResourceTemplate::complete),
//! naming the argument (or variable). It gets the [`Partial`] value typed
//! so far and returns suggestions, best first, as anything that implements
//! [`IntoCompletion`] (a `Vec<String>` will do).
//!
//! - A request for an argument with no completer gets no suggestions.
//! - At most [`MAX_VALUES`] suggestions are sent, as MCP allows; past that
//!   the answer says how many there were and that there are more.
//! - A completer that fails answers the request with its message as an
//!   error.

use crate::error::Error;
use crate::types::Completion;

/// The most suggestions one answer carries (MCP's limit).
pub const MAX_VALUES: usize = 100;

/// What the user has typed so far of the value being completed, and the
/// other arguments already given.
#[derive(Debug, Clone, Copy)]
pub struct Partial<'a> {
    value: &'a str,
    context: &'a [(String, String)],
}

impl<'a> Partial<'a> {
    /// A partial `value`, with the arguments already given in `context`.
    pub fn new(value: &'a str, context: &'a [(String, String)]) -> Self {
        Self { value, context }
    }

    /// What the user has typed so far.
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// The value already given for another argument, by name.
    pub fn context(&self, name: &str) -> Option<&'a str> {
        self.context.iter().find(|(given, _)| given == name).map(|(_, value)| value.as_str())
    }

    /// The `candidates` that start with what was typed, ignoring ASCII case, in order.
    ///
    /// ```
    /// use corral_sdk::Partial;
    ///
    /// let partial = Partial::new("Pa", &[]);
    /// assert_eq!(partial.matching(["paris", "lyon", "park"]), ["paris", "park"]);
    /// ```
    pub fn matching<I, S>(&self, candidates: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let typed = self.value.to_ascii_lowercase();
        candidates
            .into_iter()
            .filter(|candidate| candidate.as_ref().to_ascii_lowercase().starts_with(&typed))
            .map(|candidate| candidate.as_ref().to_owned())
            .collect()
    }
}

/// A value a completer can return.
///
/// | completer returns | answer |
/// | --- | --- |
/// | `Vec<String>`, `Vec<&str>` | those values, best first |
/// | [`Completion`] | as given |
/// | `Result<T, Error>` | `T`'s answer, or the error's message |
pub trait IntoCompletion {
    /// Converts the value into the answer, or an error message.
    fn into_completion(self) -> Result<Completion, String>;
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<Completion, String> {
        Ok(Completion { values: self, total: None, has_more: false })
    }
}

impl IntoCompletion for Vec<&str> {
    fn into_completion(self) -> Result<Completion, String> {
        self.into_iter().map(str::to_owned).collect::<Vec<_>>().into_completion()
    }
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<Completion, String> {
        Ok(self)
    }
}

impl<T: IntoCompletion> IntoCompletion for Result<T, Error> {
    fn into_completion(self) -> Result<Completion, String> {
        self.map_err(|error| error.message().to_owned())?.into_completion()
    }
}

/// The type-erased completer of one argument.
type Completer = Box<dyn Fn(&Partial<'_>) -> Result<Completion, String>>;

/// The completers of one prompt or template, by argument name.
#[derive(Default)]
pub(crate) struct Completers {
    by_argument: Vec<(String, Completer)>,
}

impl Completers {
    pub(crate) fn add<R, F>(&mut self, argument: String, completer: F)
    where
        R: IntoCompletion,
        F: Fn(&Partial<'_>) -> R + 'static,
    {
        self.by_argument.retain(|(name, _)| *name != argument);
        self.by_argument
            .push((argument, Box::new(move |partial| completer(partial).into_completion())));
    }

    /// The argument names that have a completer.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &str> {
        self.by_argument.iter().map(|(name, _)| name.as_str())
    }

    /// Suggestions for `argument`: none if it has no completer, at most [`MAX_VALUES`].
    pub(crate) fn complete(
        &self,
        argument: &str,
        partial: &Partial<'_>,
    ) -> Result<Completion, String> {
        let Some((_, completer)) = self.by_argument.iter().find(|(name, _)| name == argument)
        else {
            return Ok(Completion { values: Vec::new(), total: None, has_more: false });
        };
        let mut completion = completer(partial)?;
        if completion.values.len() > MAX_VALUES {
            let found = u32::try_from(completion.values.len()).unwrap_or(u32::MAX);
            completion.total = Some(completion.total.unwrap_or(found).max(found));
            completion.values.truncate(MAX_VALUES);
            completion.has_more = true;
        }
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completers() -> Completers {
        let mut completers = Completers::default();
        completers.add("city".into(), |partial: &Partial<'_>| {
            partial.matching(["paris", "park", "party", "lyon"])
        });
        completers.add("many".into(), |_: &Partial<'_>| {
            (0..150).map(|n| n.to_string()).collect::<Vec<_>>()
        });
        completers
    }

    #[test]
    fn suggestions_are_the_candidates_starting_with_the_typed_value() {
        let completion = completers().complete("city", &Partial::new("par", &[])).unwrap();
        assert_eq!(completion.values, ["paris", "park", "party"]);
        assert!(!completion.has_more);
    }

    #[test]
    fn an_argument_without_completer_gets_no_suggestions() {
        let completion = completers().complete("country", &Partial::new("fr", &[])).unwrap();
        assert!(completion.values.is_empty());
    }

    #[test]
    fn more_than_the_limit_is_cut_and_says_so() {
        let completion = completers().complete("many", &Partial::new("", &[])).unwrap();
        assert_eq!(completion.values.len(), MAX_VALUES);
        assert_eq!((completion.total, completion.has_more), (Some(150), true));
    }

    #[test]
    fn a_failing_completer_answers_with_its_message() {
        let mut completers = Completers::default();
        completers.add("x".into(), |_: &Partial<'_>| -> Result<Vec<String>, Error> {
            Err(Error::new("index unreadable"))
        });
        assert_eq!(
            completers.complete("x", &Partial::new("", &[])),
            Err("index unreadable".into())
        );
    }

    #[test]
    fn context_finds_other_arguments_by_name() {
        let context = [("country".to_owned(), "fr".to_owned())];
        let partial = Partial::new("pa", &context);
        assert_eq!((partial.context("country"), partial.context("zip")), (Some("fr"), None));
    }
}
