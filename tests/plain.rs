//! Plain components: a component with typed WIT exports and no
//! `corral:mcp` interface is served with one tool per function.
//!
//! The fixture is `tests/plain-tool` (`wit/plain.wit`), built for
//! wasm32-wasip2 by the host's build script: world functions, an interface
//! whose functions cover every WIT type, and an interface with a resource.
//! These tests drive the sandbox directly, so arguments reach the WIT
//! conversion without the registry's schema check in front of it; the
//! served path (`corral call`, `corral serve`) is in `tests/cli.rs` and
//! `tests/http/offers.rs`.

use corral::policy::Policy;
use corral::sandbox::{CallOutcome, LoadedComponent, Sandbox, ToolDef};
use serde_json::{Value, json};

#[path = "guest/mod.rs"]
mod guest;

use guest::{call, is_error, structured, text};

const PLAIN: &str = env!("CORRAL_GUEST_PLAIN");

async fn load_bytes(wasm: Vec<u8>) -> (Sandbox, LoadedComponent) {
    let engine =
        corral::config::EngineConfig { max_instances: 4, no_cache: true, ..Default::default() };
    let sandbox = Sandbox::new(&engine).expect("sandbox");
    let component =
        sandbox.load("plain", wasm, Policy::deny_all()).await.expect("plain component loads");
    (sandbox, component)
}

async fn load() -> (Sandbox, LoadedComponent) {
    load_bytes(std::fs::read(PLAIN).expect("the plain fixture is built")).await
}

fn tool<'a>(c: &'a LoadedComponent, name: &str) -> &'a ToolDef {
    c.tools().iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tool {name}"))
}

fn input(c: &LoadedComponent, name: &str) -> Value {
    serde_json::from_str(&tool(c, name).input_schema).unwrap()
}

fn output(c: &LoadedComponent, name: &str) -> Option<Value> {
    tool(c, name).output_schema.as_ref().map(|s| serde_json::from_str(s).unwrap())
}

fn int(min: Value, max: Value) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

#[tokio::test]
async fn every_function_with_a_json_form_is_a_tool_named_as_documented() {
    let (_, c) = load().await;
    assert_eq!(c.contract(), "plain WIT exports");
    let mut names: Vec<&str> = c.tools().iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "add",
            "greet",
            "handles_count_to",
            "kinds_check_name",
            "kinds_compound",
            "kinds_divide",
            "kinds_move_point",
            "kinds_nothing",
            "kinds_pass_result",
            "kinds_scalars",
        ]
    );
    assert_eq!(
        tool(&c, "kinds_move_point").description,
        "Calls the WIT function `move-point` of the interface `corral-test:plain/kinds@0.1.0`.",
        "without package-docs the description names the function and its interface"
    );
    assert_eq!(
        tool(&c, "add").description,
        "Calls the WIT function `add` of the component's world."
    );
}

#[tokio::test]
async fn resource_functions_are_refused_by_name_and_the_rest_serve() {
    let (sandbox, c) = load().await;
    let refused: Vec<(&str, &str)> =
        c.offers().refused.iter().map(|r| (r.function.as_str(), r.reason.as_str())).collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    let handles = "corral-test:plain/handles@0.1.0";
    assert_eq!(refused[0].0, format!("{handles}#[constructor]counter"));
    assert!(refused[0].1.contains("belongs to the resource \"counter\""), "{}", refused[0].1);
    assert_eq!(refused[1].0, format!("{handles}#[method]counter.next"));
    assert_eq!(refused[2].0, format!("{handles}#make-counter"));
    assert_eq!(
        refused[2].1,
        "it uses a resource handle (it lives in the instance, which ends with the call), which has no JSON form"
    );
    // Its neighbour in the same interface serves.
    let report = call(&sandbox, &c, "handles_count_to", json!({"n": 3})).await;
    assert_eq!(structured(&report), json!({"value": [1, 2, 3]}));
}

