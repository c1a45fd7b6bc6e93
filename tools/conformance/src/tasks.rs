//! The fixtures of the tasks extension's scenarios (SEP-2663,
//! `io.modelcontextprotocol/tasks`: `tasks-lifecycle`,
//! `tasks-dispatch-and-envelope`, `tasks-capability-negotiation`,
//! `tasks-mrtr-input`, `tasks-mrtr-composition`, `tasks-required-task-error`,
//! `tasks-headers`, `tasks-wire-fields`, `tasks-request-state`).
//!
//! A fixture is an ordinary tool; only its timing matters. The host runs a
//! call inline and turns it into a background task once it has run for a
//! moment, so a tool that works for a second or more becomes a task and one
//! that answers at once (`greet`, `slow_compute` with `seconds: 0`) does
//! not. Asking works as in the `input-required-result-*` fixtures: a
//! question asked before the call became a task is an `input_required`
//! result of `tools/call`; one asked after parks the task as
//! `input_required` until `tasks/update` brings the answers, and the tool
//! then runs again from the start, where asking the same question (same
//! id) returns its answer. A panic is a trap, which the host reports as a
//! failed task rather than a tool error.

use corral_sdk::prelude::*;
use corral_sdk::{Error, progress};
use schemars::JsonSchema;
use serde::Deserialize;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The longest `slow_compute` works, in seconds.
pub const MAX_SECONDS: f64 = 600.0;

/// How long `slow_compute` sleeps at a time, so that a cancelled task
/// stops within this much of the cancellation.
const SLICE: Duration = Duration::from_millis(100);

/// How long the jobs that ask or crash work first: long enough for the
/// host to have made the call a task by then.
const HALF_SECOND: Duration = Duration::from_millis(500);

/// How long `failing_job` and `test_tool_with_task` work.
const ONE_SECOND: Duration = Duration::from_secs(1);

/// The message of `failing_job`'s tool error.
pub const FAILING_JOB_ERROR: &str = "failing_job: the job failed";

/// The message `protocol_error_job` panics with.
pub const CRASH_MESSAGE: &str = "protocol_error_job: deliberate crash";

/// The tools.
pub fn tools() -> Toolbox {
    Toolbox::new()
        .with(
            Tool::new(
                "greet",
                "Greets someone by name, at once: a call that never becomes a task",
                |args: GreetArgs| Ok(format!("Hello, {}!", args.name)),
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "slow_compute",
                "Works (sleeps) for the given number of seconds, reporting progress about \
                 once a second, then says it is done; long enough and it runs as a task, \
                 which can be cancelled",
                |args: SlowComputeArgs| slow_compute(&args),
            )
            .read_only(true)
            // Declared by its author; the other fixtures' support comes
            // from the host's configuration (.ci/conformance.sh).
            .task_support(TaskSupport::Optional),
        )
        .with(
            Tool::new(
                "failing_job",
                "Works for a second, then fails with a tool error (an isError result): \
                 its task completes, it does not fail",
                |_: NoArgs| -> Result<String, ToolError> {
                    sleep(ONE_SECOND);
                    Err(ToolError::new(FAILING_JOB_ERROR))
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "protocol_error_job",
                "Works for half a second, then crashes: its task fails with a protocol \
                 error instead of completing",
                |_: NoArgs| -> Result<String, ToolError> {
                    sleep(HALF_SECOND);
                    panic!("{CRASH_MESSAGE}")
                },
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "confirm_delete",
                "Works for half a second, then asks the user to confirm deleting a file \
                 (a task waits for the answer) and reports the decision; deletes nothing",
                |args: ConfirmDeleteArgs| confirm_delete(&args),
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "multi_input",
                "Works for half a second, then asks the user two questions at once, a name \
                 (input request `multi_input_name`) and a confirmation \
                 (`multi_input_confirm`), and reports both answers",
                |_: NoArgs| multi_input(),
            )
            .read_only(true),
        )
        .with(
            Tool::new(
                "test_tool_with_task",
                "Asks the user's name at once (input request `user_name`), then works for \
                 a second (as a task) and greets them",
                |_: NoArgs| test_tool_with_task(),
            )
            .read_only(true),
        )
}

/// The arguments of `greet`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GreetArgs {
    /// Who to greet.
    name: String,
}

