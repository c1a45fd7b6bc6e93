//! Resources, prompts, completion and asking the client, over HTTP, in
//! both revisions, against the bundled conformance component (bare names,
//! `test://` URIs).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// A 2026-07-28 request whose client declares `capabilities`.
fn asking(id: i64, method: &str, mut params: Value, capabilities: Value) -> Value {
    params["_meta"] = json!({ "io.modelcontextprotocol/clientCapabilities": capabilities });
    stateless_request(id, method, params)
}

fn result(reply: &HttpReply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = if reply.header("content-type") == Some("text/event-stream") {
        reply.events().pop().expect("a response")
    } else {
        reply.json()
    };
    body.get("result").cloned().unwrap_or_else(|| panic!("no result: {}", reply.body))
}

fn text_of(result: &Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_session_lists_reads_fills_in_and_completes() {
    let addr = shared();
    let session = addr.session();
    let listed = result(&addr.request(&session, 2, "resources/list", json!({})));
    let uris: Vec<&str> =
        listed["resources"].as_array().unwrap().iter().filter_map(|r| r["uri"].as_str()).collect();
    assert!(uris.contains(&"test://static-text"), "{uris:?}");

    let read = result(&addr.request(
        &session,
        3,
        "resources/read",
        json!({ "uri": "test://static-text" }),
    ));
    assert_eq!(read["contents"][0]["text"], "This is the content of the static text resource.");
    assert!(read.get("resultType").is_none(), "2025-11-25 results carry no resultType");

    let templates = result(&addr.request(&session, 4, "resources/templates/list", json!({})));
    assert_eq!(templates["resourceTemplates"][0]["uriTemplate"], "test://template/{id}/data");
    let read = result(&addr.request(
        &session,
        5,
        "resources/read",
        json!({ "uri": "test://template/42/data" }),
    ));
    assert_eq!(read["contents"][0]["uri"], "test://template/42/data");

    let prompts = result(&addr.request(&session, 6, "prompts/list", json!({})));
    assert!(
        prompts["prompts"].as_array().unwrap().iter().any(|p| p["name"] == "test_simple_prompt")
    );
    let prompt = result(&addr.request(
        &session,
        7,
        "prompts/get",
        json!({ "name": "test_prompt_with_arguments", "arguments": { "arg1": "a", "arg2": "b" } }),
    ));
    assert_eq!(prompt["messages"][0]["role"], "user");

    let completion = result(&addr.request(
        &session,
        8,
        "completion/complete",
        json!({ "ref": { "type": "ref/prompt", "name": "test_prompt_with_arguments" },
                "argument": { "name": "arg1", "value": "" } }),
    ));
    assert!(completion["completion"]["values"].is_array(), "{completion}");

    for method in ["resources/subscribe", "resources/unsubscribe"] {
        let reply = addr.request(&session, 9, method, json!({ "uri": "test://watched-resource" }));
        assert_eq!(result(&reply), json!({}));
    }
}

#[test]
fn what_does_not_exist_or_is_missing_is_named() {
    let addr = shared();
    let session = addr.session();
    let reply = addr.request(&session, 2, "resources/read", json!({ "uri": "test://nowhere" }));
    assert_eq!((reply.status, reply.code()), (200, -32602));
    assert_eq!(reply.json()["error"]["data"], json!({ "uri": "test://nowhere" }));

    let reply = addr.request(
        &session,
        3,
        "prompts/get",
        json!({ "name": "test_prompt_with_arguments", "arguments": { "arg2": "b" } }),
    );
    assert_eq!(reply.code(), -32602);
    assert!(reply.body.contains("missing required argument arg1"), "{}", reply.body);
    let reply = addr.request(
        &session,
        4,
        "prompts/get",
        json!({ "name": "test_prompt_with_arguments", "arguments": { "arg1": 1, "arg2": "b" } }),
    );
    assert!(reply.body.contains("\\\"arg1\\\" must be a string"), "{}", reply.body);
    let reply = addr.request(&session, 5, "prompts/get", json!({ "name": "no_such_prompt" }));
    assert_eq!(reply.code(), -32602);
    assert!(reply.body.contains("unknown prompt: no_such_prompt"), "{}", reply.body);

    // 2026-07-28: the same answers, as 400.
    let read = stateless_request(6, "resources/read", json!({ "uri": "test://nowhere" }));
    let reply = addr.stateless(&read, &[]);
    assert_eq!((reply.status, reply.code()), (400, -32602));
    assert_eq!(reply.json()["error"]["data"]["uri"], "test://nowhere");
    // The server still serves.
    let read = stateless_request(7, "resources/read", json!({ "uri": "test://static-text" }));
    let read = result(&addr.stateless(&read, &[]));
    assert_eq!((read["ttlMs"].clone(), read["resultType"].clone()), (json!(0), json!("complete")));
}

#[test]
fn a_question_ends_the_round_and_the_retry_brings_the_answer() {
    let addr = shared();
    let caps = json!({ "elicitation": {} });
    let call = |id, extra: Value| {
        let mut params =
            json!({ "name": "test_input_required_result_elicitation", "arguments": {} });
        for (key, value) in extra.as_object().unwrap() {
            params[key] = value.clone();
        }
        addr.stateless(&asking(id, "tools/call", params, caps.clone()), &[])
    };
    let first = result(&call(1, json!({})));
    assert_eq!(first["resultType"], "input_required");
    let request = &first["inputRequests"]["user_name"];
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["requestedSchema"]["required"], json!(["name"]));
    let state = first["requestState"].as_str().unwrap().to_owned();

    let answer = json!({ "action": "accept", "content": { "name": "Alice" } });
    let done = result(&call(
        2,
        json!({ "inputResponses": { "user_name": answer }, "requestState": state }),
    ));
    assert_eq!(done["resultType"], "complete");
    assert_eq!(text_of(&done), "Hello, Alice!");

    // Content that does not match the requested schema reaches the tool as
    // an invalid answer, which it reports.
    let wrong = json!({ "action": "accept", "content": { "name": 5 } });
    let done = result(&call(3, json!({ "inputResponses": { "user_name": wrong } })));
    assert_eq!(done["isError"], true, "{done}");
    assert!(text_of(&done).contains("does not match the requested schema"), "{done}");

    // A tampered state, a state of another request, malformed responses.
    let tampered = call(4, json!({ "requestState": format!("{state}x") }));
    assert_eq!((tampered.status, tampered.code()), (400, -32602));
    assert!(tampered.body.contains("integrity"), "{}", tampered.body);
    let params = json!({ "name": "test_input_required_result_request_state", "arguments": {},
                         "requestState": state });
    let foreign = addr.stateless(&asking(5, "tools/call", params, caps.clone()), &[]);
    assert_eq!((foreign.status, foreign.code()), (400, -32602));
    assert!(foreign.body.contains("belongs to another request"), "{}", foreign.body);
    for responses in [json!(null), json!({ "user_name": 12345 })] {
        let reply = call(6, json!({ "inputResponses": responses }));
        assert_eq!((reply.status, reply.code()), (400, -32602), "{}", reply.body);
    }
    let metrics = addr.metrics();
    let counted = metric_value(
        &metrics,
        r#"corral_tool_calls_total{tool="test_input_required_result_elicitation",outcome="input_required"}"#,
    );
    assert!(counted >= Some(1.0), "input_required is its own outcome:\n{metrics}");
}