#[tokio::test]
async fn scalar_schemas_follow_the_table() {
    let (_, c) = load().await;
    let schema = input(&c, "kinds_scalars");
    let p = &schema["properties"];
    assert_eq!(p["b"], json!({"type": "boolean"}));
    assert_eq!(p["i8v"], int(json!(-128), json!(127)));
    assert_eq!(p["u8v"], int(json!(0), json!(255)));
    assert_eq!(p["i16v"], int(json!(-32768), json!(32767)));
    assert_eq!(p["u16v"], int(json!(0), json!(65535)));
    assert_eq!(p["i32v"], int(json!(i32::MIN), json!(i32::MAX)));
    assert_eq!(p["u32v"], int(json!(0), json!(u32::MAX)));
    assert_eq!(p["i64v"], int(json!(i64::MIN), json!(i64::MAX)));
    assert_eq!(p["u64v"], int(json!(0), json!(u64::MAX)));
    assert_eq!(p["f32v"], json!({"type": "number"}));
    assert_eq!(p["f64v"], json!({"type": "number"}));
    assert_eq!(p["c"], json!({"type": "string", "minLength": 1, "maxLength": 1}));
    assert_eq!(p["s"], json!({"type": "string"}));
    assert_eq!(schema["type"], json!("object"));
    assert_eq!(schema["additionalProperties"], json!(false));
    assert_eq!(schema["required"].as_array().unwrap().len(), 13);
    // A tuple result is wrapped as {"value": [...]}.
    let out = output(&c, "kinds_scalars").unwrap();
    assert_eq!(out["required"], json!(["value"]));
    let tuple = &out["properties"]["value"];
    assert_eq!(tuple["type"], json!("array"));
    assert_eq!((tuple["minItems"].clone(), tuple["maxItems"].clone()), (json!(13), json!(13)));
    assert_eq!(tuple["prefixItems"][11], p["c"]);
}

#[tokio::test]
async fn compound_schemas_follow_the_table() {
    let (_, c) = load().await;
    let schema = input(&c, "kinds_compound");
    let p = &schema["properties"];
    assert_eq!(p["items"], json!({"type": "array", "items": {"type": "string"}}));
    assert_eq!(p["maybe"], json!({"anyOf": [int(json!(0), json!(u32::MAX)), {"type": "null"}]}));
    assert_eq!(
        p["pair"],
        json!({"type": "array", "prefixItems": [{"type": "string"}, int(json!(0), json!(255))], "minItems": 2, "maxItems": 2})
    );
    let coordinate = int(json!(i32::MIN), json!(i32::MAX));
    let point = json!({
        "type": "object",
        "properties": {"x": coordinate, "y": coordinate},
        "required": ["x", "y"],
        "additionalProperties": false,
    });
    assert_eq!(p["at"], point);
    assert_eq!(
        p["shape"],
        json!({"oneOf": [
            {"type": "object", "properties": {"tag": {"const": "circle"}, "value": {"type": "number"}}, "required": ["tag", "value"], "additionalProperties": false},
            {"type": "object", "properties": {"tag": {"const": "square"}, "value": point}, "required": ["tag", "value"], "additionalProperties": false},
            {"type": "object", "properties": {"tag": {"const": "dot"}}, "required": ["tag"], "additionalProperties": false},
        ]})
    );
    assert_eq!(p["color"], json!({"type": "string", "enum": ["red", "green", "light-blue"]}));
    assert_eq!(
        p["perms"],
        json!({"type": "array", "items": {"type": "string", "enum": ["read", "write", "exec"]}, "uniqueItems": true})
    );
    let mut required: Vec<&str> =
        schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    required.sort_unstable();
    assert_eq!(
        required,
        ["at", "color", "items", "pair", "perms", "shape"],
        "an option may be left out"
    );
    // result<T, E> as a parameter.
    let r = &input(&c, "kinds_pass_result")["properties"]["r"];
    assert_eq!(r["oneOf"][0]["required"], json!(["ok"]));
    assert_eq!(r["oneOf"][1]["properties"]["err"], json!({"type": "string"}));
    // A record result is the output schema itself; no result, no schema.
    assert_eq!(output(&c, "kinds_move_point"), Some(point));
    assert_eq!(output(&c, "kinds_nothing"), None);
    assert_eq!(output(&c, "kinds_check_name"), None, "result<_, E> returns nothing on success");
    assert_eq!(
        output(&c, "kinds_divide").unwrap()["properties"]["value"],
        json!({"type": "number"}),
        "result<T, E> is described by T"
    );
}