/// The arguments of `slow_compute`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlowComputeArgs {
    /// How long to work, in seconds (0 to 600, fractions allowed).
    #[schemars(range(min = 0, max = 600))]
    seconds: f64,
    /// A name for this run, repeated in its progress messages and its result.
    label: String,
}

/// The arguments of `confirm_delete`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConfirmDeleteArgs {
    /// The file to ask about. Nothing is deleted.
    filename: String,
}

/// The answer `confirm_delete` asks for:
/// `{"confirm": {"type": "boolean"}}`, required.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteConfirmation {
    confirm: bool,
}

/// The first answer `multi_input` asks for: `{"name": {"type": "string"}}`,
/// required. Content with more fields (the suite answers both questions
/// with `{name, confirm}`) fits: the form does not forbid other properties,
/// and parsing ignores them.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NameAnswer {
    name: String,
}

/// The second answer `multi_input` asks for:
/// `{"confirm": {"type": "boolean"}}`, required; other fields are ignored.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConfirmAnswer {
    confirm: bool,
}

/// Sleeps `args.seconds` in slices of [`SLICE`], reporting progress at the
/// start, after each whole second and at the end.
fn slow_compute(args: &SlowComputeArgs) -> Result<String, Error> {
    let SlowComputeArgs { seconds, label } = args;
    if !(0.0..=MAX_SECONDS).contains(seconds) {
        return Err(Error::invalid_arguments(format!(
            "seconds must be between 0 and {MAX_SECONDS}, not {seconds}"
        )));
    }
    let total = Duration::from_secs_f64(*seconds);
    let report = |done: f64| {
        progress(done, Some(*seconds), Some(&format!("{label}: {done}/{seconds} s")));
    };
    if !total.is_zero() {
        report(0.0);
    }
    let started = Instant::now();
    let mut reported = 0;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= total {
            break;
        }
        sleep((total - elapsed).min(SLICE));
        let elapsed = started.elapsed();
        let whole = elapsed.as_secs();
        // The last report is the one at the end, so that each says more than the one before.
        if whole > reported && elapsed < total {
            reported = whole;
            report(whole as f64);
        }
    }
    if !total.is_zero() {
        report(*seconds);
    }
    Ok(format!("slow_compute {label}: done after {seconds} s"))
}

/// Asks "Delete <filename>?" (id `confirm_delete`) after half a second.
fn confirm_delete(args: &ConfirmDeleteArgs) -> Result<String, Error> {
    sleep(HALF_SECOND);
    let filename = &args.filename;
    let answer = Elicitation::new(format!("Delete {filename}?"))
        .id("confirm_delete")
        .ask::<DeleteConfirmation>()?;
    Ok(match answer {
        Answer::Accept(DeleteConfirmation { confirm: true }) => format!("Deleted {filename}"),
        _ => format!("Kept {filename}"),
    })
}

/// Asks two questions in one round after half a second: both are asked
/// before either is looked at, so both are pending together.
fn multi_input() -> Result<String, Error> {
    sleep(HALF_SECOND);
    let name = Elicitation::new("What name should the job use?")
        .id("multi_input_name")
        .ask::<NameAnswer>();
    let confirm = Elicitation::new("Should the job go ahead?")
        .id("multi_input_confirm")
        .ask::<ConfirmAnswer>();
    let (name, confirm) = (name?, confirm?);
    let name = name.accepted().map_or_else(|| "no name given".to_owned(), |a| a.name);
    let confirmed = match confirm.accepted() {
        Some(ConfirmAnswer { confirm: true }) => "confirmed",
        Some(ConfirmAnswer { confirm: false }) | None => "not confirmed",
    };
    Ok(format!("multi_input: name {name}; {confirmed}"))
}