#[test]
fn a_prompt_may_ask_too() {
    let addr = shared();
    let caps = json!({ "elicitation": {} });
    let params = json!({ "name": "test_input_required_result_prompt" });
    let first =
        result(&addr.stateless(&asking(1, "prompts/get", params.clone(), caps.clone()), &[]));
    assert_eq!(first["resultType"], "input_required", "{first}");
    let mut retry = params;
    retry["inputResponses"] =
        json!({ "user_context": { "action": "accept", "content": { "context": "tests" } } });
    retry["requestState"] = first["requestState"].clone();
    let done = result(&addr.stateless(&asking(2, "prompts/get", retry, caps), &[]));
    assert_eq!(done["resultType"], "complete");
    assert!(done["messages"].to_string().contains("tests"), "{done}");
}

#[test]
fn a_capability_the_client_did_not_declare_is_named() {
    let addr = shared();
    let call = stateless_request(1, "tools/call", json!({ "name": "test_missing_capability" }));
    let reply = addr.stateless(&call, &[]);
    assert_eq!((reply.status, reply.code()), (400, -32021), "{}", reply.body);
    assert_eq!(
        reply.json()["error"]["data"],
        json!({ "requiredCapabilities": { "sampling": {} } })
    );

    let session = addr.session();
    let reply =
        addr.request(&session, 2, "tools/call", json!({ "name": "test_missing_capability" }));
    let done = result(&reply);
    assert_eq!(done["isError"], true);
    assert!(text_of(&done).contains("sampling"), "{done}");
}