#[tokio::test]
async fn valid_arguments_round_trip() {
    let (sandbox, c) = load().await;
    let scalars = json!({
        "b": true, "i8v": -128, "u8v": 255, "i16v": -32768, "u16v": 65535,
        "i32v": i32::MIN, "u32v": u32::MAX, "i64v": i64::MIN, "u64v": u64::MAX,
        "f32v": 0.1, "f64v": 1e300, "c": "é", "s": "hi \u{1F600}",
    });
    let report = call(&sandbox, &c, "kinds_scalars", scalars.clone()).await;
    assert_eq!(report.outcome, CallOutcome::Ok, "{}", text(&report));
    let expected: Vec<Value> = [
        "b", "i8v", "u8v", "i16v", "u16v", "i32v", "u32v", "i64v", "u64v", "f32v", "f64v", "c", "s",
    ]
    .iter()
    .map(|k| scalars[k].clone())
    .collect();
    assert_eq!(structured(&report), json!({"value": expected}), "f32 0.1 comes back as 0.1");
    assert_eq!(text(&report), structured(&report).to_string(), "the text is the structured JSON");

    let compound = json!({
        "items": ["a", "b"], "maybe": 7, "pair": ["x", 9], "at": {"x": -1, "y": 2},
        "shape": {"tag": "square", "value": {"x": 3, "y": 4}}, "color": "light-blue", "perms": ["exec", "read"],
    });
    let report = call(&sandbox, &c, "kinds_compound", compound).await;
    assert_eq!(
        structured(&report),
        json!({"value": [["a", "b"], 7, ["x", 9], {"x": -1, "y": 2}, {"tag": "square", "value": {"x": 3, "y": 4}}, "light-blue", ["read", "exec"]]}),
        "flags come back in declaration order"
    );
    let left_out = json!({
        "items": [], "pair": ["", 0], "at": {"x": 0, "y": 0}, "shape": {"tag": "dot"}, "color": "red", "perms": [],
    });
    let report = call(&sandbox, &c, "kinds_compound", left_out).await;
    assert_eq!(structured(&report)["value"][1], Value::Null, "a left-out option is none");

    let report =
        call(&sandbox, &c, "kinds_move_point", json!({"at": {"x": 1, "y": 2}, "dx": 10, "dy": -5}))
            .await;
    assert_eq!(structured(&report), json!({"x": 11, "y": -3}));
    let report = call(&sandbox, &c, "greet", json!({"who": "ann", "shout": null})).await;
    assert_eq!(structured(&report), json!({"value": "hello, ann"}));
    let report = call(&sandbox, &c, "kinds_pass_result", json!({"r": {"ok": 5}})).await;
    assert_eq!(structured(&report), json!({"value": 5}));
    let report = call(&sandbox, &c, "kinds_nothing", json!({})).await;
    assert_eq!((report.outcome, text(&report)), (CallOutcome::Ok, String::new()));
    let report = call(&sandbox, &c, "kinds_check_name", json!({"name": "bob"})).await;
    assert_eq!(report.outcome, CallOutcome::Ok);
}