/// Asks the user's name (id `user_name`) at once, so the question is an
/// `input_required` result of `tools/call`; with the answer, works for a
/// second, so the call that carries it becomes a task.
fn test_tool_with_task() -> Result<String, Error> {
    let answer = Elicitation::new("What is your name?").id("user_name").ask::<NameAnswer>()?;
    sleep(ONE_SECOND);
    Ok(match answer.accepted() {
        Some(NameAnswer { name }) => format!("Hello, {name}!"),
        None => "Hello, stranger!".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_sdk::requested_schema;
    use corral_sdk::testing::{self, HostEvent};
    use corral_sdk::types::{CallError, ElicitRequest};
    use serde_json::{Value, json};

    fn call(name: &str, arguments: Value) -> Result<CallResult, CallError> {
        tools().call(name, &arguments.to_string())
    }

    fn text(result: Result<CallResult, CallError>) -> String {
        match result.expect("the tool answers").content.as_slice() {
            [Content::Text(text)] => text.clone(),
            other => panic!("expected one text item, got {other:?}"),
        }
    }

    fn is_pending(result: &Result<CallResult, CallError>) -> bool {
        matches!(result, Err(CallError::Failed(message)) if message.starts_with("input required"))
    }

    /// The questions asked since the last call.
    fn asked() -> Vec<ElicitRequest> {
        testing::take_events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Elicit(request) => Some(request),
                _ => None,
            })
            .collect()
    }

    fn schema(request: &ElicitRequest) -> Value {
        serde_json::from_str(&request.requested_schema).unwrap()
    }

    #[test]
    fn greet_greets_by_name() {
        assert_eq!(text(call("greet", json!({ "name": "World" }))), "Hello, World!");
    }

    #[test]
    fn slow_compute_with_no_seconds_answers_at_once_without_progress() {
        let started = Instant::now();
        let answer = text(call("slow_compute", json!({ "seconds": 0, "label": "instant" })));
        assert_eq!(answer, "slow_compute instant: done after 0 s");
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(testing::take_events().is_empty());
    }

    #[test]
    fn slow_compute_sleeps_and_reports_progress_each_second() {
        let started = Instant::now();
        let answer = text(call("slow_compute", json!({ "seconds": 1.2, "label": "run" })));
        assert!(started.elapsed() >= Duration::from_millis(1200));
        assert_eq!(answer, "slow_compute run: done after 1.2 s");
        let reports: Vec<_> = testing::take_events()
            .into_iter()
            .map(|event| match event {
                HostEvent::Progress { done, total, message } => (done, total, message.unwrap()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            reports,
            [
                (0.0, Some(1.2), "run: 0/1.2 s".to_owned()),
                (1.0, Some(1.2), "run: 1/1.2 s".to_owned()),
                (1.2, Some(1.2), "run: 1.2/1.2 s".to_owned()),
            ]
        );
    }

    #[test]
    fn slow_compute_schema_bounds_the_seconds_and_requires_both_arguments() {
        let definitions = tools().definitions().unwrap();
        let definition = definitions.iter().find(|d| d.name == "slow_compute").unwrap();
        let schema: Value = serde_json::from_str(&definition.input_schema).unwrap();
        assert_eq!(schema["properties"]["seconds"]["type"], "number");
        assert_eq!(schema["properties"]["seconds"]["minimum"], 0);
        assert_eq!(schema["properties"]["seconds"]["maximum"], 600);
        assert_eq!(schema["properties"]["label"]["type"], "string");
        assert_eq!(schema["required"], json!(["seconds", "label"]));
    }

    #[test]
    fn slow_compute_refuses_seconds_out_of_range() {
        for seconds in [-1.0, 601.0] {
            let result = call("slow_compute", json!({ "seconds": seconds, "label": "x" })).unwrap();
            assert!(result.is_error, "{seconds}");
            let [Content::Text(message)] = result.content.as_slice() else { panic!("one text") };
            assert!(message.starts_with("seconds must be between 0 and 600"), "{message}");
        }
    }

    #[test]
    fn failing_job_is_a_tool_error_after_a_second() {
        let started = Instant::now();
        let result = call("failing_job", json!({})).expect("a result, not a failure");
        assert!(started.elapsed() >= ONE_SECOND);
        assert!(result.is_error);
        assert_eq!(result.content, [Content::Text(FAILING_JOB_ERROR.into())]);
    }

    #[test]
    #[should_panic(expected = "protocol_error_job: deliberate crash")]
    fn protocol_error_job_crashes() {
        let _ = call("protocol_error_job", json!({}));
    }

    #[test]
    fn confirm_delete_asks_then_deletes_on_confirmation() {
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("confirm_delete", json!({ "filename": "a.txt" }))));
        let questions = asked();
        let [question] = questions.as_slice() else { panic!("expected one question") };
        assert_eq!(question.id.as_deref(), Some("confirm_delete"));
        assert_eq!(question.message, "Delete a.txt?");
        assert_eq!(
            schema(question),
            json!({
                "type": "object",
                "properties": { "confirm": { "type": "boolean" } },
                "required": ["confirm"]
            })
        );

        testing::accept(json!({ "confirm": true }));
        assert_eq!(text(call("confirm_delete", json!({ "filename": "a.txt" }))), "Deleted a.txt");
    }

    #[test]
    fn confirm_delete_keeps_the_file_otherwise() {
        testing::accept(json!({ "confirm": false }));
        testing::decline();
        for _ in 0..2 {
            assert_eq!(text(call("confirm_delete", json!({ "filename": "b" }))), "Kept b");
        }
    }

    #[test]
    fn multi_input_asks_both_questions_in_one_round() {
        testing::answer_elicit(Err(AskError::Pending));
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("multi_input", json!({}))));
        let questions = asked();
        let ids: Vec<_> = questions.iter().map(|q| q.id.as_deref().unwrap()).collect();
        assert_eq!(ids, ["multi_input_name", "multi_input_confirm"]);
        assert_eq!(schema(&questions[0])["properties"]["name"]["type"], "string");
        assert_eq!(schema(&questions[1])["properties"]["confirm"]["type"], "boolean");
        for question in &questions {
            // Other properties are allowed, as the suite's answers carry both fields.
            assert_eq!(schema(question).get("additionalProperties"), None);
        }
    }

    #[test]
    fn multi_input_with_one_answer_still_asks_the_other() {
        testing::accept(json!({ "name": "partial-1", "confirm": true }));
        testing::answer_elicit(Err(AskError::Pending));
        assert!(is_pending(&call("multi_input", json!({}))));
        assert_eq!(asked().len(), 2);
    }

    #[test]
    fn multi_input_names_both_answers_given_as_the_suite_gives_them() {
        testing::accept(json!({ "name": "partial-1", "confirm": true }));
        testing::accept(json!({ "name": "partial-2", "confirm": true }));
        assert_eq!(text(call("multi_input", json!({}))), "multi_input: name partial-1; confirmed");
    }

    #[test]
    fn test_tool_with_task_asks_at_once_then_greets() {
        testing::answer_elicit(Err(AskError::Pending));
        let started = Instant::now();
        assert!(is_pending(&call("test_tool_with_task", json!({}))));
        assert!(started.elapsed() < HALF_SECOND, "asked before working");
        let questions = asked();
        let [question] = questions.as_slice() else { panic!("expected one question") };
        assert_eq!(question.id.as_deref(), Some("user_name"));
        assert_eq!(
            schema(question),
            json!({
                "type": "object",
                "properties": { "name": { "type": "string" } },
                "required": ["name"]
            })
        );

        testing::accept(json!({ "name": "Alice" }));
        let started = Instant::now();
        assert_eq!(text(call("test_tool_with_task", json!({}))), "Hello, Alice!");
        assert!(started.elapsed() >= ONE_SECOND);
    }

    #[test]
    fn forms_are_derived_in_the_restricted_shape() {
        for form in [
            requested_schema::<DeleteConfirmation>(),
            requested_schema::<NameAnswer>(),
            requested_schema::<ConfirmAnswer>(),
        ] {
            assert_eq!(form.unwrap()["type"], "object");
        }
    }

    #[test]
    fn every_fixture_is_listed_with_a_description() {
        let definitions = tools().definitions().expect("tools are well defined");
        let names: Vec<_> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "greet",
                "slow_compute",
                "failing_job",
                "protocol_error_job",
                "confirm_delete",
                "multi_input",
                "test_tool_with_task"
            ]
        );
        assert!(definitions.iter().all(|d| !d.description.is_empty()));
    }
}