#[test]
fn a_session_client_is_asked_on_the_call_stream_and_its_answer_resumes_the_tool() {
    let addr = shared();
    let session = addr.session_with(json!({ "elicitation": {} }));
    let call = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": "test_elicitation", "arguments": { "message": "Who are you?" } } });
    let mut stream = post_stream(addr, &session, &call);
    let request = read_events(&mut stream, 1).pop().expect("a request for the client");
    assert_eq!(request["method"], "elicitation/create", "{request}");
    assert_eq!(request["params"]["message"], "Who are you?");
    let answer = json!({ "jsonrpc": "2.0", "id": request["id"], "result":
        { "action": "accept", "content": { "username": "ada", "email": "ada@example.org" } } });
    assert_eq!(addr.post(Some(&session), &answer, &[]).status, 202);
    let response = read_events(&mut stream, 1).pop().expect("the call's response");
    assert_eq!(response["id"], 7);
    let text = text_of(&response["result"]);
    assert!(text.contains("action=accept") && text.contains("ada@example.org"), "{response}");

    // An answer that does not fit the form: the tool is told so.
    let mut stream = post_stream(addr, &session, &call);
    let request = read_events(&mut stream, 1).pop().unwrap();
    let answer = json!({ "jsonrpc": "2.0", "id": request["id"], "result":
        { "action": "accept", "content": { "username": "ada" } } });
    addr.post(Some(&session), &answer, &[]);
    let response = read_events(&mut stream, 1).pop().unwrap();
    assert_eq!(response["result"]["isError"], true, "{response}");
    assert!(text_of(&response["result"]).contains("email"), "{response}");
}

#[test]
fn a_client_that_never_answers_ends_the_call_at_the_input_timeout_and_frees_its_slot() {
    let data = tempfile::tempdir().unwrap();
    let addr = start(conformance_config("input_timeout_ms = 300", data.path()));
    let session = addr.session_with(json!({ "elicitation": {} }));
    let call = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "test_elicitation", "arguments": { "message": "Anyone?" } } });
    let started = Instant::now();
    let mut stream = post_stream(addr, &session, &call);
    let events = read_events(&mut stream, 2);
    assert_eq!(events[0]["method"], "elicitation/create");
    let response = &events[1];
    assert_eq!(response["result"]["isError"], true, "{response}");
    assert!(text_of(&response["result"]).contains("did not answer in time"), "{response}");
    assert!(started.elapsed() < Duration::from_secs(30));
    // A late answer finds nothing waiting, and the server goes on.
    let late =
        json!({ "jsonrpc": "2.0", "id": events[0]["id"], "result": { "action": "decline" } });
    assert_eq!(addr.post(Some(&session), &late, &[]).status, 202);
    let metrics = addr.metrics();
    assert_eq!(metric_value(&metrics, "corral_calls_in_flight "), Some(0.0), "{metrics}");
    let list = addr.request(&session, 4, "tools/list", json!({}));
    assert_eq!(list.status, 200);
}

#[test]
fn a_resource_update_reaches_its_subscribers_in_both_revisions_and_nobody_else() {
    let addr = shared();
    let mut watched =
        listen(addr, 9, json!({ "resourceSubscriptions": ["test://watched-resource"] }));
    let mut other = listen(addr, 10, json!({ "resourceSubscriptions": ["test://static-text"] }));
    assert_eq!(
        read_events(&mut watched, 1)[0]["method"],
        "notifications/subscriptions/acknowledged"
    );
    assert_eq!(read_events(&mut other, 1)[0]["method"], "notifications/subscriptions/acknowledged");
    let session = addr.session();
    let subscribe = addr.request(
        &session,
        2,
        "resources/subscribe",
        json!({ "uri": "test://watched-resource" }),
    );
    assert_eq!(result(&subscribe), json!({}));
    let mut standalone = session_stream(addr, &session);

    let touch =
        stateless_request(3, "tools/call", json!({ "name": "test_update_watched_resource" }));
    let reply = addr.stateless(&touch, &[]);
    assert_eq!(result(&reply)["isError"], false, "{}", reply.body);

    let heard = read_events(&mut watched, 1);
    assert_eq!(heard[0]["method"], "notifications/resources/updated");
    assert_eq!(heard[0]["params"]["uri"], "test://watched-resource");
    assert_eq!(heard[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 9);
    let heard = read_events(&mut standalone, 1);
    assert_eq!(heard[0]["method"], "notifications/resources/updated");
    assert_eq!(heard[0]["params"]["uri"], "test://watched-resource");
    // The stream subscribed to another URI heard nothing: it times out.
    other.get_ref().set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut line = String::new();
    let silent = std::io::BufRead::read_line(&mut other, &mut line);
    assert!(silent.is_err() || !line.contains("resources/updated"), "{line}");
}