#[tokio::test]
async fn an_err_result_is_a_tool_error_carrying_the_error_value() {
    let (sandbox, c) = load().await;
    let report = call(&sandbox, &c, "kinds_divide", json!({"a": 1, "b": 0})).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert!(is_error(&report));
    assert_eq!(text(&report), "cannot divide 1 by zero", "a string error as it is");
    let report = call(&sandbox, &c, "kinds_check_name", json!({"name": "a-very-long-name"})).await;
    assert_eq!(report.outcome, CallOutcome::ToolError);
    assert_eq!(text(&report), r#"{"tag":"circle","value":16.0}"#, "any other error as JSON");
    let report = call(&sandbox, &c, "kinds_pass_result", json!({"r": {"err": "no"}})).await;
    assert_eq!((report.outcome, text(&report)), (CallOutcome::ToolError, "no".to_owned()));
}

/// The schema check in front of the sandbox refuses these first when the
/// call comes through the registry; the conversion refuses them on its own
/// too, naming where the value sits.
#[tokio::test]
async fn every_kind_of_invalid_argument_is_refused_naming_the_field() {
    let (sandbox, c) = load().await;
    let point = json!({"x": 0, "y": 0});
    let base = json!({
        "items": [], "pair": ["", 0], "at": point, "shape": {"tag": "dot"}, "color": "red", "perms": [],
    });
    let with = |key: &str, value: Value| {
        let mut args = base.clone();
        args[key] = value;
        args
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("add", json!({"a": 1}), "b: missing"),
        ("add", json!({"a": 1, "b": 2, "c": 3}), "arguments: unknown member \"c\" (expected a, b)"),
        (
            "add",
            json!({"a": 1, "b": 1.5}),
            "b: expected an integer from -2147483648 to 2147483647, got 1.5",
        ),
        (
            "add",
            json!({"a": 1, "b": 4294967296_u64}),
            "b: expected an integer from -2147483648 to 2147483647, got 4294967296",
        ),
        ("add", json!({"a": 1, "b": "2"}), "b: expected an integer"),
        ("add", json!([1, 2]), "arguments must be a JSON object"),
        ("greet", json!({"who": 5}), "who: expected a string, got 5"),
        ("kinds_compound", with("items", json!(["a", 1])), "items[1]: expected a string, got 1"),
        (
            "kinds_compound",
            with("maybe", json!(-1)),
            "maybe: expected an integer from 0 to 4294967295, got -1",
        ),
        (
            "kinds_compound",
            with("pair", json!(["x"])),
            "pair: expected an array of exactly 2 items",
        ),
        (
            "kinds_compound",
            with("pair", json!(["x", 256])),
            "pair[1]: expected an integer from 0 to 255, got 256",
        ),
        ("kinds_compound", with("at", json!({"x": 1})), "at.y: missing"),
        (
            "kinds_compound",
            with("at", json!({"x": 1, "y": 2, "z": 3})),
            "at: unknown member \"z\" (expected x, y)",
        ),
        (
            "kinds_compound",
            with("shape", json!({"tag": "hex"})),
            "shape: unknown case \"hex\" (one of circle, square, dot)",
        ),
        (
            "kinds_compound",
            with("shape", json!({"tag": "circle"})),
            "shape: case \"circle\" needs a \"value\"",
        ),
        (
            "kinds_compound",
            with("shape", json!({"tag": "dot", "value": 1})),
            "shape: case \"dot\" takes no \"value\"",
        ),
        (
            "kinds_compound",
            with("shape", json!({"tag": "square", "value": {"x": "1", "y": 0}})),
            "shape.value.x: expected an integer",
        ),
        ("kinds_compound", with("shape", json!("dot")), "shape: expected an object with a \"tag\""),
        (
            "kinds_compound",
            with("color", json!("blue")),
            "color: unknown case \"blue\" (one of red, green, light-blue)",
        ),
        (
            "kinds_compound",
            with("perms", json!(["read", "read"])),
            "perms[1]: flag \"read\" given twice",
        ),
        (
            "kinds_compound",
            with("perms", json!(["sudo"])),
            "perms[0]: expected one of read, write, exec, got \"sudo\"",
        ),
        (
            "kinds_pass_result",
            json!({"r": {"ok": 1, "err": "x"}}),
            "r: expected an object with exactly one of \"ok\" or \"err\"",
        ),
        ("kinds_pass_result", json!({"r": {"err": 5}}), "r.err: expected a string, got 5"),
    ];
    for (tool, args, expected) in cases {
        let report = call(&sandbox, &c, tool, args.clone()).await;
        assert_eq!(
            report.outcome,
            CallOutcome::InvalidArguments,
            "{tool} {args}: {}",
            text(&report)
        );
        assert!(
            text(&report).contains(expected),
            "{tool} {args}: expected {expected:?} in {:?}",
            text(&report)
        );
    }
    let report = call(
        &sandbox,
        &c,
        "kinds_scalars",
        json!({
            "b": true, "i8v": 0, "u8v": 0, "i16v": 0, "u16v": 0, "i32v": 0, "u32v": 0, "i64v": 0,
            "u64v": 0, "f32v": 0, "f64v": 0, "c": "ab", "s": "",
        }),
    )
    .await;
    assert!(
        text(&report).contains("c: expected exactly one character, got 2 characters"),
        "{}",
        text(&report)
    );
    // Still serving after all of that.
    let report = call(&sandbox, &c, "add", json!({"a": 2, "b": 40})).await;
    assert_eq!(structured(&report), json!({"value": 42}));
}

/// Arguments that are not JSON, or JSON of the wrong shape all the way
/// down, end as `invalid_arguments`, never a panic.
#[tokio::test]
async fn no_json_makes_the_conversion_panic() {
    let (sandbox, c) = load().await;
    let odd = [
        "",
        "nul",
        "{",
        "[]",
        "\"x\"",
        "1e999",
        "{\"a\":1e999,\"b\":0}",
        "{\"a\":-0.0,\"b\":-1e-300}",
        "{\"a\":18446744073709551616,\"b\":1}",
        "{\"a\":1,\"b\":1,\"a\":2}",
        "null",
    ];
    for tool in c.tools().iter().map(|t| t.name.clone()) {
        for args in odd {
            let report = sandbox.call(&c, &tool, args, None).await;
            assert!(
                matches!(
                    report.outcome,
                    CallOutcome::InvalidArguments | CallOutcome::Ok | CallOutcome::ToolError
                ),
                "{tool} {args:?}: {:?} {}",
                report.outcome,
                text(&report)
            );
        }
        let deep = format!("{{\"r\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        let report = sandbox.call(&c, &tool, &deep, None).await;
        assert_ne!(report.outcome, CallOutcome::Trap, "{tool}: {}", text(&report));
    }
}

/// A component that carries its WIT docs (a `package-docs` section, as
/// `wit-component` writes it) has them as its tools' descriptions.
#[tokio::test]
async fn descriptions_come_from_package_docs_when_the_component_has_them() {
    let mut wasm = std::fs::read(PLAIN).unwrap();
    let docs = json!({
        "worlds": {"plain": {"funcs": {"add": {"docs": "Adds two numbers."}}}},
        "interfaces": {"kinds": {"funcs": {"divide": "Divides, or says why not."}}},
    });
    let mut payload = vec![1u8];
    payload.extend(docs.to_string().into_bytes());
    append_custom_section(&mut wasm, "package-docs", &payload);
    let (_, c) = load_bytes(wasm).await;
    assert_eq!(tool(&c, "add").description, "Adds two numbers.");
    assert_eq!(tool(&c, "kinds_divide").description, "Divides, or says why not.");
    assert!(
        tool(&c, "greet").description.starts_with("Calls the WIT function"),
        "no docs: generated"
    );
}

fn append_custom_section(wasm: &mut Vec<u8>, name: &str, payload: &[u8]) {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { byte } else { byte | 0x80 });
            if n == 0 {
                break;
            }
        }
    }
    let mut body = Vec::new();
    leb(name.len(), &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    wasm.push(0);
    leb(body.len(), wasm);
    wasm.extend(body);
}
